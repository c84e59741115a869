"""WebSockets held through nginx, and a broadcast to all of them across the three replicas.

The clients connect to /ws/ through nginx (the default sticky upstream, ip_hash) from 127.0.K.1 for K = 1..50:
ip_hash buckets clients by /24, so the networks spread them over the replicas. They stay idle for a while,
then each broadcast is POSTed to /api/broadcast through nginx; the replica that takes it publishes it on Redis
and every replica sends it to its own clients. A delivery's latency runs from just before the POST until the
client has read the message, for every (broadcast, client) pair.

All clients live in this one Python process: the time it takes to read every copy of a message is part of
what is measured (its CPU is the "bench (python)" group; its garbage collector is paused while it measures).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import statistics
import time
from collections import Counter
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from bench.machine import CpuMeter
from bench.rig import BENCH_GROUP, INFO, BenchRig
from bench.scenario import Profile, ScenarioResult, Target, percentile
from tests.support.topology import Balancer

NAME = "websocket_broadcast"
CLIENT_NETWORKS = 50
CONNECT_BATCH = 100
TIMEOUT_SECONDS = 10.0
GAP_SECONDS = 0.1
"""Pause between broadcasts, so each is measured alone."""
P99_TARGET_MS = 50.0


def run(rig: BenchRig, profile: Profile) -> ScenarioResult:
    balancer = rig.start_balancer(rig.fleet.servers)
    meter = CpuMeter("broadcasts", rig.cpu_groups())
    measured = asyncio.run(_held_and_broadcast(rig, balancer, profile, meter))
    clients, broadcasts = profile.websocket_clients, profile.broadcasts
    latencies = measured.pop("latencies_ms")
    p99 = round(percentile(latencies, 99), 3)
    measured["latency_ms"] = {f"p{p}": round(percentile(latencies, p), 3) for p in (50, 90, 99, 100)}
    # What a broadcast costs in CPU, all processes together: on a machine of N cores the last copy cannot
    # arrive sooner than that / N after the POST, whatever the balancer does.
    cpu_seconds = meter.usage["seconds"] * meter.usage["machine_busy_percent"] / 100
    measured["cpu_ms_per_broadcast"] = {
        "all_processes": round(1000 * cpu_seconds / broadcasts, 1),
        **{group: round(10 * percent * meter.usage["seconds"] / broadcasts, 1)
           for group, percent in meter.usage["groups_percent"].items()},
    }
    cores = os.cpu_count() or 1
    first = statistics.median(each["first"] for each in measured["per_broadcast_ms"])
    last = statistics.median(each["last"] for each in measured["per_broadcast_ms"])
    notes = [
        f"Median over the broadcasts: the first client had it {first:.1f} ms after the POST started, the last "
        f"{last:.1f} ms after (per broadcast in `per_broadcast_ms`).",
        f"Each broadcast cost {measured['cpu_ms_per_broadcast']['all_processes']:g} ms of CPU across all processes "
        f"(the {clients} clients' share: {measured['cpu_ms_per_broadcast'].get(BENCH_GROUP, 0):g} ms): on "
        f"{cores} cores the last copy cannot arrive sooner than about "
        f"{measured['cpu_ms_per_broadcast']['all_processes'] / cores:.0f} ms after the POST.",
    ]
    return ScenarioResult(
        name=NAME,
        title=f"{clients} WebSockets through nginx, broadcast across 3 replicas",
        description=__doc__ or "",
        parameters={"clients": clients, "client_networks": CLIENT_NETWORKS, "broadcasts": broadcasts,
                    "hold_seconds": profile.hold_seconds, "gap_seconds": GAP_SECONDS,
                    "balancer": "default BalancerConfig (websocket_affinity ip_hash)"},
        measurements=measured,
        targets=[
            Target.at_least("WebSockets held through nginx", clients, measured["held_after_broadcasts"], "connections"),
            Target.at_least("broadcast copies delivered", clients * broadcasts, measured["delivered"], "messages"),
            Target.at_most("broadcast to every client across 3 replicas, p99", P99_TARGET_MS, p99, "ms"),
        ],
        cpu=[meter.usage],
        notes=notes,
    )


async def _connect(url: str, source: str) -> tuple[ClientConnection, str]:
    """A WebSocket from `source` through the balancer, and the instance that greeted it."""
    websocket = await connect(url, local_addr=(source, 0), open_timeout=TIMEOUT_SECONDS)
    greeting = json.loads(await asyncio.wait_for(websocket.recv(), TIMEOUT_SECONDS))
    return websocket, greeting["instance"]


async def _connect_all(url: str, count: int, clients: list[ClientConnection]) -> Counter[str]:
    """Opens `count` WebSockets in batches into `clients` (so the caller closes every one, even after an error)."""
    greeted: Counter[str] = Counter()
    for first in range(0, count, CONNECT_BATCH):
        batch = range(first, min(first + CONNECT_BATCH, count))
        opened = await asyncio.gather(
            *(_connect(url, f"127.0.{1 + number % CLIENT_NETWORKS}.1") for number in batch), return_exceptions=True
        )
        errors = [outcome for outcome in opened if isinstance(outcome, BaseException)]
        for outcome in opened:
            if not isinstance(outcome, BaseException):
                clients.append(outcome[0])
                greeted[outcome[1]] += 1
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(batch)} WebSockets failed to open: {errors[0]!r}")
    return greeted


async def _held_and_broadcast(rig: BenchRig, balancer: Balancer, profile: Profile, meter: CpuMeter) -> dict[str, Any]:
    count = profile.websocket_clients
    clients: list[ClientConnection] = []
    sent: dict[int, float] = {}
    arrivals: list[tuple[int, float]] = []
    copies: Counter[int] = Counter()
    everyone_has: dict[int, asyncio.Event] = {}

    async def receive(websocket: ClientConnection) -> None:
        try:
            async for message in websocket:
                arrived = time.perf_counter()
                value = json.loads(message).get("broadcast")
                if isinstance(value, dict) and "seq" in value:
                    sequence = int(value["seq"])
                    arrivals.append((sequence, arrived))
                    copies[sequence] += 1
                    if copies[sequence] == count:
                        everyone_has[sequence].set()
        except ConnectionClosed:
            return  # a lost client shows in the held and delivered counts

    receivers: list[asyncio.Task[None]] = []
    try:
        greeted = await _connect_all(balancer.ws_url("/ws/bench"), count, clients)
        receivers = [asyncio.create_task(receive(websocket)) for websocket in clients]
        await asyncio.sleep(profile.hold_seconds)
        held_before = sum(websocket.state is State.OPEN for websocket in clients)
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
        held_after = sum(websocket.state is State.OPEN for websocket in clients)
    finally:
        gc.enable()
        for receiver in receivers:
            receiver.cancel()
        await asyncio.gather(*(websocket.close() for websocket in clients), return_exceptions=True)
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


def _first_and_last(sequence: int, sent: float, arrivals: list[tuple[int, float]]) -> dict[str, float]:
    """When the first and the last client had broadcast `sequence`, in ms after the POST started."""
    times = [arrived - sent for number, arrived in arrivals if number == sequence]
    return {"first": round(1000 * min(times, default=math.nan), 3), "last": round(1000 * max(times, default=math.nan), 3)}
