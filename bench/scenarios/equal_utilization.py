"""Latency at equal utilization: one backend and three behind nginx, each loaded at 70 % of its own capacity
by paced clients, side by side.

A closed loop (wrk as in `scaling`) keeps every backend saturated, so its latency is the queue the clients
build, not the balancer's. Here each configuration's capacity is first measured (closed loop, 100 clients per
backend, its median over the rounds); then 100 clients per backend each wait a random, exponentially
distributed think time between requests (bench/wrk_paced.lua), chosen so that together they ask for 70 % of
that capacity. The description's claim: three backends behind the balancer keep p99 at or below one backend's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.rig import INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target
from components.config import BalancerConfig

NAME = "equal_utilization"
UTILIZATION = 0.7
CLIENTS_PER_BACKEND = 100
P99_RATIO_TARGET = 1.0
DEFAULT_ALGORITHM = BalancerConfig().algorithm
OTHER_ALGORITHM = "least_conn" if DEFAULT_ALGORITHM != "least_conn" else "round_robin"
ONE = "1 backend direct"
THREE = f"3 backends behind nginx, {DEFAULT_ALGORITHM} (default)"
THREE_OTHER = f"3 backends behind nginx, {OTHER_ALGORITHM}"


@dataclass(frozen=True)
class Setup:
    name: str
    url: str
    backends: int

    @property
    def clients(self) -> int:
        return CLIENTS_PER_BACKEND * self.backends


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    three = rig.start_balancer(rig.fleet.servers)
    three_other = rig.start_balancer(rig.fleet.servers, BalancerConfig(algorithm=OTHER_ALGORITHM))
    setups = [Setup(ONE, rig.fleet.url(0, INFO), 1), Setup(THREE, three.url(INFO), 3),
              Setup(THREE_OTHER, three_other.url(INFO), 3)]
    cpu: list[dict[str, Any]] = []
    capacity: dict[str, float] = {}
    for setup in setups:
        rig.warm_up(setup.url, setup.clients, profile.warm_up_seconds)
        rounds = [rig.measure(f"{setup.name}: capacity, round {number}", [setup.url], setup.clients,
                              profile.load_seconds) for number in range(1, profile.rounds + 1)]
        cpu += [measured.cpu for measured in rounds]
        capacity[setup.name] = statistics.median(measured.load.rps for measured in rounds)
    runs: dict[str, list[dict[str, Any]]] = {setup.name: [] for setup in setups}
    for round_number in range(1, profile.rounds + 1):
        for setup in setups if round_number % 2 else list(reversed(setups)):
            target_rps = UTILIZATION * capacity[setup.name]
            # Little's law per client: clients / rate = think time + response time (estimated as at capacity's
            # service time, one slot of 10 per request: far less than the think time).
            service_ms = 1000 * rig.capacity.concurrency * setup.backends / capacity[setup.name]
            think_ms = max(1000 * setup.clients / target_rps - service_ms, 0.0)
            measured = rig.measure(f"{setup.name}: paced at {UTILIZATION:.0%}, round {round_number}", [setup.url],
                                   setup.clients, profile.load_seconds, think_ms=think_ms)
            cpu.append(measured.cpu)
            runs[setup.name].append({"round": round_number, "think_ms": round(think_ms, 2),
                                     "target_rps": round(target_rps, 1), **measured.as_json()})
    summary = {
        name: {
            "capacity_rps": round(capacity[name], 1),
            "rps": round(statistics.median(each["rps"] for each in runs[name]), 1),
            "utilization": round(statistics.median(each["rps"] for each in runs[name]) / capacity[name], 3),
            "p50_ms": round(statistics.median(each["latency_ms"]["p50"] for each in runs[name]), 3),
            "p99_ms": round(statistics.median(each["latency_ms"]["p99"] for each in runs[name]), 3),
            "p99.9_ms": round(statistics.median(each["latency_ms"]["p99.9"] for each in runs[name]), 3),
            "failed": sum(each["failed"] for each in runs[name]),
        }
        for name in runs
    }
    ratio = round(summary[THREE]["p99_ms"] / summary[ONE]["p99_ms"], 3)
    other_ratio = round(summary[THREE_OTHER]["p99_ms"] / summary[ONE]["p99_ms"], 3)
    return ScenarioResult(
        name=NAME,
        title=f"Latency at equal utilization ({UTILIZATION:.0%} of capacity): 1 vs 3 backends",
        description=__doc__ or "",
        parameters={"utilization": UTILIZATION, "clients_per_backend": CLIENTS_PER_BACKEND,
                    "seconds_per_run": profile.load_seconds, "rounds": profile.rounds,
                    "load_generator": "wrk with bench/wrk_paced.lua (exponential think time per connection)"},
        measurements={"summary": summary, "p99_three_vs_one": ratio, "p99_three_other_vs_one": other_ratio,
                      "runs": runs},
        targets=[Target.at_most(f"p99 of 3 behind nginx / 1 backend at {UTILIZATION:.0%} utilization",
                                P99_RATIO_TARGET, ratio)],
        cpu=cpu,
        notes=[
            f"{name}: capacity {values['capacity_rps']:,.0f} req/s; paced at {values['rps']:,.0f} req/s "
            f"({values['utilization']:.0%} of it): p50 {values['p50_ms']:g} ms, p99 {values['p99_ms']:g} ms, "
            f"p99.9 {values['p99.9_ms']:g} ms, {values['failed']} failed." for name, values in summary.items()
        ] + [f"p99 of three behind nginx over one backend's: {ratio:g} ({DEFAULT_ALGORITHM}), {other_ratio:g} "
             f"({OTHER_ALGORITHM})."],
        summary={"equal_utilization_p99_ratio": ratio},
    )
