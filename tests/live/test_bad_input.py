"""Malformed requests get a 4xx from nginx or the backend, and no backend dies of them."""

from __future__ import annotations

import http.client
import socket

import pytest

from components.config import BalancerConfig
from tests.support.topology import Balancer, BackendFleet, StartBalancer

pytestmark = pytest.mark.live

ANSWER_TIMEOUT_SECONDS = 15
BODY_LIMIT = "1m"
OVER_BODY_LIMIT = 2 * 1024 * 1024

BAD_REQUESTS = {
    "upgrade without key or version": (
        b"GET /ws/bad HTTP/1.1\r\nHost: brain\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    ),
    "body over client_max_body_size": (
        b"POST /api/broadcast HTTP/1.1\r\nHost: brain\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % OVER_BODY_LIMIT
    ),
    "unknown method": b"FOO /api/agents/info HTTP/1.1\r\nHost: brain\r\n\r\n",
    "garbage request line": b"\x16\x03\x01 this is not http\r\n\r\n",
    "header without colon": b"GET /api/agents/info HTTP/1.1\r\nHost: brain\r\nno colon here\r\n\r\n",
}
REFUSED_BY_NGINX = {"body over client_max_body_size": 413, "garbage request line": 400, "header without colon": 400}
"""The requests nginx itself must refuse, with the status it must give."""


@pytest.fixture
def balancer(start_balancer: StartBalancer) -> Balancer:
    return start_balancer(BalancerConfig(client_max_body_size=BODY_LIMIT))


def _send_raw_request(host: str, port: int, request: bytes) -> tuple[int, str]:
    """Send `request` as raw bytes; the status and body of the answer, parsed as any HTTP client would."""
    with socket.create_connection((host, port), timeout=ANSWER_TIMEOUT_SECONDS) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection)
        try:
            response.begin()
            return response.status, response.read().decode(errors="replace")
        except TimeoutError:
            pytest.fail(f"no answer within {ANSWER_TIMEOUT_SECONDS} s to {request[:80]!r}")


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_request_gets_a_client_error_and_every_backend_survives(
    name: str, balancer: Balancer, backends: BackendFleet
):
    status, body = _send_raw_request(balancer.host, balancer.port, BAD_REQUESTS[name])
    assert 400 <= status < 500, f"{name}: expected a 4xx, got {status}: {body[:200]!r}"
    if name in REFUSED_BY_NGINX:
        assert status == REFUSED_BY_NGINX[name], f"{name}: expected {REFUSED_BY_NGINX[name]}, got {status}"
        # nginx's own error page: the request was stopped at the balancer, not by a replica.
        assert "<center>nginx</center>" in body, f"{name}: answered by a replica, not nginx: {body[:200]!r}"
    backends.assert_all_ready()
