"""Stack config validation: every bad value fails before any resource is registered, naming the key."""

from __future__ import annotations

import pytest

from components.config import ConfigError, nginx_seconds, parse_stack_config
from tools.program import RegisteredResource, run_program

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
    ("balancer.bind_address=localhost", "brain:balancer.bind_address", "pattern"),
    ("balancer.algoritm=ip_hash", "brain:balancer.algoritm", "not a known key"),
    ("balancer.keepalive_timeout=2m", "brain:balancer.keepalive_timeout", "must be below 75s"),
    ("balancer.worker_connections=100000", "brain:balancer.worker_connections", "less than or equal to 32768"),
    ("backend.replicas=0", "brain:backend.replicas", "greater than or equal to 1"),
    ("backend.replicas=three", "brain:backend.replicas", "integer"),
    ("backend.image=brain:latest", "brain:backend.image", "pinned to a version tag"),
    ("backend.resources.memory=lots", "brain:backend.resources.memory", "memory quantity"),
    ("backend.autoscaling.min_replicas=12", "brain:backend.autoscaling.min_replicas", "greater than"),
    ("data.redis.image=redis", "brain:data.redis.image", "pinned to a version tag"),
    ("data.publish_ports=maybe", "brain:data.publish_ports", "boolean"),
    ("data.qdrant.image=qdrant/qdrant:v1.18.2", "brain:data.qdrant.image", "tagged v1.19.<patch> to match"),
    ("data.qdrant.image=qdrant/qdrant:dev", "brain:data.qdrant.image", "tagged v1.19.<patch> to match"),
    ("data.qdrant.chart_version=latest", "brain:data.qdrant.chart_version", "pattern"),
    ("data.postgres.resources.cpu=fast", "brain:data.postgres.resources.cpu", "CPU quantity"),
    ("target=kubernetes", "brain:target", "'docker' or 'eks'"),
    ("cluster.node_group.min_size=5", "brain:cluster.node_group", "min_size <= desired_size <= max_size"),
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


def test_bad_value_is_quoted_in_the_message() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"target": "docker", "balancer": {"fail_timeout": "30x"}})
    assert "'30x'" in str(raised.value), f"expected the bad value in the message, got: {raised.value}"


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
