"""Every balancing algorithm over an uneven fleet: two replicas of the seed's capacity and one three times
slower (10 x 30 ms: 333 req/s against 1,000), under the scaling scenario's load (100 clients per replica).

wrk's 300 connections leave from 100 client networks (127.0.K.1, bench/bind_sources.c), so ip_hash (which
buckets clients by /24) and consistent_hash (by full address) see many clients, as behind a real balancer.
`weighted` gives the replicas weights matching their capacity (3, 3, 1). The algorithms take turns, round
after round; each replica's share of the requests is counted by the replicas themselves
(`brain_http_requests_total` in /metrics).
"""

from __future__ import annotations

import statistics
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.rig import INFO, BenchRig
from bench.scenario import Capacity, Profile, ScenarioResult
from components.config import Algorithm, BalancerConfig

NAME = "uneven_fleet"
FAST = Capacity(concurrency=10, service_ms=10)
SLOW = Capacity(concurrency=10, service_ms=30)
CAPACITIES = (FAST, FAST, SLOW)
WEIGHTS = [3, 3, 1]
"""Proportional to the replicas' capacity (1,000, 1,000 and 333 req/s)."""
CLIENTS = 300
CLIENT_NETWORKS = 100
ALGORITHMS: tuple[Algorithm, ...] = ("round_robin", "least_conn", "ip_hash", "consistent_hash", "weighted")
PLOT_NAME = "uneven_fleet.png"


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    default = BalancerConfig()
    balancers = {
        algorithm: rig.start_balancer(rig.fleet.servers, default.model_copy(update={
            "algorithm": algorithm, "weights": WEIGHTS if algorithm == "weighted" else []}))
        for algorithm in ALGORITHMS
    }
    runs: dict[str, list[dict[str, Any]]] = {algorithm: [] for algorithm in ALGORITHMS}
    cpu: list[dict[str, Any]] = []
    with rig.backends_of(*CAPACITIES):
        for balancer in balancers.values():
            rig.warm_up(balancer.url(INFO), CLIENTS, profile.warm_up_seconds, CLIENT_NETWORKS)
        for round_number in range(1, profile.rounds + 1):
            for algorithm in ALGORITHMS if round_number % 2 else tuple(reversed(ALGORITHMS)):
                before = _served(rig)
                measured = rig.measure(f"{algorithm}, round {round_number}", [balancers[algorithm].url(INFO)],
                                       CLIENTS, profile.load_seconds, CLIENT_NETWORKS)
                served = {instance: count - before[instance] for instance, count in _served(rig).items()}
                cpu.append(measured.cpu)
                runs[algorithm].append({"round": round_number, "served_by": served, **measured.as_json()})
    summary = {algorithm: _median(runs[algorithm]) for algorithm in ALGORITHMS}
    best = min(ALGORITHMS, key=lambda algorithm: (summary[algorithm]["failed"] > 0, summary[algorithm]["p99_ms"]))
    return ScenarioResult(
        name=NAME,
        title="Algorithms over an uneven fleet (one replica 3x slower)",
        description=__doc__ or "",
        parameters={"capacities": [capacity.as_json() for capacity in CAPACITIES], "weights": WEIGHTS,
                    "clients": CLIENTS, "client_networks": CLIENT_NETWORKS, "seconds_per_run": profile.load_seconds,
                    "rounds": profile.rounds},
        measurements={"summary": summary, "lowest_p99": best, "runs": runs},
        targets=[],
        cpu=cpu,
        notes=[_note(algorithm, summary[algorithm]) for algorithm in ALGORITHMS] + [
            f"Lowest p99 without failures: {best}, {summary[best]['p99_ms']:g} ms against round robin's "
            f"{summary['round_robin']['p99_ms']:g} ms."],
        summary={"uneven_lowest_p99_algorithm_p99_ms": summary[best]["p99_ms"],
                 "uneven_round_robin_p99_ms": summary["round_robin"]["p99_ms"]},
    )


def capacity_shares() -> dict[str, float]:
    """Each replica's share of the fleet's nominal capacity: what a balancer that knew it would send it."""
    total = sum(capacity.nominal_rps for capacity in CAPACITIES)
    return {f"backend-{number}": capacity.nominal_rps / total for number, capacity in enumerate(CAPACITIES, start=1)}


def _served(rig: BenchRig) -> dict[str, int]:
    """GETs of /api/agents/info each replica has answered so far, from its own counter."""
    counts = {}
    for backend in rig.fleet.processes:
        text = httpx.get(backend.base_url + "/metrics", timeout=5).text
        counts[backend.instance_id] = int(sum(
            sample.value for family in text_string_to_metric_families(text) for sample in family.samples
            if sample.name == "brain_http_requests_total" and sample.labels.get("path") == INFO
        ))
    return counts


def _median(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Median throughput and latencies over the rounds; each replica's share of all requests it served."""
    served = {instance: sum(result["served_by"][instance] for result in results) for instance in results[0]["served_by"]}
    total = sum(served.values()) or 1
    return {
        "rps": round(statistics.median(result["rps"] for result in results), 1),
        "p50_ms": round(statistics.median(result["latency_ms"]["p50"] for result in results), 3),
        "p99_ms": round(statistics.median(result["latency_ms"]["p99"] for result in results), 3),
        "share": {instance: round(count / total, 3) for instance, count in served.items()},
        "failed": sum(result["failed"] for result in results),
    }


def _note(algorithm: str, values: dict[str, Any]) -> str:
    shares = ", ".join(f"{instance} {share:.0%}" for instance, share in values["share"].items())
    return (f"{algorithm}: {values['rps']:,.0f} req/s, p50 {values['p50_ms']:g} ms, p99 {values['p99_ms']:g} ms, "
            f"{values['failed']} failed; shares {shares} (backend-3 is the slow one).")
