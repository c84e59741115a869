"""The system under test: Redis, three fixed-capacity reference backends and the nginx balancers in front of them.

It reuses the live suite's topology (tests/support/topology.py): the same backends on 127.0.0.2-4 and the same
nginx.conf, rendered from a `BalancerConfig` by nginx_conf/render.py. Leaving the `with` block stops every
process it started, also after an error.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.machine import CpuMeter, PidSource, with_children
from bench.scenario import Capacity
from bench.hey import HeyLoad
from bench.load import LoadResult, merged
from bench.wrk import WrkLoad
from components.config import BalancerConfig
from nginx_conf.render import UpstreamServer
from tests.support.topology import Balancer, BackendFleet
from tests.support.processes import BackendProcess, ManagedProcess, running_backend, running_redis

INFO = "/api/agents/info"
LOAD_GROUP = "wrk / hey"
BENCH_GROUP = "bench (python)"
"""This process in the CPU table: the WebSocket clients live here."""


@dataclass(frozen=True)
class Measurement:
    """One timed run: what the load generator saw, the CPU per process group, new TCP connections at the backends."""

    load: LoadResult
    cpu: dict[str, Any]
    backend_connections_accepted: int

    @property
    def new_connections_per_100_requests(self) -> float:
        return 100 * self.backend_connections_accepted / max(self.load.requests, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.load.as_json(),
            "backend_connections_accepted": self.backend_connections_accepted,
            "new_backend_connections_per_100_requests": round(self.new_connections_per_100_requests, 3),
        }


class BenchRig:
    """Everything a scenario runs against; balancers and extra backends started through it stop with it."""

    def __init__(self, work_dir: Path, capacity: Capacity):
        self.work_dir = work_dir
        self.capacity = capacity
        self._stack = contextlib.ExitStack()
        self._balancers: list[Balancer] = []
        self._extra_backends: list[BackendProcess] = []
        self._numbers = itertools.count(1)
        try:
            self.redis = self._stack.enter_context(running_redis(work_dir))
            self.fleet = BackendFleet(work_dir, self.redis.url, env=capacity.env)
            self._capacities = [capacity] * len(self.fleet.processes)
            self._stack.callback(self.fleet.stop_all)
            self.fleet.start_all()
        except BaseException:
            self._stack.close()
            raise

    def __enter__(self) -> BenchRig:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._stack.close()

    def start_balancer(self, servers: Sequence[UpstreamServer], config: BalancerConfig | None = None) -> Balancer:
        """nginx over `servers`, with the stack's default balancer config unless `config` says otherwise."""
        balancer = Balancer(self.work_dir / f"nginx-{next(self._numbers)}", config or BalancerConfig(), servers)
        self._stack.callback(balancer.process.stop)
        balancer.process.start()
        self._balancers.append(balancer)
        return balancer

    @contextlib.contextmanager
    def backends_of(self, *capacities: Capacity) -> Iterator[None]:
        """The fleet with one capacity for every replica, or one each, for the block, and with the rig's own
        capacity after it; only replicas whose capacity changes are restarted."""
        replicas = len(self.fleet.processes)
        self._restart_fleet(capacities * replicas if len(capacities) == 1 else capacities)
        try:
            yield
        finally:
            self._restart_fleet([self.capacity] * replicas)

    def _restart_fleet(self, capacities: Sequence[Capacity]) -> None:
        assert len(capacities) == len(self._capacities), f"{len(capacities)} capacities for {len(self._capacities)} replicas"
        changed = [index for index, capacity in enumerate(capacities) if capacity != self._capacities[index]]

        def restart(index: int) -> None:
            self.fleet.stop(index)
            self.fleet.start(index, **capacities[index].env)
            self._capacities[index] = capacities[index]

        with ThreadPoolExecutor() as pool:
            list(pool.map(restart, changed))

    def start_backend(self, instance_id: str, host: str, env: Mapping[str, str]) -> BackendProcess:
        """One more backend outside the fleet (e.g. without the fixed capacity), stopped with the rig."""
        backend = self._stack.enter_context(running_backend(instance_id, self.work_dir, host=host, env=env))
        self._extra_backends.append(backend)
        return backend

    def load(self, url: str, connections: int, source_networks: int = 0, think_ms: float | None = None) -> WrkLoad:
        """A wrk load on `url` until its `stop()`, its output in the work directory (see `WrkLoad`)."""
        return WrkLoad(url, connections, self.work_dir / f"wrk-{next(self._numbers)}.log", source_networks, think_ms)

    def warm_up(self, url: str, connections: int, seconds: float, source_networks: int = 0) -> None:
        """Load that opens the balancer's upstream pools and wakes every process up; not measured."""
        with self.load(url, connections, source_networks) as load:
            time.sleep(seconds)
            load.stop()

    def measure(self, label: str, urls: Sequence[str], connections: int, seconds: float,
                source_networks: int = 0, think_ms: float | None = None) -> Measurement:
        """`seconds` of wrk load, one wrk with `connections` per URL, all at once (merged into one result), with the
        CPU every process used and the TCP connections the backends accepted meanwhile (through nginx: new
        upstream connections; direct: wrk's own). `source_networks`, `think_ms`: see `WrkLoad`."""
        loads = [self.load(url, connections, source_networks, think_ms) for url in urls]

        def run() -> list[LoadResult]:
            with contextlib.ExitStack() as stack:
                for load in loads:
                    stack.enter_context(load)
                time.sleep(seconds)
                return [load.stop() for load in loads]

        return self._measured(label, [load.pids for load in loads], run)

    def measure_hey(self, label: str, urls: Sequence[str], workers: int, requests: int | None = None,
                    seconds: float | None = None, rate_per_worker: float | None = None) -> Measurement:
        """Like `measure`, with one hey per URL (`-c workers`, `-n requests` or `-z seconds`, `-q rate`)."""
        loads = [HeyLoad(url, workers, self.work_dir / f"hey-{next(self._numbers)}.csv", requests, seconds,
                         rate_per_worker) for url in urls]

        def run() -> list[LoadResult]:
            for load in loads:
                load.start()
            return [load.finish() for load in loads]

        return self._measured(label, [load.pids for load in loads], run)

    def _measured(self, label: str, generators: list[PidSource], run: Callable[[], list[LoadResult]]) -> Measurement:
        results: list[tuple[list[LoadResult], dict[str, Any]]] = []

        def timed_run() -> None:
            meter = CpuMeter(label, self.cpu_groups(lambda: [pid for pids in generators for pid in pids()]))
            with meter:
                loads = run()
            results.append((loads, meter.usage))

        accepted = self.fleet.connections_accepted_during(timed_run)
        loads, cpu = results[0]
        return Measurement(merged(loads) if len(loads) > 1 else loads[0], cpu, accepted)

    def cpu_groups(self, load_generator: PidSource | None = None) -> dict[str, PidSource]:
        """The process groups whose CPU a run reports: load generator, nginx, each backend, Redis, this process."""
        groups: dict[str, PidSource] = {}
        if load_generator is not None:
            groups[LOAD_GROUP] = load_generator
        groups["nginx"] = lambda: [pid for balancer in self._balancers for pid in _pids_of(balancer.process)]
        for index, backend in enumerate(self.fleet.processes):
            groups[backend.instance_id] = lambda index=index: _pids_of(self.fleet.processes[index])
        for backend in self._extra_backends:
            groups[backend.instance_id] = lambda backend=backend: _pids_of(backend)
        groups["redis"] = lambda: _pids_of(self.redis)
        groups[BENCH_GROUP] = lambda: [os.getpid()]
        return groups


def _pids_of(process: ManagedProcess) -> list[int]:
    return with_children(process.pid) if process.alive() else []
