"""The seed's table: one backend direct against one and three backends behind nginx, side by side, and the
limit on a shared machine: the same three backends driven directly, in parallel (one load generator each).

Each backend has a fixed capacity (bench/scenario.py `Capacity`), so three can serve at most three times what
one serves; the clients per backend are the seed's 100. The configurations take turns, round after round,
so a disturbance of the machine hits all of them alike; each configuration's median round is reported.
Three behind nginx run with the default algorithm and with the other candidate for a default.
Two capacities: the seed's 1,000 req/s per backend, and half of it, which leaves a small machine CPU to spare
(at the seed's, three Python backends, nginx and the load generator can need more CPU than two cores have).
With wrk (timed runs) at both, and with the description's own commands, `hey -n 10000 -c 100` per 100
clients, at the seed's capacity.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.rig import INFO, BenchRig, Measurement
from bench.scenario import Capacity, Profile, ScenarioResult, Target
from components.config import BalancerConfig

NAME = "scaling"
CLIENTS_PER_BACKEND = 100
EFFICIENCY_TARGET = 0.97
P99_VS_PARALLEL_TARGET = 1.1
CAPACITIES = (Capacity(concurrency=10, service_ms=10), Capacity(concurrency=10, service_ms=20))
"""Per backend: the seed's 1,000 req/s first, then 500 req/s."""

SEED_TABLE = {
    "1 backend": {"clients": 100, "rps": 1000, "p50_ms": 50, "p99_ms": 200},
    "3 backends (load balanced)": {"clients": 300, "rps": 2800, "p50_ms": 45, "p99_ms": 180},
}
"""The system description's "Performance" section, for comparison."""

DEFAULT_ALGORITHM = BalancerConfig().algorithm
OTHER_ALGORITHM = "least_conn" if DEFAULT_ALGORITHM != "least_conn" else "round_robin"
DIRECT = "1 backend direct"
ONE_BEHIND_NGINX = "1 backend behind nginx"
THREE_BEHIND_NGINX = f"3 backends behind nginx, {DEFAULT_ALGORITHM} (default)"
THREE_BEHIND_NGINX_OTHER = f"3 backends behind nginx, {OTHER_ALGORITHM}"
PARALLEL_DIRECT = "3 backends direct, in parallel"
WRK, HEY = "wrk", "hey"


@dataclass(frozen=True)
class Setup:
    """One configuration: the URLs loaded at once (one load generator each, `CLIENTS_PER_BACKEND` clients)."""

    name: str
    urls: list[str]
    backends: int

    @property
    def clients(self) -> int:
        return CLIENTS_PER_BACKEND * self.backends

    @property
    def clients_per_url(self) -> int:
        return self.clients // len(self.urls)


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    one = rig.start_balancer(rig.fleet.servers[:1])
    three = rig.start_balancer(rig.fleet.servers)
    three_other = rig.start_balancer(rig.fleet.servers, BalancerConfig(algorithm=OTHER_ALGORITHM))
    setups = [
        Setup(DIRECT, [rig.fleet.url(0, INFO)], 1),
        Setup(ONE_BEHIND_NGINX, [one.url(INFO)], 1),
        Setup(THREE_BEHIND_NGINX, [three.url(INFO)], 3),
        Setup(THREE_BEHIND_NGINX_OTHER, [three_other.url(INFO)], 3),
        Setup(PARALLEL_DIRECT, [rig.fleet.url(index, INFO) for index in range(3)], 3),
    ]
    by_capacity: list[dict[str, Any]] = []
    targets: list[Target] = []
    cpu: list[dict[str, Any]] = []
    for number, capacity in enumerate(CAPACITIES[:profile.scaling_capacities]):
        tools = [WRK, HEY] if number == 0 and profile.hey_requests_per_100_clients else [WRK]
        with rig.backends_of(capacity):
            for tool in tools:
                measured = _side_by_side(rig, profile, capacity, tool, setups, cpu)
                by_capacity.append(measured)
                targets += _targets(capacity, tool, measured)
    seed = by_capacity[0]
    return ScenarioResult(
        name=NAME,
        title="1 vs 3 backends of fixed capacity",
        description=__doc__ or "",
        parameters={
            "capacities": [capacity.as_json() for capacity in CAPACITIES[:profile.scaling_capacities]],
            "clients_per_backend": CLIENTS_PER_BACKEND,
            "seconds_per_run": profile.load_seconds,
            "hey_requests_per_100_clients": profile.hey_requests_per_100_clients,
            "rounds": profile.rounds,
            "load_generators": "wrk: 1 thread, keep-alive connections, timed; hey: -n N -c C, keep-alive",
        },
        measurements={"seed": SEED_TABLE, "by_capacity": by_capacity},
        targets=targets,
        cpu=cpu,
        notes=[measured["note"] for measured in by_capacity],
        summary={
            "scaling_efficiency": seed["efficiency"],
            "nginx_vs_parallel_direct_rps": seed["summary"][THREE_BEHIND_NGINX]["rps_vs_parallel_direct"],
            "nginx_vs_parallel_direct_p99": seed["summary"][THREE_BEHIND_NGINX]["p99_vs_parallel_direct"],
        },
    )


