"""Scaling by config: nginx reloads with more or fewer replicas under load, and no GET fails (F8).

A reload makes the old workers close their idle client connections; a request sent on one at that very moment is
lost in the way HTTP/1.1 leaves to the client to retry (RFC 9112, 9.3.1). That race is nginx's and every
server's, not the config's, so here each request comes on a new connection and the test sees only what the
config decides: which replicas get the requests, and that none is dropped between them.
"""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.live.topology import BackendFleet, StartBalancer
from tests.support.load import SteadyLoad

pytestmark = pytest.mark.live


def test_reload_scales_out_and_in_without_a_failed_get(backends: BackendFleet, start_balancer: StartBalancer):
    config = BalancerConfig()
    two, three = backends.servers[:2], backends.servers
    added = backends.instances[2]
    balancer = start_balancer(config, servers=two)
    with SteadyLoad(balancer.url("/api/agents/info"), concurrency=10, keep_alive=False) as load:
        load.wait_for_requests(200)
        assert added not in load.result.per_instance, f"{added} answered before it was configured"
        balancer.reload(config, three)
        load.wait_for_instance(added, timeout=60)
        balancer.reload(config, two)
        scaled_in_at = load.result.sent
        load.wait_for_requests(300)
    assert load.result.failures == [], f"{len(load.result.failures)} GETs failed: {load.result.failures[:5]}"
    assert added not in load.result.answered_between(scaled_in_at), f"{added} still answered after the scale-in"
