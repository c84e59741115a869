"""Scaling by config: nginx reloads with more or fewer replicas under load, and no GET fails (F8).

A reload makes the old workers close their idle client connections; a request sent on one at that very moment is
lost in the way HTTP/1.1 leaves to the client to retry (RFC 9112, 9.3.1). That race is nginx's and every
server's, not the config's, so here each request comes on a new connection and the test sees only what the
config decides: which replicas get the requests, and that none is dropped between them.
"""

from __future__ import annotations

import pytest

from components.config import BalancerConfig
from tests.support.topology import BackendFleet, StartBalancer
from tests.support.load import SteadyLoad
from tests.support.nginx import CONF_NAME, NginxConfigRejected

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


def test_a_config_nginx_refuses_is_never_loaded(backends: BackendFleet, start_balancer: StartBalancer):
    """The reload the dev stack runs (nginx_conf.reload_script) checks first: a broken config changes nothing."""
    balancer = start_balancer(BalancerConfig(), servers=backends.servers)
    running_conf = balancer.process.conf_text
    broken = running_conf.replace("server_tokens off;", "server_tokens maybe;")
    assert broken != running_conf, "the rendered config has no `server_tokens off;` to break"
    with pytest.raises(NginxConfigRejected, match=r"invalid value \"maybe\""):
        balancer.process.reload(broken)
    conf_on_disk = (balancer.process.directory / CONF_NAME).read_text()
    assert conf_on_disk == running_conf, "a refused config must not replace the running one on disk"
    assert not (balancer.process.directory / f"{CONF_NAME}.next").exists(), "the refused candidate is left behind"
    with SteadyLoad(balancer.url("/api/agents/info"), concurrency=3) as load:
        load.wait_for_requests(60)
    assert load.result.failures == [], f"nginx stopped serving after a refused reload: {load.result.failures[:3]}"
