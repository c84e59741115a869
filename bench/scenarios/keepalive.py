"""Upstream connection reuse at steady load, pooled (the default `keepalive 32` idle connections per worker)
against no pool (`keepalive 0`: a new upstream connection for every request), side by side.

New TCP connections are counted by the backends themselves (`connections_accepted` in /api/agents/info). The
clients keep as many connections as the three backends have slots, after a warm-up that opens the pool; the
two balancers take turns round after round.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.rig import INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target
from components.config import BalancerConfig

NAME = "upstream_keepalive"
PER_100_TARGET = 1.0
POOLED = "keepalive on (default)"
UNPOOLED = "keepalive off"


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    default = BalancerConfig()
    balancers = {POOLED: rig.start_balancer(rig.fleet.servers, default),
                 UNPOOLED: rig.start_balancer(rig.fleet.servers, default.model_copy(update={"keepalive": 0}))}
    connections = rig.capacity.concurrency * len(rig.fleet.processes)
    for balancer in balancers.values():
        rig.warm_up(balancer.url(INFO), connections, profile.warm_up_seconds)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in balancers}
    cpu: list[dict[str, Any]] = []
    for round_number in range(1, profile.rounds + 1):
        order = list(balancers) if round_number % 2 else list(reversed(balancers))
        for name in order:
            measured = rig.measure(f"{name}, round {round_number}", [balancers[name].url(INFO)], connections,
                                   profile.load_seconds)
            cpu.append(measured.cpu)
            runs[name].append({"round": round_number, **measured.as_json()})
    summary = {
        name: {
            "new_upstream_connections_per_100_requests": round(statistics.median(
                each["new_backend_connections_per_100_requests"] for each in runs[name]), 3),
            "rps": round(statistics.median(each["rps"] for each in runs[name]), 1),
            "p50_ms": round(statistics.median(each["latency_ms"]["p50"] for each in runs[name]), 3),
            "p99_ms": round(statistics.median(each["latency_ms"]["p99"] for each in runs[name]), 3),
            "failed": sum(each["failed"] for each in runs[name]),
        }
        for name in balancers
    }
    per_100 = summary[POOLED]["new_upstream_connections_per_100_requests"]
    return ScenarioResult(
        name=NAME,
        title="Upstream connections reused at steady load: keepalive on vs off",
        description=__doc__ or "",
        parameters={"client_connections": connections, "seconds_per_run": profile.load_seconds,
                    "rounds": profile.rounds,
                    "balancers": {POOLED: f"keepalive {default.keepalive}, keepalive_timeout {default.keepalive_timeout}",
                                  UNPOOLED: "keepalive 0 (no upstream pool)"}},
        measurements={"summary": summary, "runs": runs},
        targets=[Target.below("new upstream connections per 100 requests", PER_100_TARGET, per_100)],
        cpu=cpu,
        notes=[
            f"{name}: {values['new_upstream_connections_per_100_requests']:g} new upstream connections per 100 "
            f"requests, {values['rps']:,.0f} req/s, p50 {values['p50_ms']:g} ms, p99 {values['p99_ms']:g} ms, "
            f"{values['failed']} failed." for name, values in summary.items()
        ],
        summary={"upstream_conns_per_100": per_100,
                 "upstream_conns_per_100_keepalive_off": summary[UNPOOLED]["new_upstream_connections_per_100_requests"]},
    )
