"""Upstream connection reuse at steady load: new TCP connections the backends accept per 100 requests through
nginx (default config: `keepalive 32` idle connections per worker), counted by the backends themselves
(`connections_accepted` in /api/agents/info).

The clients keep as many connections as the three backends have slots, after a warm-up that opens the pool.
"""

from __future__ import annotations

from bench.rig import INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target

NAME = "upstream_keepalive"
PER_100_TARGET = 1.0


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    balancer = rig.start_balancer(rig.fleet.servers)
    connections = rig.capacity.concurrency * len(rig.fleet.processes)
    rig.warm_up(balancer.url(INFO), connections, profile.warm_up_seconds)
    measured = rig.measure("steady load through nginx", balancer.url(INFO), connections, profile.load_seconds)
    per_100 = round(measured.new_connections_per_100_requests, 3)
    return ScenarioResult(
        name=NAME,
        title="Upstream connections reused at steady load",
        description=__doc__ or "",
        parameters={"client_connections": connections, "seconds": profile.load_seconds,
                    "balancer": "default BalancerConfig (keepalive 32, keepalive_timeout 60s)"},
        measurements={"load": measured.as_json(), "new_upstream_connections": measured.backend_connections_accepted},
        targets=[Target.below("new upstream connections per 100 requests", PER_100_TARGET, per_100)],
        cpu=[measured.cpu],
    )
