"""Readiness against real PostgreSQL (credentials checked, outage and recovery) and Qdrant's HTTP contract."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.conftest import StartBackend
from tests.support.processes import LOOPBACK, PostgresServer, running_postgres, wait_until


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    with running_postgres(tmp_path) as server:
        yield server


def test_ready_follows_postgres_down_and_up(start_backend: StartBackend, postgres: PostgresServer) -> None:
    backend = start_backend("backend-pg", {"DATABASE_URL": postgres.url()})
    assert backend.get("/health/ready") == (200, {"status": "ready", "instance": "backend-pg", "checks": {"postgres": "ok"}})

    postgres.stop()
    body = backend.wait_for_status("/health/ready", 503, timeout=10)
    assert body["checks"]["postgres"] != "ok", body

    postgres.start()
    assert backend.wait_for_status("/health/ready", 200, timeout=15)["checks"] == {"postgres": "ok"}


def test_wrong_postgres_credentials_are_not_ready(start_backend: StartBackend, postgres: PostgresServer) -> None:
    backend = start_backend("backend-pg", {"DATABASE_URL": postgres.url(password="wrong")}, wait_for="/health/live")
    status, body = backend.get("/health/ready")
    assert status == 503 and body["checks"] == {"postgres": "failed"}, body
    # Why is for the operator, in the log (the answer may reach the public through the balancer).
    wait_until(lambda: "password authentication failed" in backend.log_tail(), 5, "the refusal in the backend's log")
    assert "wrong" not in backend.log_tail(200), "the log shows the password"


class _QdrantStandIn(http.server.BaseHTTPRequestHandler):
    """Answers /readyz like Qdrant does, with the status the test chose; records the API key it was sent."""

    status = 200
    api_keys: list[str | None] = []

    def do_GET(self) -> None:
        type(self).api_keys.append(self.headers.get("api-key"))
        self.send_response(type(self).status if self.path == "/readyz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def qdrant_stand_in() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _QdrantStandIn)
    _QdrantStandIn.status, _QdrantStandIn.api_keys = 200, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_qdrant_readiness_uses_readyz_with_the_api_key(
    start_backend: StartBackend, qdrant_stand_in: http.server.ThreadingHTTPServer
) -> None:
    # No Qdrant binary on the test machine: this checks our side of its contract (path, header, status).
    url = f"http://{LOOPBACK}:{qdrant_stand_in.server_address[1]}"
    backend = start_backend("backend-q", {"QDRANT_URL": url, "QDRANT_API_KEY": "test-key"})
    assert backend.get("/health/ready")[1]["checks"] == {"qdrant": "ok"}
    assert set(_QdrantStandIn.api_keys) == {"test-key"}, _QdrantStandIn.api_keys

    _QdrantStandIn.status = 503
    status, body = backend.get("/health/ready")
    assert status == 503 and body["checks"] == {"qdrant": "failed"}, body
    wait_until(lambda: "503" in backend.log_tail(), 5, "Qdrant's status in the backend's log")
    assert "test-key" not in backend.log_tail(200), "the log shows the API key"
