"""WebSockets through nginx: the upgrade, echo, stickiness by client IP, and broadcast to every replica via Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from components.config import BalancerConfig
from tests.support.topology import Balancer, BackendFleet, StartBalancer

pytestmark = pytest.mark.live

RECEIVE_TIMEOUT_SECONDS = 10


@pytest.fixture
def balancer(start_balancer: StartBalancer) -> Balancer:
    return start_balancer(BalancerConfig(websocket_affinity="ip_hash"))


async def _receive(websocket: ClientConnection) -> dict[str, Any]:
    message = await asyncio.wait_for(websocket.recv(), RECEIVE_TIMEOUT_SECONDS)
    return json.loads(message)


async def _greeted_instance(url: str, source: str) -> str:
    """Connect from `source`, read the greeting, disconnect: the instance that took the connection."""
    async with connect(url, local_addr=(source, 0), open_timeout=RECEIVE_TIMEOUT_SECONDS) as websocket:
        return (await _receive(websocket))["instance"]


def test_upgrade_greets_with_an_instance_and_echoes(balancer: Balancer, backends: BackendFleet):
    async def scenario() -> None:
        async with connect(balancer.ws_url("/ws/echo"), open_timeout=RECEIVE_TIMEOUT_SECONDS) as websocket:
            assert websocket.response is not None and websocket.response.status_code == 101
            greeting = await _receive(websocket)
            assert greeting["instance"] in backends.instances, f"greeting {greeting}"
            await websocket.send("hello through nginx")
            assert await _receive(websocket) == {"instance": greeting["instance"], "echo": "hello through nginx"}

    asyncio.run(scenario())


def test_reconnects_from_one_client_ip_reach_the_same_instance(balancer: Balancer):
    async def scenario() -> list[str]:
        return [await _greeted_instance(balancer.ws_url("/ws/sticky"), "127.0.0.1") for _ in range(6)]

    instances = asyncio.run(scenario())
    assert len(set(instances)) == 1, f"reconnects from 127.0.0.1 landed on {instances}"


async def _publish(route: str, backends: BackendFleet, sender: ClientConnection, value: str) -> None:
    """Broadcast `value` from the first replica: by POST straight to it, or as a message from its WebSocket client."""
    if route == "websocket message":
        await sender.send(json.dumps({"broadcast": value}))
        return
    async with httpx.AsyncClient(timeout=RECEIVE_TIMEOUT_SECONDS) as http:
        response = await http.post(backends.url(0, "/api/broadcast"), json={"broadcast": value})
    assert response.status_code == 200, f"POST /api/broadcast: {response.status_code} {response.text}"


@pytest.mark.parametrize("route", ["POST /api/broadcast", "websocket message"])
def test_broadcast_on_one_replica_reaches_clients_on_every_replica(
    route: str, balancer: Balancer, backends: BackendFleet
):
    nonce = uuid.uuid4().hex

    async def scenario() -> dict[str, dict[str, Any]]:
        clients: dict[str, ClientConnection] = {}
        try:
            # ip_hash keys on the /24: clients from different 127.0.K.1 networks spread over the replicas.
            for k in range(1, 60):
                if len(clients) == len(backends.instances):
                    break
                websocket = await connect(balancer.ws_url("/ws/broadcast"), local_addr=(f"127.0.{k}.1", 0))
                instance = (await _receive(websocket))["instance"]
                if instance in clients:
                    await websocket.close()
                else:
                    clients[instance] = websocket
            assert sorted(clients) == sorted(backends.instances), f"WebSocket clients only on {sorted(clients)}"
            await _publish(route, backends, clients[backends.instances[0]], nonce)
            return {instance: await _receive(websocket) for instance, websocket in clients.items()}
        finally:
            await asyncio.gather(*(websocket.close() for websocket in clients.values()))

    received = asyncio.run(scenario())
    expected = {"broadcast": nonce, "from": backends.instances[0]}
    assert received == {instance: expected for instance in backends.instances}
