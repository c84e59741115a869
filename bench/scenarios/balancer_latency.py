"""Latency the balancer adds at low load: one client connection, one backend direct and the same backend
through nginx, in alternating runs (direct first in odd rounds, nginx first in even ones).

The backend here has no service time and no cap, so the difference is nginx's own work plus one more loopback
hop. Reported: the median over rounds of (p50 through nginx - p50 direct), and the same for p99.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.rig import INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target
from nginx_conf.render import UpstreamServer

NAME = "balancer_latency"
PROBE_HOST = "127.0.0.5"
ADDED_P50_TARGET_MS = 0.3


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    backend = rig.start_backend("latency-probe", PROBE_HOST, {"ACCESS_LOG": "0"})
    balancer = rig.start_balancer([UpstreamServer(backend.host, backend.port)])
    paths = {"direct": backend.base_url + INFO, "nginx": balancer.url(INFO)}
    for url in paths.values():
        rig.warm_up(url, 1, profile.warm_up_seconds)

    runs: list[dict[str, Any]] = []
    cpu: list[dict[str, Any]] = []
    for round_number in range(1, profile.latency_rounds + 1):
        order = ["direct", "nginx"] if round_number % 2 else ["nginx", "direct"]
        latency: dict[str, dict[str, float]] = {}
        for path in order:
            measured = rig.measure(f"{path}, round {round_number}", [paths[path]], 1, profile.latency_seconds)
            cpu.append(measured.cpu)
            latency[path] = measured.load.latency_ms
            runs.append({"round": round_number, "path": path, **measured.load.as_json()})
        runs[-1]["added_p50_ms"] = round(latency["nginx"]["p50"] - latency["direct"]["p50"], 3)
        runs[-1]["added_p99_ms"] = round(latency["nginx"]["p99"] - latency["direct"]["p99"], 3)

    added = [run_ for run_ in runs if "added_p50_ms" in run_]
    added_p50 = statistics.median(run_["added_p50_ms"] for run_ in added)
    added_p99 = statistics.median(run_["added_p99_ms"] for run_ in added)
    by_path = {
        path: {
            "p50_ms": round(statistics.median(run_["latency_ms"]["p50"] for run_ in runs if run_["path"] == path), 3),
            "p99_ms": round(statistics.median(run_["latency_ms"]["p99"] for run_ in runs if run_["path"] == path), 3),
        }
        for path in paths
    }
    return ScenarioResult(
        name=NAME,
        title="Latency added by the balancer at low load",
        description=__doc__ or "",
        parameters={"connections": 1, "seconds_per_run": profile.latency_seconds, "rounds": profile.latency_rounds,
                    "backend": "no service time, no concurrency cap"},
        measurements={"added_p50_ms": round(added_p50, 3), "added_p99_ms": round(added_p99, 3), "median_by_path": by_path, "runs": runs},
        targets=[Target.at_most("latency added by nginx at low load, p50", ADDED_P50_TARGET_MS, round(added_p50, 3),
                                "ms")],
        cpu=cpu,
        summary={"lb_added_p50_ms": round(added_p50, 3), "lb_added_p99_ms": round(added_p99, 3)},
    )