def _targets(capacity: Capacity, tool: str, measured: dict[str, Any]) -> list[Target]:
    three = measured["summary"][THREE_BEHIND_NGINX]
    label = f"at {capacity.label}, {tool}"
    targets = [] if tool == HEY else [Target.at_least(
        f"scaling efficiency at {capacity.label}: 3 behind nginx / (3 x 1 direct)", EFFICIENCY_TARGET,
        measured["efficiency"],
    )]
    return targets + [
        Target.at_least(f"throughput of 3 behind nginx / 3 direct in parallel, {label}", EFFICIENCY_TARGET,
                        three["rps_vs_parallel_direct"]),
        Target.at_most(f"p99 of 3 behind nginx / 3 direct in parallel, {label}", P99_VS_PARALLEL_TARGET,
                       three["p99_vs_parallel_direct"]),
    ]


def _side_by_side(rig: BenchRig, profile: Profile, capacity: Capacity, tool: str, setups: list[Setup],
                  cpu: list[dict[str, Any]]) -> dict[str, Any]:
    """Interleaved rounds of every setup at `capacity` with `tool`: the runs, each setup's median, the ratios."""
    if tool == WRK:
        for setup in setups:
            rig.warm_up(setup.urls[0], setup.clients_per_url, profile.warm_up_seconds)
    hey_requests = profile.hey_requests_per_100_clients * CLIENTS_PER_BACKEND // 100

    def measure(label: str, setup: Setup) -> Measurement:
        if tool == WRK:
            return rig.measure(label, setup.urls, setup.clients_per_url, profile.load_seconds)
        per_url = hey_requests * setup.backends // len(setup.urls)
        return rig.measure_hey(label, setup.urls, setup.clients_per_url, requests=per_url)

    runs: dict[str, list[dict[str, Any]]] = {setup.name: [] for setup in setups}
    three_behind_nginx_cpu: list[dict[str, Any]] = []
    for round_number in range(1, profile.rounds + 1):
        for setup in setups if round_number % 2 else list(reversed(setups)):
            measured = measure(f"{capacity.label}, {tool}: {setup.name}, round {round_number}", setup)
            cpu.append(measured.cpu)
            if setup.name == THREE_BEHIND_NGINX:
                three_behind_nginx_cpu.append(measured.cpu)
            runs[setup.name].append({"round": round_number, **measured.as_json()})
    summary = {setup.name: _median_run(setup, runs[setup.name]) for setup in setups}
    direct, parallel = summary[DIRECT], summary[PARALLEL_DIRECT]
    for entry in summary.values():
        entry["speedup_vs_direct"] = round(entry["rps"] / direct["rps"], 3)
        entry["rps_vs_parallel_direct"] = round(entry["rps"] / parallel["rps"], 3) if entry["backends"] == 3 else None
        entry["p99_vs_parallel_direct"] = round(entry["p99_ms"] / parallel["p99_ms"], 3) if entry["backends"] == 3 else None
        # What a request really held a slot for: the service time plus the backend's own overhead.
        entry["effective_service_ms"] = round(1000 * capacity.concurrency * entry["backends"] / entry["rps"], 2)
    efficiency = round(summary[THREE_BEHIND_NGINX]["rps"] / (3 * direct["rps"]), 3)
    busy = [usage["machine_busy_percent"] for usage in three_behind_nginx_cpu]
    saturated = sum(usage["saturated"] for usage in three_behind_nginx_cpu)
    three, other = summary[THREE_BEHIND_NGINX], summary[THREE_BEHIND_NGINX_OTHER]
    note = (
        f"At {capacity.label}, {tool}, {THREE_BEHIND_NGINX}: the machine was busy {statistics.median(busy):.0f}% of "
        f"{three_behind_nginx_cpu[0]['capacity_percent']}% (median over the rounds; {saturated} of {len(busy)} runs "
        f"saturated). Against the same three backends driven directly in parallel: {three['rps_vs_parallel_direct']:g}x "
        f"the throughput, {three['p99_vs_parallel_direct']:g}x the p99 ({OTHER_ALGORITHM}: "
        f"{other['rps_vs_parallel_direct']:g}x and {other['p99_vs_parallel_direct']:g}x). A request held a backend "
        f"slot for {direct['effective_service_ms']:g} ms with one backend direct, {parallel['effective_service_ms']:g} "
        f"ms with three direct in parallel and {three['effective_service_ms']:g} ms with three behind nginx (service "
        f"time {capacity.service_ms:g} ms): the backends' own overhead, which grows as they compete for the cores, "
        "is what makes the capacity less than nominal."
    )
    return {"capacity": capacity.as_json(), "tool": tool, "summary": summary, "efficiency": efficiency,
            "runs": runs, "note": note}


def _median_run(setup: Setup, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The configuration's median throughput and latencies over its rounds."""
    return {
        "configuration": setup.name,
        "backends": setup.backends,
        "clients": setup.clients,
        "rps": round(statistics.median(result["rps"] for result in results), 1),
        "p50_ms": round(statistics.median(result["latency_ms"]["p50"] for result in results), 3),
        "p99_ms": round(statistics.median(result["latency_ms"]["p99"] for result in results), 3),
        "new_backend_connections_per_100_requests": statistics.median(
            result["new_backend_connections_per_100_requests"] for result in results
        ),
        "failed": sum(result["failed"] for result in results),
    }
