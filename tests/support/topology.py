"""The system under test: three reference backends on 127.0.0.2-4 sharing one Redis, and nginx in front of them."""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from components.config import BalancerConfig
from components.nginx_settings import nginx_settings
from nginx_conf.render import NginxRuntime, UpstreamServer, render_nginx_conf
from tests.support.nginx import NginxProcess, nginx_version
from tests.support.processes import LOOPBACK, BackendProcess, free_port, wait_until

BACKEND_HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
RELOAD_TIMEOUT_SECONDS = 30.0


class BackendFleet:
    """The replicas, addressed by index; a test may kill, stop and start any of them (same host and port)."""

    def __init__(self, work_dir: Path, redis_url: str, env: Mapping[str, str] | None = None):
        """`env` adds to (or overrides) every replica's environment, e.g. a fixed capacity for benchmarks."""
        self._work_dir = work_dir
        # DRAIN_SECONDS: a stop goes through the drain window (readiness 503, still serving) the image uses too.
        self._env = {"REDIS_URL": redis_url, "ACCESS_LOG": "0", "DRAIN_SECONDS": "1", **(env or {})}
        self.processes = [
            BackendProcess(f"backend-{number}", work_dir, host, env=self._env)
            for number, host in enumerate(BACKEND_HOSTS, start=1)
        ]

    @property
    def instances(self) -> list[str]:
        return [backend.instance_id for backend in self.processes]

    @property
    def servers(self) -> list[UpstreamServer]:
        return [UpstreamServer(backend.host, backend.port) for backend in self.processes]

    def url(self, index: int, path: str) -> str:
        """A URL on one replica directly, bypassing nginx."""
        return self.processes[index].base_url + path

    def start_all(self) -> None:
        """Starts every replica at once and returns when all are ready."""
        with ThreadPoolExecutor() as pool:
            list(pool.map(BackendProcess.start, self.processes))

    def stop_all(self) -> None:
        """Ends every replica at once, also those a test left stopped or killed. SIGKILL, not a drain: nothing is
        left to check here (the drain has its own tests), and a drain costs DRAIN_SECONDS per fleet."""
        with ThreadPoolExecutor() as pool:
            list(pool.map(lambda process: process.stop(signal.SIGKILL), self.processes))

    def kill(self, index: int) -> None:
        """SIGKILL: the replica vanishes mid-request, as in a crash."""
        self.processes[index].stop(signal.SIGKILL)

    def stop(self, index: int) -> None:
        """SIGTERM and wait for the exit: the replica drains and shuts down gracefully."""
        status = self.processes[index].stop(signal.SIGTERM)
        assert status == 0, f"{self.processes[index].name} exited with {status} after SIGTERM, expected 0"

    def start(self, index: int, **extra_env: str) -> None:
        """A fresh process for replica `index` on its old address, with `extra_env` on top; returns once ready."""
        old = self.processes[index]
        assert not old.alive(), f"{old.name} is still running"
        new = BackendProcess(old.instance_id, self._work_dir, old.host, old.port, env={**self._env, **extra_env})
        self.processes[index] = new
        new.start()

    def restart(self, index: int, **extra_env: str) -> None:
        self.stop(index)
        self.start(index, **extra_env)

    def connections_accepted_during(self, action: Callable[[], object]) -> int:
        """New TCP connections the replicas accepted while `action` ran (the counting's own ones left out)."""
        before = self._connections_accepted()
        action()
        # The second count opens one connection per replica, which it already includes.
        return self._connections_accepted() - before - len(self.processes)

    def _connections_accepted(self) -> int:
        total = 0
        for backend in self.processes:
            status, info = backend.get("/api/agents/info")
            assert status == 200, f"{backend.name}: GET /api/agents/info answered {status}: {info}"
            total += info["connections_accepted"]
        return total

    def assert_all_ready(self) -> None:
        for backend in self.processes:
            backend.check_alive()
            status, body = backend.get("/health/ready")
            assert status == 200, f"{backend.name} is not ready: {status} {body}"


class Balancer:
    """A real nginx running the config rendered from a `BalancerConfig`, on loopback, in its own directory."""

    def __init__(self, directory: Path, config: BalancerConfig, servers: Sequence[UpstreamServer],
                 listen_address: str = LOOPBACK, internal_networks: Sequence[str] = ()):
        """`internal_networks`: besides loopback, who may read /nginx_status and /metrics (the stack's network)."""
        self._runtime = replace(
            NginxRuntime.for_directory(directory, nginx_version()),
            listen_address=listen_address,
            internal_networks=tuple(internal_networks),
        )
        # A free port of our own, whatever port the config names.
        self.port = free_port(listen_address)
        self.host = LOOPBACK if listen_address == "0.0.0.0" else listen_address
        self.process = NginxProcess(self._render(config, servers), directory, self.port, self.host)

    def _render(self, config: BalancerConfig, servers: Sequence[UpstreamServer]) -> str:
        return render_nginx_conf(replace(nginx_settings(config), port=self.port), servers, self._runtime)

    def url(self, path: str) -> str:
        return self.process.url(path)

    def ws_url(self, path: str) -> str:
        return f"ws://{self.host}:{self.port}{path}"

    def reload(self, config: BalancerConfig, servers: Sequence[UpstreamServer]) -> None:
        """Graceful reload (SIGHUP); returns once every worker of the old config has finished its requests and
        exited, so from then on every request is served by the new config."""
        old_workers = self._workers()
        self.process.reload(self._render(config, servers))
        wait_until(
            lambda: not old_workers & self._workers(), RELOAD_TIMEOUT_SECONDS, f"{self.process.name}: old workers to exit"
        )

    def _workers(self) -> set[int]:
        """The master's child processes (with no cache configured, only its workers)."""
        master = self.process.pid
        return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


class StartBalancer(Protocol):
    """The `start_balancer` fixture: nginx for `config` over the fleet (or `servers`), stopped at teardown."""

    def __call__(
        self,
        config: BalancerConfig,
        servers: Sequence[UpstreamServer] | None = None,
        listen_address: str = LOOPBACK,
        internal_networks: Sequence[str] = (),
    ) -> Balancer: ...
