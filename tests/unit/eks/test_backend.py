"""Prod replicas: a Deployment the HPA scales (no fixed count), probed on the contract paths, rolled one pod at
a time with a drain before SIGTERM, spread over zones; its env Secret secret; one Service for the balancer."""

from __future__ import annotations

from typing import Any

from tools.program import ProgramRun, is_secret, reveal
from tests.support.renders import run_program

LABELS = {"app.kubernetes.io/name": "brain-backend", "app.kubernetes.io/part-of": "brain"}
CONFIGURED = [
    "backend.image=registry.example/brain:2.3.4",
    "backend.port=9000",
    "backend.resources.cpu=250m",
    "backend.resources.memory=1Gi",
    "backend.autoscaling.min_replicas=4",
    "backend.autoscaling.max_replicas=12",
    "backend.autoscaling.cpu_utilization=60",
    "backend.autoscaling.memory_utilization=75",
]
"""Every backend key away from its default at once: the tests that follow config share this one mock run."""


def _deployment_spec(run: ProgramRun) -> dict[str, Any]:
    return run.named("brain-backend").inputs["spec"]


def _container(run: ProgramRun) -> dict[str, Any]:
    (container,) = _deployment_spec(run)["template"]["spec"]["containers"]
    return container


def test_deployment_leaves_the_replica_count_to_the_hpa() -> None:
    spec = _deployment_spec(run_program("prod", CONFIGURED))
    assert "replicas" not in spec, f"a fixed count would reset the HPA on every `pulumi up`: {spec['replicas']}"


def test_image_port_and_instance_id_from_the_pod_name() -> None:
    container = _container(run_program("prod", CONFIGURED))
    assert container["image"] == "registry.example/brain:2.3.4"
    assert container["ports"] == [{"name": "http", "containerPort": 9000}]
    env = {variable["name"]: variable for variable in container["env"]}
    assert env["INSTANCE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["PORT"]["value"] == "9000"
    assert container["envFrom"] == [{"secretRef": {"name": "brain-backend-env"}}]


def test_probes_use_the_contract_paths() -> None:
    container = _container(run_program("prod"))
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}


def test_requests_and_limits_come_from_config() -> None:
    container = _container(run_program("prod", CONFIGURED))
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "1Gi"},
        "limits": {"cpu": "250m", "memory": "1Gi"},
    }


def test_rollout_adds_before_it_removes_and_drains_before_sigterm() -> None:
    spec = _deployment_spec(run_program("prod"))
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    pod = spec["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop > 0, "the ingress must drop the pod before it gets SIGTERM"
    assert pod["terminationGracePeriodSeconds"] > pre_stop, "the drain must leave time to finish requests"


def test_replicas_spread_over_zones() -> None:
    (constraint,) = _deployment_spec(run_program("prod"))["template"]["spec"]["topologySpreadConstraints"]
    assert constraint["topologyKey"] == "topology.kubernetes.io/zone"
    assert constraint["labelSelector"] == {"matchLabels": LABELS}


def _pod_annotations(run: ProgramRun) -> dict[str, Any]:
    return _deployment_spec(run)["template"]["metadata"]["annotations"]


def test_pods_ask_prometheus_to_scrape_their_metrics_port() -> None:
    annotations = _pod_annotations(run_program("prod", CONFIGURED))
    assert {key: value for key, value in annotations.items() if key.startswith("prometheus.io/")} == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9000",
        "prometheus.io/path": "/metrics",
    }


def test_a_changed_connection_url_rolls_the_pods_without_revealing_it() -> None:
    managed = _pod_annotations(run_program("prod", ["data.mode=managed"]))["brain/env-sha256"]
    assert not is_secret(managed) and len(managed) == 64, f"expected a plain SHA-256 hex digest, got {managed!r}"
    assert _pod_annotations(run_program("prod", ["data.mode=managed"]))["brain/env-sha256"] == managed
    assert _pod_annotations(run_program("prod", ["data.mode=in_cluster"]))["brain/env-sha256"] != managed


def test_hpa_bounds_and_targets_come_from_config() -> None:
    spec = run_program("prod", CONFIGURED).named("brain-backend-hpa").inputs["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "brain-backend"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (4, 12)
    targets = {metric["resource"]["name"]: metric["resource"]["target"] for metric in spec["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 60},
        "memory": {"type": "Utilization", "averageUtilization": 75},
    }
    behavior = spec["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] < behavior["scaleDown"]["stabilizationWindowSeconds"]
    assert behavior["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 60}]


def test_disruption_budget_allows_one_replica_down() -> None:
    spec = run_program("prod").named("brain-backend-pdb").inputs["spec"]
    assert spec == {"maxUnavailable": 1, "selector": {"matchLabels": LABELS}}


def test_service_selects_the_pods_and_is_what_the_balancer_gets() -> None:
    run = run_program("prod", CONFIGURED)
    service = run.named("brain-backend-service").inputs
    assert service["spec"]["selector"] == LABELS
    assert service["spec"]["ports"] == [{"name": "http", "port": 9000, "targetPort": "http"}]
    assert run.outputs["backend_names"] == [service["metadata"]["name"]]


def test_env_secret_holds_every_connection_url_as_a_secret() -> None:
    run = run_program("prod")
    data = run.named("brain-backend-env").inputs["stringData"]
    assert is_secret(data), "the Secret's data carries passwords and must be a Pulumi secret"
    expected = {name.upper(): reveal(run.outputs[name]) for name in ("database_url", "redis_url", "qdrant_url")}
    expected["QDRANT_API_KEY"] = reveal(run.outputs["qdrant_api_key"])
    assert reveal(data) == expected
    assert "MOCK-SECRET" not in str(run.named("brain-backend").inputs), "a credential leaked into the pod spec"
