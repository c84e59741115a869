"""What `nginx -t` cannot see: the rendered directives mean what the balancer config asks for.

Expectations come from the config and from nginx's documented semantics, never from the renderer's output.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest

from components.config import BalancerConfig
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, render_nginx_conf
from tests.support.nginx_directives import Directive, parse_nginx_conf

DEBIAN_NGINX = (1, 22, 1)
DOCKER_NGINX = (1, 29, 3)
TEST_RUNTIME = NginxRuntime(version=DEBIAN_NGINX, listen_address="127.0.0.1", user=None)

# nginx's directive for each algorithm (None: its default, round robin), as its documentation names them.
METHOD_DIRECTIVE = {
    "round_robin": None,
    "weighted": None,
    "least_conn": ["least_conn"],
    "ip_hash": ["ip_hash"],
    "consistent_hash": ["hash", "$binary_remote_addr", "consistent"],
}
METHOD_NAMES = {"least_conn", "ip_hash", "hash", "random"}


def servers(count: int = 3) -> list[UpstreamServer]:
    return [UpstreamServer(f"10.0.0.{number}", 8000) for number in range(1, count + 1)]


def rendered(balancer: BalancerConfig, count: int = 3, runtime: NginxRuntime = TEST_RUNTIME) -> Directive:
    return parse_nginx_conf(render_nginx_conf(nginx_settings(balancer), servers(count), runtime))


def http_block(conf: Directive) -> Directive:
    return conf.one("http")


def server_block(conf: Directive) -> Directive:
    return http_block(conf).one("server")


def location(conf: Directive, *path: str) -> Directive:
    return server_block(conf).one("location", *path)


def upstream_behind(conf: Directive, *path: str) -> Directive:
    """The upstream block that the location for `path` proxies to."""
    (target,) = location(conf, *path).one("proxy_pass").args
    assert target.startswith("http://"), target
    return http_block(conf).one("upstream", target.removeprefix("http://"))


def method_of(upstream: Directive) -> list[list[str]]:
    return [[child.name, *child.args] for child in upstream.block if child.name in METHOD_NAMES]


def server_lines(upstream: Directive) -> list[Directive]:
    return upstream.all("server")


def parameter(server: Directive, name: str) -> str | None:
    """The value of `name=value` among a server's parameters, or None."""
    values = [arg.split("=", 1)[1] for arg in server.args[1:] if arg.startswith(f"{name}=")]
    assert len(values) <= 1, server
    return values[0] if values else None


def header(block: Directive, name: str) -> str:
    (value,) = [directive.args[1] for directive in block.all("proxy_set_header", name)]
    return value


# Routing


@pytest.mark.parametrize("path", [("/api/",), ("/health/",), ("/",), ("/metrics",)])
def test_api_paths_go_to_the_api_upstream(path: tuple[str, ...]):
    conf = rendered(BalancerConfig())
    assert upstream_behind(conf, *path).args == upstream_behind(conf, "/api/").args


def test_websockets_go_to_their_own_upstream():
    conf = rendered(BalancerConfig())
    assert upstream_behind(conf, "/ws/").args != upstream_behind(conf, "/api/").args


# Upstreams


@pytest.mark.parametrize("algorithm", sorted(METHOD_DIRECTIVE))
@pytest.mark.parametrize("affinity", ["ip_hash", "consistent_hash"])
def test_algorithm_applies_to_the_api_upstream_and_affinity_to_the_websocket_one(algorithm: str, affinity: str):
    weights = [1, 2, 3] if algorithm == "weighted" else []
    conf = rendered(
        BalancerConfig.model_validate({"algorithm": algorithm, "weights": weights, "websocket_affinity": affinity})
    )
    api_method, websocket_method = METHOD_DIRECTIVE[algorithm], METHOD_DIRECTIVE[affinity]
    assert method_of(upstream_behind(conf, "/api/")) == ([api_method] if api_method else [])
    assert method_of(upstream_behind(conf, "/ws/")) == [websocket_method]


def test_weights_follow_the_server_order_in_both_upstreams():
    weights = [5, 1, 3, 2]
    conf = rendered(BalancerConfig(algorithm="weighted", weights=weights), count=4)
    for path in ("/api/", "/ws/"):
        upstream_servers = server_lines(upstream_behind(conf, path))
        assert [server.args[0] for server in upstream_servers] == [f"10.0.0.{n}:8000" for n in (1, 2, 3, 4)]
        assert [parameter(server, "weight") for server in upstream_servers] == [str(w) for w in weights], path


