"""Stack config validation: every bad value fails before any resource is registered, naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, nginx_seconds, parse_stack_config, unique_ports
from tools.program import RegisteredResource
from tests.support.renders import run_program

# (override, key the message must name, a fragment of what is allowed or why)
BAD_CONFIGS = [
    ("balancer.algorithm=least_connections", "brain:balancer.algorithm", "'least_conn'"),
    ("balancer.fail_timeout=30x", "brain:balancer.fail_timeout", "nginx time"),
    ("balancer.fail_timeout=0s", "brain:balancer.fail_timeout", "positive"),
    ("balancer.fail_timeout=500ms", "brain:balancer.fail_timeout", "whole seconds"),
    ("balancer.read_timeout=30s1m", "brain:balancer.read_timeout", "units largest first"),
    ("balancer.websocket_timeout=forever", "brain:balancer.websocket_timeout", "nginx time"),
    ("balancer.keepalive=-1", "brain:balancer.keepalive", "greater than or equal to 0"),
    ("balancer.max_fails=-2", "brain:balancer.max_fails", "greater than or equal to 0"),
    ("balancer.port=70000", "brain:balancer.port", "less than or equal to 65535"),
    ("balancer.weights=[3,2,1]", "brain:balancer.weights", "only allowed with balancer.algorithm 'weighted'"),
    ("balancer.algorithm=weighted", "brain:balancer.weights", "one positive weight per replica"),
    ("balancer.client_max_body_size=10 megabytes", "brain:balancer.client_max_body_size", "nginx size"),
    ("balancer.websocket_affinity=round_robin", "brain:balancer.websocket_affinity", "'ip_hash'"),
    ("balancer.image=nginx:latest", "brain:balancer.image", "pinned to a version tag"),
    ("balancer.bind_address=localhost", "brain:balancer.bind_address", "IPv4 address"),
    ("balancer.algoritm=ip_hash", "brain:balancer.algoritm", "did you mean balancer.algorithm?"),
    ("balancer.keepalive_timeout=2m", "brain:balancer.keepalive_timeout", "must be below 75s"),
    ("balancer.worker_connections=100000", "brain:balancer.worker_connections", "less than or equal to 32768"),
    ("backend.replicas=0", "brain:backend.replicas", "greater than or equal to 1"),
    ("backend.replicas=three", "brain:backend.replicas", "whole number"),
    ("backend.image=brain:latest", "brain:backend.image", "pinned to a version tag"),
    ("backend.resources.memory=lots", "brain:backend.resources.memory", "memory quantity"),
    ("backend.autoscaling.min_replicas=12", "brain:backend.autoscaling.min_replicas", "greater than"),
    ("data.redis.image=redis", "brain:data.redis.image", "pinned to a version tag"),
    ("data.publish_ports=maybe", "brain:data.publish_ports", "true or false"),
    ("data.qdrant.image=qdrant/qdrant:v1.18.2", "brain:data.qdrant.image", "tagged v1.19.<patch> to match"),
    ("data.qdrant.image=qdrant/qdrant:v1.19", "brain:data.qdrant.image", "tagged v1.19.<patch> to match"),
    ("data.postgres.resources.cpu=fast", "brain:data.postgres.resources.cpu", "CPU quantity"),
    ("target=kubernetes", "brain:target", "'docker' or 'eks'"),
    ("cluster.node_group.min_size=5", "brain:cluster.node_group", "min_size <= desired_size <= max_size"),
    # issue 8: values that reached nginx.conf, a container, a manifest or an AWS call unchecked
    ("balancer.read_timeout=３０s", "brain:balancer.read_timeout", "nginx time"),
    ("balancer.send_timeout=٣٠s", "brain:balancer.send_timeout", "nginx time"),
    ("balancer.fail_timeout=99999999999999999999s", "brain:balancer.fail_timeout", "nginx's limit"),
    ("balancer.websocket_timeout=9223372036854775808ms", "brain:balancer.websocket_timeout", "nginx's limit"),
    ("balancer.client_max_body_size=8589934592g", "brain:balancer.client_max_body_size", "nginx's limit"),
    ("balancer.client_max_body_size=10mb", "brain:balancer.client_max_body_size", "nginx size"),
    ("balancer.client_max_body_size=1t", "brain:balancer.client_max_body_size", "nginx size"),
    ("balancer.client_max_body_size='0'", "brain:balancer.client_max_body_size", "must be positive"),
    ("balancer.read_timeout=10", "brain:balancer.read_timeout", "add one, such as 10s"),
    ("balancer.client_max_body_size=10", "brain:balancer.client_max_body_size", "add one, such as 10m"),
    ("balancer.bind_address=999.999.999.999", "brain:balancer.bind_address", "0..255"),
    ("balancer.bind_address=10.0.0.01", "brain:balancer.bind_address", "without leading zeros"),
    ("balancer.bind_address=::1", "brain:balancer.bind_address", "not IPv6"),
    ("balancer.bind_address=224.0.0.1", "brain:balancer.bind_address", "multicast"),
    ("cluster.host=a;b", "brain:cluster.host", "RFC 1123"),
    ("cluster.host=brain example.com", "brain:cluster.host", "RFC 1123"),
    ("cluster.host='*.example.com'", "brain:cluster.host", "no wildcard"),
    ("cluster.host=", "brain:cluster.host", "RFC 1123"),
    ("cluster.host=Brain.example.com", "brain:cluster.host", "lowercase"),
    ("cluster.host=-brain.example.com", "brain:cluster.host", "RFC 1123"),
    ("cluster.host=203.0.113.7", "brain:cluster.host", "an IP address"),
    ("cluster.host=" + "a" * 64 + ".example.com", "brain:cluster.host", "at most 63 characters"),
    ("cluster.host=" + ".".join(["a" * 63] * 4), "brain:cluster.host", "at most 253"),
    ("data.qdrant.chart_version=latest", "brain:data.qdrant.chart_version", "SemVer 2"),
    ("data.qdrant.chart_version=1.19", "brain:data.qdrant.chart_version", "SemVer 2"),
    ("data.qdrant.chart_version=01.19.0", "brain:data.qdrant.chart_version", "SemVer 2"),
    ("data.redis.node_type=t4g.small", "brain:data.redis.node_type", "ElastiCache node type"),
    ("data.postgres.instance_class=m7i.large", "brain:data.postgres.instance_class", "RDS instance class"),
    ("cluster.node_group.instance_types=[m7i large]", "brain:cluster.node_group.instance_types[0]", "instance type"),
    ("cluster.node_group.instance_types=[m7i.huge]", "brain:cluster.node_group.instance_types[0]", "instance type"),
    ("data.postgres.engine_version=seventeen", "brain:data.postgres.engine_version", "PostgreSQL major version"),
    ("data.postgres.engine_version=17", "brain:data.postgres.engine_version", 'quote it in YAML ("17"'),
    ("data.postgres.engine_version='17.7'", "brain:data.postgres.engine_version", "a pinned minor"),
    ("data.redis.engine_version=latest", "brain:data.redis.engine_version", "ElastiCache engine version"),
    ("data.redis.engine_version='8.1.0'", "brain:data.redis.engine_version", "valkey takes major.minor"),
    ("cluster.version=1.34.0", "brain:cluster.version", "EKS version in standard support"),
    ("cluster.version=1.36", "brain:cluster.version", 'quote it in YAML ("1.36"'),
    ("backend.replicas=true", "brain:backend.replicas", "whole number, not the boolean true"),
    ("backend.replicas='3'", "brain:backend.replicas", "remove the quotes"),
    ("backend.replicas=3.0", "brain:backend.replicas", "whole number, not the number 3.0"),
    ("balancer.weights=[1,true,1]", "brain:balancer.weights[1]", "whole number, not the boolean true"),
    ("data.publish_ports='true'", "brain:data.publish_ports", "remove the quotes"),
    ("monitoring.enabled=1", "brain:monitoring.enabled", "true or false, not the number 1"),
    ("backend.resources.cpu=0m", "brain:backend.resources.cpu", "from 10m"),
    ("backend.resources.cpu='0'", "brain:backend.resources.cpu", "from 10m"),
    ("backend.resources.cpu=0.0001", "brain:backend.resources.cpu", "CPU quantity"),
    ("backend.resources.memory='0'", "brain:backend.resources.memory", "from 6Mi"),
    ("backend.resources.memory=1Mi", "brain:backend.resources.memory", "from 6Mi"),
    ("balancer.image=nginx:stable", "brain:balancer.image", "the tag 'stable' names no version"),
    ("balancer.image=nginx:1.14.2-alpine", "brain:balancer.image", "nginx 1.14.2 is older than 1.15.3"),
    ("balancer.image=nginx@sha256:" + "a" * 64, "brain:balancer.image", "a digest alone does not tell"),
    ("data.redis.image=redis:alpine", "brain:data.redis.image", "the tag 'alpine' names no version"),
    ("backend.image=myapp:LATEST", "brain:backend.image", "the tag 'LATEST' names no version"),
    ("backend.image=latest", "brain:backend.image", "it has no tag"),
    ("data.postgres.image=postgres:17-alpine", "brain:data.postgres.image", "the tag '17-alpine' names no version"),
    ("backend.image=Brain/Core:1.0.0", "brain:backend.image", "pinned to a version tag"),
    ("monitoring.prometheus_image=prom/prometheus@sha256:abc", "brain:monitoring.prometheus_image", "@sha256: digest"),
    ("data.postgres.user=user", "brain:data.postgres.user", "a PostgreSQL reserved word"),
    ("data.postgres.user=pg_brain", "brain:data.postgres.user", "names starting with pg_"),
    ("data.postgres.user=brain_core_service_1", "brain:data.postgres.user", "at most 16 characters"),
    ("data.postgres.database=_brain", "brain:data.postgres.database", "a letter, then"),
    ("data.postgres.database=select", "brain:data.postgres.database", "a PostgreSQL reserved word"),
    ("tagret=docker", "brain:tagret", "did you mean target?"),
    ("balancer=fast", "brain:balancer", "expected a mapping of keys"),
    ("backend.resources=[500m]", "brain:backend.resources", "not a list"),
]


@pytest.mark.parametrize(("override", "key", "allowed"), BAD_CONFIGS, ids=[case[0] for case in BAD_CONFIGS])
def test_bad_config_is_rejected_naming_the_key_before_any_resource(override: str, key: str, allowed: str) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("dev", [override], registered=registered)
    message = str(raised.value)
    assert key in message, f"expected the message to name {key!r}, got:\n{message}"
    assert allowed in message, f"expected the message to say {allowed!r}, got:\n{message}"
    assert registered == [], f"expected no resource before the config error, got {[r.name for r in registered]}"


EKS: dict[str, Any] = {
    "target": "eks",
    "backend": {"image": "ghcr.io/brain/core:1.0.0"},
    "balancer": {"tls": {"email": "ops@brain.test"}},
    "cluster": {"api_access_cidrs": []},
}
"""The least an eks config needs."""

# (key, value): values at the edges of what is allowed, each of which the consumer takes
GOOD_VALUES = [
    ("balancer.read_timeout", "9223372036854775807ms"),
    ("balancer.websocket_timeout", "106751991167d"),
    ("balancer.fail_timeout", "1d2h3m4s"),
    ("balancer.client_max_body_size", "8589934591g"),
    ("balancer.client_max_body_size", "1"),
    ("balancer.bind_address", "0.0.0.0"),
    ("balancer.bind_address", "192.168.1.10"),
    ("balancer.image", "nginx:1.29.3-alpine@sha256:" + "0" * 64),
    ("balancer.image", "registry.example.com:5000/mirror/nginx:1.27.3"),
    ("balancer.image", "nginx:1.15.3"),
    ("backend.image", "ghcr.io/brain/brain-core:v2.0.0-rc.1"),
    ("backend.image", "localhost:5000/brain__core:17.7-alpine"),
    ("backend.image", "brain/core@sha256:" + "f" * 64),
    ("backend.image", "brain/core:stable@sha256:" + "f" * 64),
    ("backend.resources.cpu", "10m"),
    ("backend.resources.cpu", "0.01"),
    ("backend.resources.cpu", "1024"),
    ("backend.resources.memory", "6Mi"),
    ("backend.resources.memory", "32Ti"),
    ("cluster.host", "brain.example.com"),
    ("cluster.host", "xn--bcher-kva.example"),
    ("cluster.host", "a-b.c9"),
    ("cluster.host", ".".join(["a" * 63] * 3) + ".b1"),
    ("data.qdrant.chart_version", "1.19.1-rc.1+build.5"),
    ("data.postgres.engine_version", "17"),
    ("data.postgres.instance_class", "db.r6gd.16xlarge"),
    ("data.redis.engine_version", "7.2"),
    ("data.redis.node_type", "cache.m7g.xlarge"),
    ("cluster.node_group.instance_types", ["m6i.large", "r7i.2xlarge"]),
]


@pytest.mark.parametrize(("key", "value"), GOOD_VALUES, ids=[f"{key}={value}" for key, value in GOOD_VALUES])
def test_values_at_the_edges_of_what_is_allowed_are_accepted(key: str, value: object) -> None:
    section, *inner, leaf = key.split(".")
    raw: dict[str, Any] = {"target": "docker", section: {}}
    node = raw[section]
    for part in inner:
        node = node.setdefault(part, {})
    node[leaf] = value
    taken: Any = parse_stack_config(raw).model_dump()
    for part in key.split("."):
        taken = taken[part]
    assert taken == value, f"brain:{key}: wrote {value!r}, the config holds {taken!r}"


@pytest.mark.parametrize(
    ("engine", "version"), [("redis", "6.x"), ("redis", "6.2"), ("redis", "5.0.6"), ("redis", "7.1"), ("valkey", "8.0")]
)
def test_cache_engine_versions_follow_each_engines_grammar(engine: str, version: str) -> None:
    config = parse_stack_config({**EKS, "data": {"redis": {"engine": engine, "engine_version": version}}})
    assert config.data.redis.engine_version == version


@pytest.mark.parametrize(
    ("engine", "version", "rule"),
    [
        ("valkey", "6.2", "valkey takes major.minor from 7.2, such as 8.1"),
        ("redis", "7.x", "redis 7 and later take major.minor, such as 7.1"),
        ("redis", "6.2.6", 'redis 6 takes "6.2" or "6.x"'),
        ("redis", "5.0", "redis before 6 takes the full version, such as 5.0.6"),
    ],
)
def test_cache_engine_version_that_does_not_fit_the_engine_is_refused(engine: str, version: str, rule: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"target": "docker", "data": {"redis": {"engine": engine, "engine_version": version}}})
    assert raised.value.problems == [
        f"brain:data.redis.engine_version {version!r} does not fit data.redis.engine {engine!r}: {rule}"
    ]


@pytest.mark.parametrize(
    ("overrides", "clash"),
    [
        (["balancer.port=9090", "monitoring.enabled=true"],
         "brain:balancer.port and monitoring.prometheus_port both publish host port 9090"),
        (["monitoring.grafana_port=6379", "data.publish_ports=true"],
         "brain:monitoring.grafana_port and data.publish_ports (redis) both publish host port 6379"),
        (["balancer.port=5432", "data.publish_ports=true"],
         "brain:balancer.port and data.publish_ports (postgres) both publish host port 5432"),
        (["balancer.port=6333", "data.publish_ports=true"],
         "brain:balancer.port and data.publish_ports (qdrant) both publish host port 6333"),
    ],
)
def test_two_containers_never_publish_the_same_host_port(overrides: list[str], clash: str) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides, registered=registered)
    assert [problem.split(";")[0] for problem in raised.value.problems] == [clash]
    assert registered == []


def test_a_published_port_is_only_checked_where_it_is_published() -> None:
    unmonitored = {"target": "docker", "balancer": {"port": 9090}, "monitoring": {"enabled": False}}
    assert parse_stack_config(unmonitored).balancer.port == 9090
    assert parse_stack_config({"target": "docker", "balancer": {"port": 5432}}).balancer.port == 5432
    balancer = {**EKS["balancer"], "port": 9090}
    monitored = parse_stack_config({**EKS, "balancer": balancer, "monitoring": {"enabled": True}})
    assert monitored.balancer.port == 9090


def test_unique_ports_names_both_keys_of_every_clash() -> None:
    ports = [("balancer.port", 8000), ("a (fixed)", 3000), ("b.port", 8000), ("c (fixed)", 3000)]
    assert unique_ports(ports) == [
        "balancer.port and b.port both publish host port 8000; give balancer.port or b.port another port",
        "a (fixed) and c (fixed) both publish host port 3000",
    ]


def test_bad_value_is_quoted_in_the_message() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"target": "docker", "balancer": {"fail_timeout": "30x"}})
    assert "'30x'" in str(raised.value), f"expected the bad value in the message, got: {raised.value}"


def test_field_and_cross_key_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(
            {
                "target": "docker",
                "backend": {"replicas": True},
                "balancer": {"weights": [1, 2], "port": 9090, "read_timeout": "x"},
                "monitoring": {"enabled": True},
            }
        )
    assert [problem.split(" ")[0] for problem in raised.value.problems] == [
        "brain:backend.replicas",
        "brain:balancer.read_timeout",
        "brain:balancer.weights",
        "brain:balancer.port",
    ], raised.value.problems
    assert "only allowed with balancer.algorithm 'weighted'" in raised.value.problems[2]
    assert "both publish host port 9090" in raised.value.problems[3]


def test_a_rule_across_keys_is_silent_about_a_key_that_is_itself_invalid() -> None:
    """With `backend.replicas` invalid its default (3) stands in; a rule reading it would report a count nobody
    wrote, so only the key's own problem is reported."""
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(
            {"target": "docker", "backend": {"replicas": "2"}, "balancer": {"algorithm": "weighted", "weights": [1, 2]}}
        )
    assert [problem.split(" ")[0] for problem in raised.value.problems] == ["brain:backend.replicas"]


