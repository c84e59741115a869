"""Each balancing algorithm, as the rendered nginx.conf runs in a real nginx, spreads real requests as it promises."""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.support.topology import BackendFleet, StartBalancer
from tests.support.load import send_requests

pytestmark = pytest.mark.live

INFO = "/api/agents/info"


def _sticky_instance(url: str, source: str, requests: int = 20) -> str:
    """The one instance that answers every request from `source`; fails if a second one answers."""
    result = send_requests(url, requests, local_address=source)
    assert result.failures == [], f"requests from {source} failed: {result.failures[:3]}"
    assert len(result.per_instance) == 1, f"requests from {source} were spread over {dict(result.per_instance)}"
    return result.answered_by[0]


def test_round_robin_spreads_sequential_requests_equally(backends: BackendFleet, start_balancer: StartBalancer):
    balancer = start_balancer(BalancerConfig(algorithm="round_robin"))
    result = send_requests(balancer.url(INFO), 1500)
    assert result.failures == []
    # The upstream's shared zone keeps one rotation for all nginx workers, so the split is exact.
    assert dict(result.per_instance) == {instance: 500 for instance in backends.instances}


def test_weighted_follows_the_weights_exactly(backends: BackendFleet, start_balancer: StartBalancer):
    balancer = start_balancer(BalancerConfig(algorithm="weighted", weights=[3, 2, 1]))
    result = send_requests(balancer.url(INFO), 600)
    assert result.failures == []
    expected = dict(zip(backends.instances, [300, 200, 100]))
    assert dict(result.per_instance) == expected


def test_ip_hash_keeps_a_client_network_on_one_backend(backends: BackendFleet, start_balancer: StartBalancer):
    url = start_balancer(BalancerConfig(algorithm="ip_hash")).url(INFO)
    _sticky_instance(url, "127.0.0.1", requests=300)
    by_network = {k: _sticky_instance(url, f"127.0.{k}.1") for k in range(1, 13)}
    assert len(set(by_network.values())) > 1, f"12 client networks all landed on one backend: {by_network}"
    # ip_hash keys on the first three octets: another address of the same /24 lands on the same backend.
    for k, instance in by_network.items():
        assert _sticky_instance(url, f"127.0.{k}.77") == instance, f"127.0.{k}.0/24 moved between backends"


def test_consistent_hash_keeps_each_client_address_on_one_backend(
    backends: BackendFleet, start_balancer: StartBalancer
):
    url = start_balancer(BalancerConfig(algorithm="consistent_hash")).url(INFO)
    by_client = {k: _sticky_instance(url, f"127.0.9.{k}") for k in range(1, 13)}
    # Unlike ip_hash, the whole address is the key, so clients of one /24 spread over the backends.
    assert len(set(by_client.values())) > 1, f"12 clients of 127.0.9.0/24 all landed on one backend: {by_client}"
    for k, instance in by_client.items():
        assert _sticky_instance(url, f"127.0.9.{k}") == instance, f"client 127.0.9.{k} moved between backends"


def test_least_conn_moves_load_away_from_a_slow_backend(backends: BackendFleet, start_balancer: StartBalancer):
    slow = backends.instances[2]
    backends.restart(2, RESPONSE_DELAY_MS="1000")
    try:
        balancer = start_balancer(BalancerConfig(algorithm="least_conn"))
        result = send_requests(balancer.url(INFO), 600, concurrency=12)
    finally:
        backends.restart(2)
    assert result.failures == []
    # Round robin would send it exactly a third (200); least_conn only hands it a request when it is idle.
    assert result.per_instance[slow] < 600 / 6, f"slow {slow} still got {dict(result.per_instance)}"
