"""Malformed input gets a 4xx saying what was wrong, and the process keeps serving."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from backend.app import MAX_BROADCAST_BYTES
from tests.support.processes import BackendProcess, running_backend


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