def test_a_missing_target_still_reports_the_other_keys() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"balancer": {"algorithm": "fastest"}})
    assert raised.value.problems[0] == "brain:target is required"
    assert raised.value.problems[1].startswith("brain:balancer.algorithm = 'fastest'")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(
            {"target": "docker", "backend": {"replicas": 0}, "balancer": {"algorithm": "fastest", "keepalive": -1}}
        )
    assert [problem.split(" ")[0] for problem in raised.value.problems] == [
        "brain:backend.replicas",
        "brain:balancer.algorithm",
        "brain:balancer.keepalive",
    ], raised.value.problems


def test_weighted_requires_one_weight_per_replica() -> None:
    with pytest.raises(ConfigError, match="balancer.weights has 2 entries but backend.replicas is 3"):
        parse_stack_config({"target": "docker", "balancer": {"algorithm": "weighted", "weights": [1, 2]}})
    config = parse_stack_config(
        {"target": "docker", "backend": {"replicas": 2}, "balancer": {"algorithm": "weighted", "weights": [1, 2]}}
    )
    assert config.balancer.weights == [1, 2]


def test_weighted_is_refused_for_eks() -> None:
    with pytest.raises(ConfigError, match="'weighted' is not possible on target eks"):
        parse_stack_config(
            {
                "target": "eks",
                "backend": {"image": "ghcr.io/brain/core:1.0.0"},
                "cluster": {"api_access_cidrs": []},
                "balancer": {"algorithm": "weighted", "weights": [1, 1, 1]},
            }
        )


