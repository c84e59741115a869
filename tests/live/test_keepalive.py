"""Upstream keepalive: at steady load nginx reuses its backend connections instead of opening one per request."""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.support.topology import BackendFleet, StartBalancer
from tests.support.load import send_requests

pytestmark = pytest.mark.live

CLIENT_CONNECTIONS = 10


def _new_upstream_connections(backends: BackendFleet, balancer_url: str, requests: int) -> int:
    """TCP connections the backends accepted while `requests` requests went through a warmed-up balancer."""
    warm_up = send_requests(balancer_url, 300, concurrency=CLIENT_CONNECTIONS)
    assert warm_up.failures == []

    def steady_load() -> None:
        result = send_requests(balancer_url, requests, concurrency=CLIENT_CONNECTIONS)
        assert result.failures == [], f"{len(result.failures)} requests failed: {result.failures[:3]}"

    return backends.connections_accepted_during(steady_load)


def test_upstream_connections_are_reused_at_steady_load(backends: BackendFleet, start_balancer: StartBalancer):
    balancer = start_balancer(BalancerConfig(keepalive=32))
    new_connections = _new_upstream_connections(backends, balancer.url("/api/agents/info"), 2000)
    assert new_connections < 2000 / 100, f"{new_connections} new upstream connections for 2000 requests"


def test_without_keepalive_every_request_opens_an_upstream_connection(
    backends: BackendFleet, start_balancer: StartBalancer
):
    """The control: proves the directive, not luck, keeps the count above low."""
    balancer = start_balancer(BalancerConfig(keepalive=0))
    new_connections = _new_upstream_connections(backends, balancer.url("/api/agents/info"), 500)
    assert new_connections >= 500, f"only {new_connections} new upstream connections for 500 requests"
