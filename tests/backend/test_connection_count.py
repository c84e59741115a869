"""The accepted-connection counter: one per TCP connection, however many keep-alive requests it carries."""

from __future__ import annotations

import http.client
import json

from tests.backend.conftest import StartBackend, metric_value
from tests.support.processes import BackendProcess


def connections_seen(connection: http.client.HTTPConnection) -> int:
    """The backend's count of accepted connections, asked over `connection` (kept open)."""
    connection.request("GET", "/api/agents/info")
    response = connection.getresponse()
    assert response.status == 200 and not response.will_close, "the backend must keep the connection open"
    return json.loads(response.read())["connections_accepted"]


def open_connection(backend: BackendProcess) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(backend.host, backend.port, timeout=5)


def test_many_keepalive_requests_count_one_connection(start_backend: StartBackend) -> None:
    backend = start_backend("backend-c")
    keepalive = open_connection(backend)
    try:
        counts = {connections_seen(keepalive) for _ in range(50)}
    finally:
        keepalive.close()
    assert len(counts) == 1, f"50 requests on one connection moved the counter: {sorted(counts)}"


def test_each_new_connection_is_counted(start_backend: StartBackend) -> None:
    backend = start_backend("backend-c")
    first = open_connection(backend)
    try:
        before = connections_seen(first)
        for expected in range(before + 1, before + 6):
            fresh = open_connection(backend)
            try:
                assert connections_seen(fresh) == expected
            finally:
                fresh.close()
        assert connections_seen(first) == before + 5
    finally:
        first.close()
    # The metric carries the same count (+1: the connection that fetches /metrics).
    assert metric_value(backend, "brain_http_connections_total", instance="backend-c") == before + 6
