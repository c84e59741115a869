"""A replica that dies under load costs no failed GET (proxy_next_upstream), and it rejoins after fail_timeout."""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.support.topology import BackendFleet, StartBalancer
from tests.support.load import SteadyLoad

pytestmark = pytest.mark.live


def test_killed_backend_costs_no_failed_get_and_rejoins_after_fail_timeout(
    backends: BackendFleet, start_balancer: StartBalancer
):
    balancer = start_balancer(BalancerConfig(fail_timeout="2s"))
    victim = backends.instances[0]
    with SteadyLoad(balancer.url("/api/agents/info"), concurrency=10) as load:
        load.wait_for_requests(200)
        backends.kill(0)
        killed_at = load.result.sent
        load.wait_for_requests(1000)
        restarted_at = load.result.sent
        backends.start(0)
        load.wait_for_instance(victim, timeout=60)
        load.wait_for_requests(200)
    assert load.result.failures == [], f"{len(load.result.failures)} GETs failed: {load.result.failures[:5]}"
    assert victim not in load.result.answered_between(killed_at, restarted_at), f"{victim} answered while dead"
