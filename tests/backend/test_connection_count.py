"""The accepted-connection counter: one per TCP connection, however many keep-alive requests it carries."""

from __future__ import annotations

import http.client
import json
import time

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


def test_an_idle_keepalive_connection_outlives_the_balancers_pool_timeout(start_backend: StartBackend) -> None:
    # uvicorn alone closes idle connections after 5 s; the backend keeps them (75 s by default, longer than
    # nginx's 60 s upstream keepalive_timeout) so the balancer never sends a request into a closing connection.
    backend = start_backend("backend-idle")
    connection = open_connection(backend)
    try:
        before = connections_seen(connection)
        time.sleep(6)
        assert connections_seen(connection) == before, "the idle connection was closed and had to be reopened"
    finally:
        connection.close()


def test_the_keepalive_timeout_is_configurable(start_backend: StartBackend) -> None:
    backend = start_backend("backend-idle", {"KEEPALIVE_TIMEOUT_SECONDS": "1"})
    connection = open_connection(backend)
    try:
        connections_seen(connection)
        assert connection.sock is not None
        connection.sock.settimeout(5)
        assert connection.sock.recv(1) == b"", "the backend should close a connection idle for over 1 s"
    finally:
        connection.close()
