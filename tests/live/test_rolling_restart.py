"""Replacing every replica one at a time (SIGTERM, wait for exit, start, wait until ready) costs no failed GET."""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.live.topology import BackendFleet, StartBalancer
from tests.support.load import SteadyLoad

pytestmark = pytest.mark.live


def test_rolling_restart_of_every_backend_costs_no_failed_get(backends: BackendFleet, start_balancer: StartBalancer):
    balancer = start_balancer(BalancerConfig(fail_timeout="2s"))
    with SteadyLoad(balancer.url("/api/agents/info"), concurrency=10) as load:
        load.wait_for_requests(200)
        for index, instance in enumerate(backends.instances):
            backends.stop(index)
            backends.start(index)
            load.wait_for_instance(instance, timeout=60)
            load.wait_for_requests(200)
    assert load.result.failures == [], f"{len(load.result.failures)} GETs failed: {load.result.failures[:5]}"
