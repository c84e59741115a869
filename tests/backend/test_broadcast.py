"""Broadcast across two backend processes through one real Redis: a client on A gets what is published on B."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.backend.conftest import StartBackend, receive_json
from tests.support.processes import RedisServer


def test_a_websocket_broadcast_on_b_reaches_clients_on_a_and_b(
    start_backend: StartBackend, redis_server: RedisServer
) -> None:
    env = {"REDIS_URL": redis_server.url}
    backend_a, backend_b = start_backend("backend-a", env), start_backend("backend-b", env)

    async def scenario() -> list[Any]:
        async with connect(backend_a.ws_url("/ws/room")) as on_a, connect(backend_b.ws_url()) as on_b:
            greetings = [await receive_json(on_a), await receive_json(on_b)]
            await on_b.send(json.dumps({"broadcast": {"event": "deploy", "ok": True}}))
            return [*greetings, await receive_json(on_a), await receive_json(on_b)]

    expected = {"broadcast": {"event": "deploy", "ok": True}, "from": "backend-b"}
    assert asyncio.run(scenario()) == [{"instance": "backend-a"}, {"instance": "backend-b"}, expected, expected]


def test_a_post_on_b_reaches_a_client_on_a(start_backend: StartBackend, redis_server: RedisServer) -> None:
    env = {"REDIS_URL": redis_server.url}
    backend_a, backend_b = start_backend("backend-a", env), start_backend("backend-b", env)

    async def scenario() -> tuple[httpx.Response, Any]:
        async with connect(backend_a.ws_url()) as on_a:
            await receive_json(on_a)
            async with httpx.AsyncClient() as client:
                response = await client.post(f"{backend_b.base_url}/api/broadcast", json={"broadcast": "hello all"})
            return response, await receive_json(on_a)

    response, received = asyncio.run(scenario())
    assert response.status_code == 200, response.text
    assert response.json() == {"published": True, "from": "backend-b", "delivery": "redis"}
    assert received == {"broadcast": "hello all", "from": "backend-b"}


def test_broadcasts_resume_after_redis_restarts(start_backend: StartBackend, redis_server: RedisServer) -> None:
    env = {"REDIS_URL": redis_server.url}
    backend_a, backend_b = start_backend("backend-a", env), start_backend("backend-b", env)
    redis_server.stop()
    backend_b.wait_for_status("/health/ready", 503, timeout=10)

    status = httpx.post(f"{backend_b.base_url}/api/broadcast", json={"broadcast": 1}, timeout=5).status_code
    assert status == 503, f"publishing with Redis down should answer 503, got {status}"

    redis_server.start()
    for backend in (backend_a, backend_b):
        backend.wait_for_status("/health/ready", 200, timeout=15)

    async def scenario() -> Any:
        async with connect(backend_a.ws_url()) as on_a:
            await receive_json(on_a)
            async with httpx.AsyncClient() as client:
                response = await client.post(f"{backend_b.base_url}/api/broadcast", json={"broadcast": "back"})
                response.raise_for_status()
            return await receive_json(on_a)

    assert asyncio.run(scenario()) == {"broadcast": "back", "from": "backend-b"}