def test_no_weights_unless_the_algorithm_is_weighted():
    conf = rendered(BalancerConfig(algorithm="least_conn"))
    for path in ("/api/", "/ws/"):
        assert all(parameter(server, "weight") is None for server in server_lines(upstream_behind(conf, path)))


def test_every_server_carries_the_passive_health_check_settings():
    conf = rendered(BalancerConfig(max_fails=7, fail_timeout="1m30s"), count=5)
    for path in ("/api/", "/ws/"):
        for server in server_lines(upstream_behind(conf, path)):
            assert (parameter(server, "max_fails"), parameter(server, "fail_timeout")) == ("7", "1m30s"), server


def test_keepalive_pool_on_the_api_upstream_only():
    conf = rendered(BalancerConfig(keepalive=48, keepalive_timeout="75s"))
    api = upstream_behind(conf, "/api/")
    assert api.one("keepalive").args == ["48"] and api.one("keepalive_timeout").args == ["75s"]
    websocket = upstream_behind(conf, "/ws/")
    assert not websocket.all("keepalive") and not websocket.all("keepalive_timeout")


def test_keepalive_zero_renders_no_pool():
    api = upstream_behind(rendered(BalancerConfig(keepalive=0)), "/api/")
    assert not api.all("keepalive") and not api.all("keepalive_timeout")


def test_keepalive_comes_after_the_balancing_method():
    """nginx's rule: a method other than round robin must be set before `keepalive`."""
    names = [child.name for child in upstream_behind(rendered(BalancerConfig(algorithm="least_conn")), "/api/").block]
    assert names.index("least_conn") < names.index("keepalive")


# Version awareness


@pytest.mark.parametrize(
    ("version", "resolver", "re_resolves"),
    [
        (DEBIAN_NGINX, None, False),
        (DEBIAN_NGINX, "127.0.0.11", False),
        ((1, 27, 2), "127.0.0.11", False),
        ((1, 27, 3), None, False),
        ((1, 27, 3), "127.0.0.11", True),
        (DOCKER_NGINX, "127.0.0.11", True),
        ((2, 0, 0), "127.0.0.11", True),
    ],
)
def test_servers_re_resolve_only_with_a_resolver_on_nginx_1_27_3_or_later(
    version: tuple[int, int, int], resolver: str | None, re_resolves: bool
):
    conf = rendered(BalancerConfig(), runtime=NginxRuntime(version=version, resolver=resolver))
    http = http_block(conf)
    if re_resolves:
        assert http.one("resolver").args == [resolver, "valid=10s", "ipv6=off"]
    else:
        assert not http.all("resolver")
    for path in ("/api/", "/ws/"):
        upstream = upstream_behind(conf, path)
        (name,) = upstream.args
        # `resolve` needs the upstream in shared memory; every version here has `zone`.
        assert upstream.one("zone").args == [name, "64k"]
        assert all(("resolve" in server.args) == re_resolves for server in server_lines(upstream)), upstream


# Request path


def test_api_path_uses_http_1_1_and_clears_connection_for_keepalive():
    server = server_block(rendered(BalancerConfig()))
    assert server.one("proxy_http_version").args == ["1.1"]
    assert header(server, "Connection") == ""
    for path in ("/api/", "/health/", "/", "/metrics"):
        block = server.one("location", path)
        assert not block.all("proxy_set_header") and not block.all("proxy_http_version"), f"{path} overrides"


def test_api_timeouts_and_buffers_come_from_config():
    server = server_block(
        rendered(BalancerConfig(connect_timeout="2s", read_timeout="45s", send_timeout="1m", client_max_body_size="3m"))
    )
    assert server.one("proxy_connect_timeout").args == ["2s"]
    assert server.one("proxy_read_timeout").args == ["45s"]
    assert server.one("proxy_send_timeout").args == ["1m"]
    assert server.one("client_max_body_size").args == ["3m"]
    assert server.one("proxy_buffer_size").args == ["8k"]
    assert server.one("proxy_buffers").args == ["8", "8k"]


@pytest.mark.parametrize("count", [1, 3, 8])
def test_retries_move_idempotent_requests_to_the_next_replica_a_bounded_number_of_times(count: int):
    server = server_block(rendered(BalancerConfig(read_timeout="20s"), count=count))
    conditions = server.one("proxy_next_upstream").args
    assert set(conditions) == {"error", "timeout", "http_502", "http_503", "http_504"}
    assert "non_idempotent" not in conditions
    assert server.one("proxy_next_upstream_tries").args == [str(count)]
    assert server.one("proxy_next_upstream_timeout").args == ["20s"]


