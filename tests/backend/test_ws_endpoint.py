"""The WebSocket endpoint of one backend: greeting, echo, local broadcast without Redis, binary refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.backend.conftest import RECEIVE_TIMEOUT_SECONDS, StartBackend, metric_value, receive_json
from tests.support.processes import wait_until


@pytest.mark.parametrize("path", ["/ws/", "/ws/agents/42", "/ws/chat?room=a"])
def test_greets_with_the_instance_and_echoes_text(start_backend: StartBackend, path: str) -> None:
    backend = start_backend("backend-ws")

    async def scenario() -> list[object]:
        async with connect(backend.ws_url(path)) as socket:
            received = [await receive_json(socket)]
            for text in ("hello", '{"not": "a broadcast"}', ""):
                await socket.send(text)
                received.append(await receive_json(socket))
            return received

    assert asyncio.run(scenario()) == [
        {"instance": "backend-ws"},
        {"instance": "backend-ws", "echo": "hello"},
        {"instance": "backend-ws", "echo": '{"not": "a broadcast"}'},
        {"instance": "backend-ws", "echo": ""},
    ]


def test_without_redis_a_broadcast_reaches_every_local_client(start_backend: StartBackend) -> None:
    backend = start_backend("backend-local")

    async def scenario() -> tuple[object, object]:
        async with connect(backend.ws_url()) as sender, connect(backend.ws_url("/ws/other")) as listener:
            for socket in (sender, listener):
                await receive_json(socket)  # the greeting
            await sender.send(json.dumps({"broadcast": {"text": "hi", "n": [1, 2]}}))
            return await receive_json(listener), await receive_json(sender)

    expected = {"broadcast": {"text": "hi", "n": [1, 2]}, "from": "backend-local"}
    assert asyncio.run(scenario()) == (expected, expected)


def test_a_binary_message_closes_with_1003_and_the_backend_stays_up(start_backend: StartBackend) -> None:
    backend = start_backend()

    async def scenario() -> int | None:
        async with connect(backend.ws_url()) as socket:
            await receive_json(socket)
            await socket.send(b"\x00\x01")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT_SECONDS)
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert asyncio.run(scenario()) == 1003
    assert backend.get("/health/ready")[0] == 200


def test_connected_clients_are_counted_in_info_and_metrics(start_backend: StartBackend) -> None:
    backend = start_backend("backend-count")

    async def scenario() -> Any:
        async with connect(backend.ws_url()) as first, connect(backend.ws_url("/ws/x")) as second:
            for socket in (first, second):
                await receive_json(socket)
            return backend.get("/api/agents/info")[1]["websocket_clients"], metric_value(
                backend, "brain_websocket_clients", instance="backend-count"
            )

    assert asyncio.run(scenario()) == (2, 2)
    wait_until(lambda: backend.get("/api/agents/info")[1]["websocket_clients"] == 0, 5, "both clients to be gone")
