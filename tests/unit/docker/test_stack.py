"""The dev program under mocks: exactly the resources of the topology, and its stack outputs."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.program import is_secret
from tests.support.renders import run_program

CONTAINER = "docker:index/container:Container"


@pytest.mark.parametrize("replicas", [1, 3, 5])
def test_dev_stack_creates_exactly_the_topology(replicas: int) -> None:
    run = run_program("dev", [f"backend.replicas={replicas}"])
    counts = Counter(resource.type for resource in run.resources)
    assert counts == {
        "brain:docker:Platform": 1,
        "brain:docker:DataTier": 1,
        "brain:docker:BackendReplicaSet": 1,
        "brain:docker:Balancer": 1,
        "brain:docker:Monitoring": 1,
        "docker:index/network:Network": 1,
        "random:index/randomPassword:RandomPassword": 4,  # PostgreSQL, Redis, Qdrant, Grafana's admin
        "docker:index/volume:Volume": 4,  # the three stores', Prometheus'
        # pulled: three data images, nginx, and monitoring's Prometheus, exporter and Grafana
        "docker:index/remoteImage:RemoteImage": 7,
        "docker-build:index:Image": 1,  # the reference backend, built
        CONTAINER: 3 + replicas + 1 + 3,
        "command:local:Command": 1 + replicas,  # nginx.conf reload, and one "rejoin" per replica
    }, f"unexpected resource set for {replicas} replicas: {dict(counts)}"
    containers = sorted(resource.inputs["name"] for resource in run.of_type(CONTAINER))
    expected = ["brain-nginx", "brain-postgres", "brain-qdrant", "brain-redis"]
    expected += ["brain-prometheus", "brain-nginx-exporter", "brain-grafana"]
    expected += [f"backend-{number}" for number in range(1, replicas + 1)]
    assert containers == sorted(expected)



def test_outputs_name_the_balancer_and_keep_credentials_secret() -> None:
    run = run_program("dev", ["backend.replicas=2"])
    outputs = run.outputs
    assert outputs["balancer_url"] == "http://localhost:8000"
    assert outputs["nginx_status_url"] == "http://localhost:8000/nginx_status"
    assert outputs["backend_names"] == ["backend-1", "backend-2"]
    for name in ("database_url", "redis_url", "qdrant_api_key"):
        assert is_secret(outputs[name]), f"stack output {name} must be a secret, got {outputs[name]!r}"
    assert not is_secret(outputs["qdrant_url"])


def test_only_the_balancer_and_monitoring_uis_are_published_by_default() -> None:
    run = run_program("dev")
    published = [
        (resource.inputs["name"], port["external"], port["ip"])
        for resource in run.of_type(CONTAINER)
        for port in resource.inputs.get("ports", [])
    ]
    assert sorted(published) == [
        ("brain-grafana", 3000, "127.0.0.1"), ("brain-nginx", 8000, "127.0.0.1"), ("brain-prometheus", 9090, "127.0.0.1"),
    ]


def test_publish_ports_binds_data_ports_to_loopback_only() -> None:
    run = run_program("dev", ["data.publish_ports=true"])
    published = {
        resource.inputs["name"]: [(port["external"], port["ip"]) for port in resource.inputs.get("ports", [])]
        for resource in run.of_type(CONTAINER)
        if resource.inputs.get("ports")
    }
    assert published == {
        "brain-nginx": [(8000, "127.0.0.1")],
        "brain-postgres": [(5432, "127.0.0.1")],
        "brain-redis": [(6379, "127.0.0.1")],
        "brain-qdrant": [(6333, "127.0.0.1")],
        "brain-prometheus": [(9090, "127.0.0.1")],
        "brain-grafana": [(3000, "127.0.0.1")],
    }