def test_forwarded_headers_reach_every_proxied_location():
    conf = rendered(BalancerConfig())
    expected = {
        "Host": "$host",
        "X-Real-IP": "$remote_addr",
        "X-Forwarded-For": "$proxy_add_x_forwarded_for",
        "X-Forwarded-Proto": "$scheme",
        "X-Request-ID": "$brain_request_id",
    }
    # A location with its own proxy_set_header inherits none from the server: check where they take effect.
    websocket = location(conf, "/ws/")
    for block in (server_block(conf), websocket):
        assert {name: header(block, name) for name in expected} == expected, block


def test_request_id_reuses_the_callers_and_mints_one_otherwise():
    mapping = http_block(rendered(BalancerConfig())).one("map", "$http_x_request_id", "$brain_request_id")
    assert len(mapping.block) == 2
    assert mapping.one("default").args == ["$http_x_request_id"] and mapping.one("").args == ["$request_id"]


def test_websocket_location_upgrades_and_holds_the_connection():
    conf = rendered(BalancerConfig(websocket_timeout="2h"))
    websocket = location(conf, "/ws/")
    assert header(websocket, "Upgrade") == "$http_upgrade"
    assert header(websocket, "Connection") == "$connection_upgrade"
    upgrade = http_block(conf).one("map", "$http_upgrade", "$connection_upgrade")
    assert upgrade.one("default").args == ["upgrade"] and upgrade.one("").args == ["close"]
    assert websocket.one("proxy_read_timeout").args == ["2h"]
    assert websocket.one("proxy_send_timeout").args == ["2h"]
    assert websocket.one("proxy_buffering").args == ["off"]


# Access control


def first_matching_rule(block: Directive, address: str) -> str:
    """nginx's access module: the first allow/deny whose network contains the address decides."""
    client = ipaddress.ip_address(address)
    for rule in block.block:
        if rule.name in ("allow", "deny"):
            (network,) = rule.args
            if network == "all" or (
                ipaddress.ip_network(network).version == client.version and client in ipaddress.ip_network(network)
            ):
                return rule.name
    return "allow"


STACK_NETWORK = "172.28.89.0/24"
INTERNAL = ["127.0.0.1", "127.8.9.10", "::1", "172.28.89.1", "172.28.89.254"]
"""Loopback, and the stack's own network (its gateway .1 is how the host itself reaches a published port)."""
OUTSIDE = ["10.1.2.3", "172.16.0.1", "172.28.90.1", "192.168.1.10", "fd12::1", "8.8.8.8", "2001:db8::1", "fe80::1"]
"""Other private addresses too: with the port published on 0.0.0.0 they are the LAN's hosts."""


@pytest.mark.parametrize("path", [("=", "/nginx_status"), ("/metrics",)])
def test_status_and_metrics_answer_loopback_and_the_stack_network_only(path: tuple[str, ...]):
    runtime = NginxRuntime(version=DEBIAN_NGINX, internal_networks=(STACK_NETWORK,))
    block = location(rendered(BalancerConfig(), runtime=runtime), *path)
    assert {address: first_matching_rule(block, address) for address in INTERNAL + OUTSIDE} == {
        **{address: "allow" for address in INTERNAL},
        **{address: "deny" for address in OUTSIDE},
    }


def test_without_a_stack_network_only_loopback_reads_status():
    block = location(rendered(BalancerConfig()), "=", "/nginx_status")
    assert [address for address in INTERNAL + OUTSIDE if first_matching_rule(block, address) == "allow"] == [
        "127.0.0.1", "127.8.9.10", "::1"
    ]


@pytest.mark.parametrize("network", ["172.28.89.1/24", "all", "10.0.0.0/8; allow all", ""])
def test_an_internal_network_nginx_could_misread_is_refused(network: str):
    with pytest.raises(ValueError, match="is not an IP network"):
        rendered(BalancerConfig(), runtime=NginxRuntime(version=DEBIAN_NGINX, internal_networks=(network,)))


def test_status_location_serves_stub_status():
    status = location(rendered(BalancerConfig()), "=", "/nginx_status")
    assert status.one("stub_status").args == [] and not status.all("proxy_pass")


# Process and logging


