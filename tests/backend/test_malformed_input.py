"""Malformed input gets a 4xx saying what was wrong, and the process keeps serving."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from backend.app import MAX_BROADCAST_BYTES
from backend.messages import MAX_JSON_DEPTH
from tests.backend.conftest import RECEIVE_TIMEOUT_SECONDS, receive_json
from tests.support.processes import BackendProcess, running_backend

DEEP_UNCLOSED = b"[" * 3000
"""About 3 KB of `[`: once a RecursionError (500, and a WebSocket dropped without a close frame)."""
DEEP_CLOSED = b'{"broadcast": ' + b"[" * 3000 + b"]" * 3000 + b"}"
JUST_TOO_DEEP = b'{"broadcast": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
"""The message object plus MAX_JSON_DEPTH arrays: one level more than allowed."""
REFUSED = {
    "3 KB of [": (DEEP_UNCLOSED, "nested deeper than"),
    "3000 nested arrays": (DEEP_CLOSED, "nested deeper than"),
    "one level too deep": (JUST_TOO_DEEP, "nested deeper than"),
    "NaN": (b'{"broadcast": NaN}', "NaN is not a JSON number"),
    "Infinity": (b'{"broadcast": [1, Infinity]}', "Infinity is not a JSON number"),
    "-Infinity": (b'{"broadcast": {"x": -Infinity}}', "-Infinity is not a JSON number"),
    "1e999": (b'{"broadcast": 1e999}', "too large for a finite number"),
}
"""Text Python's json module would take, which the contract refuses: (message, what the refusal says)."""


@pytest.fixture(scope="module")
def shared_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """One process for the whole module: every bad input below hits the same backend, which must survive them all."""
    with running_backend("backend-bad-input", tmp_path_factory.mktemp("bad-input")) as backend:
        yield backend


@pytest.fixture
def backend(shared_backend: BackendProcess) -> Iterator[BackendProcess]:
    yield shared_backend
    status, body = shared_backend.get("/health/ready")
    assert (status, body["status"]) == (200, "ready"), f"the backend did not survive: {status} {body}"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "expected a JSON object"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"message": "no broadcast key"}', "expected a JSON object"),
        (b"", "expected a JSON object"),
        (b"\xff\xfe\x00garbage", "expected a JSON object"),
    ],
)
def test_a_bad_broadcast_body_is_400(backend: BackendProcess, body: bytes, detail: str) -> None:
    response = httpx.post(f"{backend.base_url}/api/broadcast", content=body, timeout=5)
    assert response.status_code == 400 and detail in response.json()["detail"], response.text


def test_an_oversize_body_is_413_whether_declared_or_streamed(backend: BackendProcess) -> None:
    payload = b'{"broadcast": "' + b"x" * MAX_BROADCAST_BYTES + b'"}'
    declared = httpx.post(f"{backend.base_url}/api/broadcast", content=payload, timeout=5)
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        for start in range(0, len(payload), 8192):
            yield payload[start : start + 8192]

    streamed = httpx.post(f"{backend.base_url}/api/broadcast", content=chunks(), timeout=5)
    assert streamed.status_code == 413, streamed.text


def test_a_broadcast_just_under_the_limit_is_accepted(backend: BackendProcess) -> None:
    value = "x" * (MAX_BROADCAST_BYTES - 100)
    response = httpx.post(f"{backend.base_url}/api/broadcast", json={"broadcast": value}, timeout=5)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/broadcast"), ("DELETE", "/health/ready"), ("PUT", "/metrics")])
def test_a_wrong_method_is_405(backend: BackendProcess, method: str, path: str) -> None:
    assert httpx.request(method, f"{backend.base_url}{path}", timeout=5).status_code == 405


@pytest.mark.parametrize(
    "raw",
    [
        b"THIS IS NOT HTTP\r\n\r\n",
        b"GET /api/agents/info HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"GET /api/agents/info HTTP/1.1\r\nBad Header Line\r\n\r\n",
    ],
)
def test_a_malformed_request_is_400(backend: BackendProcess, raw: bytes) -> None:
    with socket.create_connection((backend.host, backend.port), timeout=5) as connection:
        connection.sendall(raw)
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 400"), status_line


def test_a_client_that_vanishes_mid_request_does_no_harm(backend: BackendProcess) -> None:
    with socket.create_connection((backend.host, backend.port), timeout=5) as connection:
        connection.sendall(b"POST /api/broadcast HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"broad")


@pytest.mark.parametrize(("body", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_json_is_400_saying_why(backend: BackendProcess, body: bytes, reason: str) -> None:
    response = httpx.post(f"{backend.base_url}/api/broadcast", content=body, timeout=5)
    assert response.status_code == 400 and reason in response.json()["detail"], response.text


def test_the_deepest_allowed_broadcast_is_published(backend: BackendProcess) -> None:
    depth = MAX_JSON_DEPTH - 1  # inside the message object
    body = b'{"broadcast": ' + b"[" * depth + b"]" * depth + b"}"
    response = httpx.post(f"{backend.base_url}/api/broadcast", content=body, timeout=5)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("message", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_json_on_a_websocket_closes_it_with_1007_saying_why(
    backend: BackendProcess, message: bytes, reason: str
) -> None:
    async def scenario() -> tuple[int, str] | None:
        async with connect(backend.ws_url()) as client:
            await receive_json(client)  # the greeting
            await client.send(message.decode())
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), RECEIVE_TIMEOUT_SECONDS)
            frame = closed.value.rcvd
            return (frame.code, frame.reason) if frame else None

    received = asyncio.run(scenario())
    assert received is not None, "the backend dropped the connection without a close frame"
    code, close_reason = received
    assert code == 1007 and reason in close_reason, received
