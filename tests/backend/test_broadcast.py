"""Broadcast across two backend processes through one real Redis: a client on A gets what is published on B."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
from typing import Any

import httpx
from websockets.asyncio.client import connect

from backend.broadcast import WRITE_BUFFER_LIMIT
from tests.backend.conftest import StartBackend, receive_json
from tests.support.processes import BackendProcess, RedisServer


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

PROMPTLY_SECONDS = 2.0
"""Far longer than a copy takes on loopback, far shorter than any wait on the stalled client would be."""


def open_stalled_client(backend: BackendProcess) -> socket.socket:
    """A WebSocket client that completes the handshake, then never reads again (a tiny receive buffer, so the
    server's side fills up soon)."""
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.settimeout(5)
    client.connect((backend.host, backend.port))
    key = base64.b64encode(os.urandom(16)).decode()
    client.sendall(
        f"GET /ws/stalled HTTP/1.1\r\nHost: {backend.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert client.recv(1024).startswith(b"HTTP/1.1 101"), "the stalled client's handshake failed"
    return client


def test_a_client_that_stops_reading_is_dropped_and_holds_up_no_one(start_backend: StartBackend) -> None:
    """Local delivery (no Redis): a reading client gets every large broadcast, in order and each within
    `PROMPTLY_SECONDS`, while a stalled one's unread data piles up; the server disconnects the stalled one once
    that passes the hub's limit."""
    backend = start_backend("backend-a")
    stalled = open_stalled_client(backend)
    payload = "x" * 60_000
    messages = 3 * WRITE_BUFFER_LIMIT // len(payload) + 200  # the limit, plus what the kernels' buffers hold

    async def scenario() -> tuple[list[int], Any]:
        async with connect(backend.ws_url(), max_size=2**20) as reader:
            await receive_json(reader)
            received = []
            for number in range(messages):
                await reader.send(json.dumps({"broadcast": {"n": number, "pad": payload}}))
                received.append((await receive_json(reader, PROMPTLY_SECONDS))["broadcast"]["n"])
            async with httpx.AsyncClient() as client:
                info = (await client.get(f"{backend.base_url}/api/agents/info")).json()
            return received, info

    try:
        received, info = asyncio.run(scenario())
        assert received == list(range(messages)), "the reading client missed or reordered broadcasts"
        assert info["websocket_clients"] == 1, f"the stalled client is still registered: {info}"
        # The server closed the stalled connection: reading it out ends (EOF or reset) instead of timing out.
        with contextlib.suppress(ConnectionResetError):
            while stalled.recv(1 << 20):
                pass
    finally:
        stalled.close()