def test_worker_limits_follow_worker_connections():
    conf = rendered(BalancerConfig(worker_connections=20_000))
    assert conf.one("events").one("worker_connections").args == ["20000"]
    assert conf.one("worker_rlimit_nofile").args == ["40000"]


def test_open_files_never_exceed_what_the_runtime_allows():
    runtime = NginxRuntime(version=DEBIAN_NGINX, max_open_files=30_000)
    conf = rendered(BalancerConfig(worker_connections=20_000), runtime=runtime)
    assert conf.one("worker_rlimit_nofile").args == ["30000"]


def test_server_listens_where_the_runtime_says_and_hides_its_version():
    conf = rendered(BalancerConfig(port=8123))
    assert server_block(conf).one("listen").args == ["127.0.0.1:8123"]
    assert http_block(conf).one("server_tokens").args == ["off"]


def test_user_only_when_the_runtime_names_one():
    assert not rendered(BalancerConfig()).all("user")
    named = rendered(BalancerConfig(), runtime=NginxRuntime(version=DOCKER_NGINX, resolver="127.0.0.11"))
    assert named.one("user").args == ["nginx"]


def test_access_log_is_one_json_object_with_the_request_fields():
    conf = rendered(BalancerConfig())
    log_format = http_block(conf).one("log_format", "brain_json")
    assert log_format.args[1] == "escape=json"
    assert http_block(conf).one("access_log").args == [TEST_RUNTIME.access_log, "brain_json"]
    # Every nginx variable stands for a number here; the line must then parse as JSON with all the fields.
    sample = re.sub(r"\$\w+", "1", "".join(log_format.args[2:]))
    assert set(json.loads(sample)) == {
        "time", "request_id", "remote_addr", "method", "uri", "status", "bytes_sent", "request_time",
        "upstream_addr", "upstream_status", "upstream_connect_time", "upstream_response_time",
    }


def test_config_depends_on_no_file_outside_itself():
    conf = rendered(BalancerConfig())
    assert not [directive for directive in conf.walk() if directive.name in ("include", "load_module")]
    assert http_block(conf).one("default_type").args == ["application/octet-stream"]


def test_for_directory_keeps_everything_nginx_writes_in_the_directory(tmp_path: Path):
    runtime = NginxRuntime.for_directory(tmp_path, DEBIAN_NGINX)
    conf = rendered(BalancerConfig(), runtime=runtime)
    written = [conf.one("pid").args[0], conf.one("error_log").args[0], http_block(conf).one("access_log").args[0]]
    written += [d.args[0] for d in http_block(conf).block if d.name.endswith("_temp_path")]
    assert len(written) == 8, written
    assert all(Path(path).parent == tmp_path.resolve() for path in written), written
    assert server_block(conf).one("listen").args[0].startswith("127.0.0.1:")


# Impossible input


@pytest.mark.parametrize(
    ("balancer", "count", "message"),
    [
        (BalancerConfig(), 0, "at least one upstream server"),
        (BalancerConfig(algorithm="weighted", weights=[1, 2]), 3, "2 entries for 3 upstream servers"),
        (BalancerConfig(algorithm="ip_hash", weights=[1, 2, 3]), 3, "only allowed with balancer.algorithm 'weighted'"),
    ],
)
def test_impossible_inputs_are_refused(balancer: BalancerConfig, count: int, message: str):
    with pytest.raises(ValueError, match=re.escape(message)):
        render_nginx_conf(nginx_settings(balancer), servers(count), TEST_RUNTIME)


@pytest.mark.parametrize(
    ("server", "message"),
    [
        (UpstreamServer("backend-1; include /etc/passwd", 8000), "is not an IP address or host name"),
        (UpstreamServer("", 8000), "is not an IP address or host name"),
        (UpstreamServer("backend-1", 0), "outside 1..65535"),
    ],
)
def test_servers_that_would_break_the_config_are_refused(server: UpstreamServer, message: str):
    with pytest.raises(ValueError, match=re.escape(message)):
        render_nginx_conf(nginx_settings(BalancerConfig()), [server], TEST_RUNTIME)


def test_ipv6_servers_are_bracketed():
    settings = nginx_settings(BalancerConfig())
    conf = parse_nginx_conf(render_nginx_conf(settings, [UpstreamServer("fd00::5", 8000)], TEST_RUNTIME))
    assert [server.args[0] for server in server_lines(upstream_behind(conf, "/api/"))] == ["[fd00::5]:8000"]
