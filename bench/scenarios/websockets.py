"""WebSockets held through nginx, and a broadcast to all of them across the three replicas, at several fleet sizes.

The clients connect to /ws/ through nginx (the default sticky upstream, ip_hash) from 127.0.K.1 for K = 1..50:
ip_hash buckets clients by /24, so the networks spread them over the replicas. They stay idle for a while,
then each broadcast is POSTed to /api/broadcast through nginx; the replica that takes it publishes it on Redis
and every replica writes it to its own clients. A delivery's latency runs from just before the POST until the
client has read the message, for every (broadcast, client) pair.

The cost figure is CPU per delivered copy: what the backends (and, beside them, nginx and Redis) used during
the broadcasts divided by the copies delivered. All clients live in this one Python process, reading raw
frames (bench/ws_client.py); the time it takes to read every copy is part of the measured latency, and its
CPU per broadcast bounds that share (its garbage collector is paused while it measures).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import statistics
import time
from collections import Counter
from typing import Any

import httpx

from bench.machine import CpuMeter
from bench.rig import BENCH_GROUP, INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target, percentile
from bench.ws_client import RawWebSocket, open_websocket
from tests.support.topology import Balancer

NAME = "websocket_broadcast"
CLIENT_NETWORKS = 50
CONNECT_BATCH = 200
TIMEOUT_SECONDS = 10.0
GAP_SECONDS = 0.1
"""Pause between broadcasts, so each is measured alone."""
TARGET_CLIENTS = 1000
P99_TARGET_MS = 50.0
CPU_PER_COPY_TARGET_US = 20.0
BACKENDS = "backends"
"""The server side of the fan-out in the cost table: the three backend processes together."""


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    balancer = rig.start_balancer(rig.fleet.servers)
    by_clients = [_at_scale(rig, balancer, profile, count) for count in profile.websocket_client_counts]
    judged = next((each for each in by_clients if each["clients"] == TARGET_CLIENTS), by_clients[-1])
    clients, broadcasts = judged["clients"], profile.broadcasts
    return ScenarioResult(
        name=NAME,
        title="WebSockets through nginx, broadcast across 3 replicas",
        description=__doc__ or "",
        parameters={"clients": list(profile.websocket_client_counts), "client_networks": CLIENT_NETWORKS,
                    "broadcasts": broadcasts, "hold_seconds": profile.hold_seconds, "gap_seconds": GAP_SECONDS,
                    "balancer": "default BalancerConfig (websocket_affinity ip_hash)",
                    "client": "raw frames, one asyncio protocol per connection, all in the bench process"},
        measurements={"by_clients": by_clients},
        targets=[
            Target.at_least("WebSockets held through nginx", clients, judged["held_after_broadcasts"], "connections"),
            Target.at_least("broadcast copies delivered", clients * broadcasts, judged["delivered"], "messages"),
            Target.at_most(f"broadcast to {clients} clients across 3 replicas, p99", P99_TARGET_MS,
                           judged["latency_ms"]["p99"], "ms"),
            Target.at_most(f"backend CPU per delivered copy at {clients} clients", CPU_PER_COPY_TARGET_US,
                           judged["cpu_us_per_copy"][BACKENDS], "us"),
        ],
        cpu=[each.pop("cpu") for each in by_clients],
        notes=[_note(each) for each in by_clients],
        summary={"ws_connections": judged["held_after_broadcasts"], "ws_broadcast_p99_ms": judged["latency_ms"]["p99"],
                 "ws_backend_cpu_us_per_copy": judged["cpu_us_per_copy"][BACKENDS]},
    )


def _at_scale(rig: BenchRig, balancer: Balancer, profile: Profile, count: int) -> dict[str, Any]:
    """`count` clients opened, held, sent `profile.broadcasts` broadcasts, closed; what they saw and cost."""
    meter = CpuMeter(f"broadcasts to {count} clients", rig.cpu_groups())
    measured = asyncio.run(_held_and_broadcast(rig, balancer, profile, count, meter))
    latencies = measured.pop("latencies_ms")
    usage = meter.usage
    copies = max(measured["delivered"], 1)
    cpu_us = {group: 1e4 * percent * usage["seconds"] / copies for group, percent in usage["groups_percent"].items()}
    backends = sum(cpu_us.pop(backend.instance_id) for backend in rig.fleet.processes)
    return {
        "clients": count,
        **measured,
        "latency_ms": {f"p{p}": round(percentile(latencies, p), 3) for p in (50, 90, 99, 100)},
        "cpu_us_per_copy": {BACKENDS: round(backends, 2), **{group: round(value, 2) for group, value in cpu_us.items()}},
        "client_cpu_ms_per_broadcast": round(10 * usage["groups_percent"][BENCH_GROUP] * usage["seconds"]
                                             / profile.broadcasts, 2),
        "cpu": usage,
    }


def _note(measured: dict[str, Any]) -> str:
    first = statistics.median(each["first"] for each in measured["per_broadcast_ms"])
    last = statistics.median(each["last"] for each in measured["per_broadcast_ms"])
    cost = measured["cpu_us_per_copy"]
    return (
        f"{measured['clients']:,} clients: p50 {measured['latency_ms']['p50']:g} ms, p99 "
        f"{measured['latency_ms']['p99']:g} ms; the first client had a broadcast {first:.1f} ms after the POST "
        f"started, the last {last:.1f} ms after (medians). CPU per delivered copy: backends "
        f"{cost[BACKENDS]:g} us, nginx {cost.get('nginx', 0):g} us, Redis {cost.get('redis', 0):g} us, the "
        f"clients {cost.get(BENCH_GROUP, 0):g} us. Reading all copies of one broadcast took the clients "
        f"{measured['client_cpu_ms_per_broadcast']:g} ms of CPU: at most that much of the last copy's latency is "
        "the bench's own."
    )


async def _held_and_broadcast(rig: BenchRig, balancer: Balancer, profile: Profile, count: int,
                              meter: CpuMeter) -> dict[str, Any]:
    sent: dict[int, float] = {}
    arrivals: list[tuple[int, float]] = []
    copies: Counter[int] = Counter()
    everyone_has: dict[int, asyncio.Event] = {}

    def on_text(payload: bytes, arrived: float) -> None:
        value = json.loads(payload).get("broadcast")
        if isinstance(value, dict) and "seq" in value:
            sequence = int(value["seq"])
            arrivals.append((sequence, arrived))
            copies[sequence] += 1
            if copies[sequence] == count:
                everyone_has[sequence].set()

    clients: list[RawWebSocket] = []
    try:
        greeted = await _connect_all(balancer, count, on_text, clients)
        await asyncio.sleep(profile.hold_seconds)
        held_before = sum(not client.closed for client in clients)
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
            server_side = {
                backend.instance_id: (await http.get(backend.base_url + INFO)).json()["websocket_clients"]
                for backend in rig.fleet.processes
            }
            await http.get(balancer.url("/health/ready"))  # the POSTs below reuse this warm connection
            gc.disable()  # the client's own collection pauses are not the system's latency
            with meter:
                for sequence in range(profile.broadcasts):
                    everyone_has[sequence] = asyncio.Event()
                    sent[sequence] = time.perf_counter()
                    response = await http.post(balancer.url("/api/broadcast"), json={"broadcast": {"seq": sequence}})
                    response.raise_for_status()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(everyone_has[sequence].wait(), TIMEOUT_SECONDS)
                    await asyncio.sleep(GAP_SECONDS)
            gc.enable()
        held_after = sum(not client.closed for client in clients)
    finally:
        gc.enable()
        for client in clients:
            client.close()
        await asyncio.sleep(0.5)  # let the closes reach the servers before the next fleet size connects
    return {
        "opened": len(clients),
        "greeted_by_instance": dict(sorted(greeted.items())),
        "server_side_clients": server_side,
        "held_before_broadcasts": held_before,
        "held_after_broadcasts": held_after,
        "delivered": len(arrivals),
        "expected": count * profile.broadcasts,
        "per_broadcast_ms": [_first_and_last(sequence, sent[sequence], arrivals) for sequence in sent],
        "latencies_ms": [1000 * (arrived - sent[sequence]) for sequence, arrived in arrivals],
    }


async def _connect_all(balancer: Balancer, count: int, on_text: Any, clients: list[RawWebSocket]) -> Counter[str]:
    """Opens `count` WebSockets in batches into `clients` (so the caller closes every one, even after an error)."""
    greeted: Counter[str] = Counter()
    for first in range(0, count, CONNECT_BATCH):
        batch = range(first, min(first + CONNECT_BATCH, count))
        opened = await asyncio.gather(
            *(open_websocket(balancer.host, balancer.port, "/ws/bench", f"127.0.{1 + number % CLIENT_NETWORKS}.1",
                             on_text, TIMEOUT_SECONDS) for number in batch),
            return_exceptions=True,
        )
        errors = [outcome for outcome in opened if isinstance(outcome, BaseException)]
        for outcome in opened:
            if not isinstance(outcome, BaseException):
                clients.append(outcome[0])
                greeted[json.loads(outcome[1])["instance"]] += 1
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(batch)} WebSockets failed to open: {errors[0]!r}")
    return greeted


def _first_and_last(sequence: int, sent: float, arrivals: list[tuple[int, float]]) -> dict[str, float]:
    """When the first and the last client had broadcast `sequence`, in ms after the POST started."""
    times = [arrived - sent for number, arrived in arrivals if number == sequence]
    return {"first": round(1000 * min(times, default=math.nan), 3), "last": round(1000 * max(times, default=math.nan), 3)}