def test_missing_target_is_required() -> None:
    with pytest.raises(ConfigError, match="brain:target is required"):
        parse_stack_config({})


@pytest.mark.parametrize(("value", "seconds"), [("30s", 30), ("1m", 60), ("1m30s", 90), ("500ms", 0.5), ("2", 2)])
def test_nginx_times_are_read_as_nginx_reads_them(value: str, seconds: float) -> None:
    assert nginx_seconds(value) == seconds
    assert parse_stack_config({"target": "docker", "balancer": {"read_timeout": value}}).balancer.read_timeout == value


def test_nginx_version_comes_from_the_pinned_image_tag() -> None:
    config = parse_stack_config({"target": "docker", "balancer": {"image": "nginx:1.27.3-alpine"}})
    assert config.balancer.nginx_version == (1, 27, 3)


def test_replicas_is_refused_for_eks_where_the_autoscaler_owns_the_count() -> None:
    with pytest.raises(ConfigError, match="backend.replicas 5 applies to target docker only"):
        parse_stack_config({"target": "eks", "backend": {"replicas": 5, "image": "ghcr.io/brain/core:1.0.0"}})
    config = parse_stack_config(
        {
            "target": "eks",
            "backend": {"image": "ghcr.io/brain/core:1.0.0"},
            "cluster": {"api_access_cidrs": []},
            "balancer": {"tls": {"email": "ops@brain.test"}},
        }
    )
    assert config.backend.autoscaling.min_replicas == 3


@pytest.mark.parametrize(
    "subnet",
    ["0.0.0.0/0", "8.8.8.0/24", "10.0.0.0/8", "172.28.89.0/29", "172.28.89.1/24", "172.28.89.0", "all"],
)
def test_network_subnet_must_be_one_private_network_of_a_usable_size(subnet: str) -> None:
    """It becomes nginx's allow list for /nginx_status: a public or huge range would let the LAN (or anyone) in."""
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"target": "docker", "network": {"subnet": subnet}})
    assert f"brain:network.subnet = {subnet!r}: expected a private IPv4 network from /16 to /28" in str(raised.value)
