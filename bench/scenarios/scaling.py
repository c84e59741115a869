"""The seed's table: one backend direct against one and three backends behind nginx, side by side.

Each backend has a fixed capacity (bench/scenario.py `Capacity`), so three can serve at most three times what
one serves; the clients per backend are the seed's 100. The configurations take turns, round after round,
so a disturbance of the machine hits all of them alike; each configuration's median round is reported.
Two capacities: the seed's 1,000 req/s per backend, and half of it, which leaves a small machine CPU to spare
(at the seed's, three Python backends, nginx and wrk can need more CPU than two cores have).
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.rig import INFO, BenchRig
from bench.scenario import Capacity, Profile, ScenarioResult, Target

NAME = "scaling"
CLIENTS_PER_BACKEND = 100
EFFICIENCY_TARGET = 0.97
CAPACITIES = (Capacity(concurrency=10, service_ms=10), Capacity(concurrency=10, service_ms=20))
"""Per backend: the seed's 1,000 req/s first, then 500 req/s."""

SEED_TABLE = {
    "1 backend": {"clients": 100, "rps": 1000, "p50_ms": 50, "p99_ms": 200},
    "3 backends (load balanced)": {"clients": 300, "rps": 2800, "p50_ms": 45, "p99_ms": 180},
}
"""The system description's "Performance" section, for comparison."""

DIRECT = "1 backend direct"
ONE_BEHIND_NGINX = "1 backend behind nginx"
THREE_BEHIND_NGINX = "3 backends behind nginx"


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    one = rig.start_balancer(rig.fleet.servers[:1])
    three = rig.start_balancer(rig.fleet.servers)
    setups = [
        (DIRECT, rig.fleet.url(0, INFO), 1),
        (ONE_BEHIND_NGINX, one.url(INFO), 1),
        (THREE_BEHIND_NGINX, three.url(INFO), 3),
    ]
    by_capacity: list[dict[str, Any]] = []
    targets: list[Target] = []
    cpu: list[dict[str, Any]] = []
    for capacity in CAPACITIES:
        with rig.backends_of(capacity):
            measured = _side_by_side(rig, profile, capacity, setups, cpu)
        by_capacity.append(measured)
        targets.append(Target.at_least(
            f"scaling efficiency at {capacity.label}: 3 behind nginx / (3 x 1 direct)", EFFICIENCY_TARGET,
            measured["efficiency"],
        ))
    return ScenarioResult(
        name=NAME,
        title="1 vs 3 backends of fixed capacity",
        description=__doc__ or "",
        parameters={
            "capacities": [capacity.as_json() for capacity in CAPACITIES],
            "clients_per_backend": CLIENTS_PER_BACKEND,
            "seconds_per_run": profile.load_seconds,
            "rounds": profile.rounds,
            "load_generator": "wrk, 1 thread, keep-alive connections",
        },
        measurements={"seed": SEED_TABLE, "by_capacity": by_capacity},
        targets=targets,
        cpu=cpu,
        notes=[measured["note"] for measured in by_capacity],
    )


def _side_by_side(rig: BenchRig, profile: Profile, capacity: Capacity, setups: list[tuple[str, str, int]],
                  cpu: list[dict[str, Any]]) -> dict[str, Any]:
    """Interleaved rounds of every setup at `capacity`: the runs, each setup's median, the efficiency."""
    for _, url, backends in setups:
        rig.warm_up(url, CLIENTS_PER_BACKEND * backends, profile.warm_up_seconds)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in setups}
    three_behind_nginx_cpu: list[dict[str, Any]] = []
    for round_number in range(1, profile.rounds + 1):
        ordered = setups if round_number % 2 else list(reversed(setups))
        for name, url, backends in ordered:
            measured = rig.measure(f"{capacity.label}: {name}, round {round_number}", url,
                                   CLIENTS_PER_BACKEND * backends, profile.load_seconds)
            cpu.append(measured.cpu)
            if name == THREE_BEHIND_NGINX:
                three_behind_nginx_cpu.append(measured.cpu)
            runs[name].append({"round": round_number, **measured.as_json()})
    summary = {name: _median_run(name, runs[name], backends) for name, _, backends in setups}
    direct_rps = summary[DIRECT]["rps"]
    for entry in summary.values():
        entry["speedup_vs_direct"] = round(entry["rps"] / direct_rps, 3)
        # What a request really held a slot for: the service time plus the backend's own overhead.
        entry["effective_service_ms"] = round(1000 * capacity.concurrency * entry["backends"] / entry["rps"], 2)
    efficiency = round(summary[THREE_BEHIND_NGINX]["rps"] / (3 * direct_rps), 3)
    busy = [usage["machine_busy_percent"] for usage in three_behind_nginx_cpu]
    saturated = sum(usage["saturated"] for usage in three_behind_nginx_cpu)
    note = (
        f"At {capacity.label}, {THREE_BEHIND_NGINX}: the machine was busy {statistics.median(busy):.0f}% of "
        f"{three_behind_nginx_cpu[0]['capacity_percent']}% (median over the rounds; {saturated} of {len(busy)} runs "
        f"saturated). A request held a backend slot for {summary[DIRECT]['effective_service_ms']:g} ms with one "
        f"backend direct and {summary[THREE_BEHIND_NGINX]['effective_service_ms']:g} ms with three behind nginx "
        f"(service time {capacity.service_ms:g} ms): the backends' own overhead, not nginx, is what makes the "
        "capacity less than nominal and the efficiency differ from 1."
    )
    return {"capacity": capacity.as_json(), "summary": summary, "efficiency": efficiency, "runs": runs, "note": note}


def _median_run(name: str, results: list[dict[str, Any]], backends: int) -> dict[str, Any]:
    """The configuration's median throughput and latencies over its rounds."""
    return {
        "configuration": name,
        "backends": backends,
        "clients": CLIENTS_PER_BACKEND * backends,
        "rps": round(statistics.median(result["rps"] for result in results), 1),
        "p50_ms": round(statistics.median(result["latency_ms"]["p50"] for result in results), 3),
        "p99_ms": round(statistics.median(result["latency_ms"]["p99"] for result in results), 3),
        "new_backend_connections_per_100_requests": statistics.median(
            result["new_backend_connections_per_100_requests"] for result in results
        ),
        "failed": sum(result["failed"] for result in results),
    }
