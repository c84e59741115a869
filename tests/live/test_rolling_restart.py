"""Replacing every replica one at a time (SIGTERM, wait for exit, start, wait until ready) costs no failed GET."""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.support.topology import BackendFleet, StartBalancer
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


def test_rolling_restart_gated_on_readiness_costs_no_failed_get(backends: BackendFleet, start_balancer: StartBalancer):
    """The dev stack's rolling update: each replica is replaced once the one before is *ready* (Docker's health
    check), not once nginx sends it traffic again. With the default fail_timeout (30s) nginx would still sideline
    the replica it saw fail, so the next one going down leaves it with none; the dev stack therefore has nginx
    forget those failures (reset_failures) as each new replica turns healthy. Fresh connections per request, as
    in test_scaling: a reload's closing of idle client connections is a race HTTP/1.1 leaves to clients."""
    balancer = start_balancer(BalancerConfig())
    with SteadyLoad(balancer.url("/api/agents/info"), concurrency=10, keep_alive=False) as load:
        load.wait_for_requests(200)
        for index in range(len(backends.instances)):
            backends.stop(index)
            backends.start(index)  # returns once /health/ready answers 200
            balancer.process.reset_failures()
            load.wait_for_requests(100)
    assert load.result.failures == [], f"{len(load.result.failures)} GETs failed: {load.result.failures[:5]}"
    assert set(load.result.per_instance) == set(backends.instances)
