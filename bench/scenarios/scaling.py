"""The seed's table: one backend direct against one and three backends behind nginx, side by side.

Each backend has a fixed capacity (bench/scenario.py `Capacity`), so three can serve at most three times what
one serves; the clients per backend are the seed's 100. The configurations take turns, round after round,
so a disturbance of the machine hits all of them alike; each configuration's median round is reported.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.rig import INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target

NAME = "scaling"
CLIENTS_PER_BACKEND = 100
WARM_UP_SECONDS = 1.0
EFFICIENCY_TARGET = 0.97

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
    for _, url, backends in setups:
        rig.warm_up(url, CLIENTS_PER_BACKEND * backends, WARM_UP_SECONDS)

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in setups}
    cpu: list[dict[str, Any]] = []
    for round_number in range(1, profile.rounds + 1):
        ordered = setups if round_number % 2 else list(reversed(setups))
        for name, url, backends in ordered:
            measured = rig.measure(f"{name}, round {round_number}", url, CLIENTS_PER_BACKEND * backends,
                                   profile.load_seconds)
            cpu.append(measured.cpu)
            runs[name].append({"round": round_number, **measured.as_json()})

    summary = {name: _median_run(name, results, backends) for (name, _, backends), results in
               zip(setups, runs.values(), strict=True)}
    direct_rps = summary[DIRECT]["rps"]
    efficiency = summary[THREE_BEHIND_NGINX]["rps"] / (3 * direct_rps)
    for entry in summary.values():
        entry["speedup_vs_direct"] = round(entry["rps"] / direct_rps, 3)
    failed = sum(run_["failed"] for results in runs.values() for run_ in results)
    return ScenarioResult(
        name=NAME,
        title="1 vs 3 backends of fixed capacity",
        description=__doc__ or "",
        parameters={
            "capacity_per_backend": {
                "max_concurrency": rig.capacity.concurrency,
                "service_ms": rig.capacity.service_ms,
                "nominal_rps": rig.capacity.nominal_rps,
            },
            "clients_per_backend": CLIENTS_PER_BACKEND,
            "seconds_per_run": profile.load_seconds,
            "rounds": profile.rounds,
            "load_generator": "wrk, 1 thread, keep-alive connections",
        },
        measurements={"seed": SEED_TABLE, "summary": summary, "runs": runs, "failed_requests": failed},
        targets=[
            Target.at_least("scaling efficiency, 3 behind nginx / (3 x 1 direct)", EFFICIENCY_TARGET,
                            round(efficiency, 3)),
        ],
        cpu=cpu,
    )


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
