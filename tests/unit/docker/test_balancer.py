"""Dev balancer: the configured algorithm and weights reach the nginx.conf the container receives."""

from __future__ import annotations

import re
import shlex

import pytest

from nginx_conf import reload_script
from tests.support.balancer_overrides import ROUND_ROBIN_WITH_HASHED_WEBSOCKETS, with_algorithm
from tools.program import reveal
from tests.support.renders import run_program

ALGORITHM_DIRECTIVE = {
    "round_robin": None,
    "least_conn": "least_conn",
    "ip_hash": "ip_hash",
    "consistent_hash": "hash $binary_remote_addr consistent",
}


def _nginx_conf(overrides: list[str]) -> str:
    uploads = reveal(run_program("dev", overrides).named("brain-nginx").inputs["uploads"])
    assert [upload["file"] for upload in uploads] == ["/etc/nginx/nginx.conf"]
    return uploads[0]["content"]


def _upstream_of(conf: str, location: str) -> list[str]:
    """The directives of the upstream that `location` proxies to, one per line."""
    block = re.search(rf"location\s+(?:=\s*)?{re.escape(location)}\s*\{{(.*?)\}}", conf, re.S)
    assert block, f"no location {location} in:\n{conf}"
    upstream_name = re.search(r"proxy_pass\s+http://([\w-]+)", block.group(1))
    assert upstream_name, f"location {location} does not proxy to an upstream"
    upstream = re.search(rf"upstream\s+{upstream_name.group(1)}\s*\{{(.*?)\}}", conf, re.S)
    assert upstream, f"no upstream {upstream_name.group(1)}"
    lines = (line.split("#")[0].strip().rstrip(";") for line in upstream.group(1).splitlines())
    return [line for line in lines if line]


@pytest.mark.parametrize("algorithm", sorted(ALGORITHM_DIRECTIVE))
def test_algorithm_reaches_the_api_upstream(algorithm: str) -> None:
    upstream = _upstream_of(_nginx_conf(with_algorithm(algorithm)), "/api/")
    methods = {"least_conn", "ip_hash", "random", "hash $binary_remote_addr consistent"}
    assert [line for line in upstream if line in methods] == [d for d in [ALGORITHM_DIRECTIVE[algorithm]] if d]


def test_weights_reach_the_servers_in_replica_order() -> None:
    conf = _nginx_conf(["balancer.algorithm=weighted", "balancer.weights=[3,2,1]"])
    servers = [line for line in _upstream_of(conf, "/api/") if line.startswith("server ")]
    weights = [re.search(r"\bweight=(\d+)", line) for line in servers]
    hosts = [line.split()[1] for line in servers]
    assert hosts == ["backend-1:8000", "backend-2:8000", "backend-3:8000"]
    assert [int(match.group(1)) for match in weights if match] == [3, 2, 1]


@pytest.mark.parametrize("replicas", [1, 3, 5])
def test_every_replica_is_an_upstream_server_with_passive_health_checks(replicas: int) -> None:
    conf = _nginx_conf([f"backend.replicas={replicas}", "balancer.max_fails=5", "balancer.fail_timeout=7s"])
    servers = [line for line in _upstream_of(conf, "/api/") if line.startswith("server ")]
    assert [line.split()[1] for line in servers] == [f"backend-{n}:8000" for n in range(1, replicas + 1)]
    for line in servers:
        assert "max_fails=5" in line.split() and "fail_timeout=7s" in line.split(), line


def test_websocket_affinity_reaches_the_websocket_upstream() -> None:
    conf = _nginx_conf(ROUND_ROBIN_WITH_HASHED_WEBSOCKETS)
    assert "hash $binary_remote_addr consistent" in _upstream_of(conf, "/ws/")
    assert "hash $binary_remote_addr consistent" not in _upstream_of(conf, "/api/")


def test_balancer_publishes_its_port_on_the_configured_address() -> None:
    run = run_program("dev", ["balancer.port=8080", "balancer.bind_address=0.0.0.0"])
    nginx = run.named("brain-nginx")
    assert nginx.inputs["ports"] == [{"internal": 8080, "external": 8080, "ip": "0.0.0.0"}]
    assert re.search(r"listen\s+0\.0\.0\.0:8080\b", _nginx_conf(["balancer.port=8080"]))
    assert run.outputs["balancer_url"] == "http://localhost:8080"


def test_balancer_waits_for_the_replicas_it_routes_to() -> None:
    run = run_program("dev", ["backend.replicas=2"])
    nginx = run.named("brain-nginx")
    for number in (1, 2):
        assert run.named(f"brain-backend-{number}").urn in nginx.depends_on


def test_config_changes_reload_the_running_nginx_instead_of_replacing_it() -> None:
    run = run_program("dev", ["balancer.algorithm=ip_hash"])
    nginx, reload = run.named("brain-nginx"), run.named("brain-nginx-reload")
    assert nginx.ignore_changes == ["uploads"], "a new nginx.conf must not replace the container"
    assert reload.type == "command:local:Command"
    assert reveal(reload.inputs["stdin"]) == reveal(nginx.inputs["uploads"])[0]["content"]
    assert reload.inputs["create"] == reload.inputs["update"]
    assert reload.inputs["create"].startswith("docker exec -i brain-nginx sh -c ")
    assert reload_script("/etc/nginx/nginx.conf") in shlex.split(reload.inputs["create"])
    assert nginx.urn in reload.depends_on, "the reload must run against the container it follows"
    assert reload.inputs["triggers"] == ["brain-nginx-id"], "a new container must get the current config too"


@pytest.mark.parametrize("subnet", ["172.28.89.0/24", "10.77.0.0/16"])
def test_status_and_metrics_admit_loopback_and_the_stack_network_only(subnet: str) -> None:
    """`network.subnet` (the network's own, tests/unit/docker/test_platform.py), and no other private range."""
    conf = _nginx_conf([f"network.subnet={subnet}", "balancer.bind_address=0.0.0.0"])
    for location in (r"=\s*/nginx_status", r"/metrics"):
        block = re.search(rf"location\s+{location}\s*\{{(.*?)\}}", conf, re.S)
        assert block, f"no location {location} in:\n{conf}"
        rules = [line.strip().rstrip(";") for line in block.group(1).splitlines() if re.match(r"\s*(allow|deny)\b", line)]
        assert rules == ["allow 127.0.0.0/8", "allow ::1/128", f"allow {subnet}", "deny all"], rules
