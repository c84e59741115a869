"""Prod balancer: the F5 NGINX Ingress Controller release and a VirtualServer whose two upstreams carry the
configured algorithm, passive health checks, timeouts and WebSocket stickiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.program import ROOT, ProgramRun
from tools import yaml_text
from tests.support.balancer_overrides import with_algorithm
from tests.support.renders import run_program

ALGORITHMS = {
    "round_robin": "round_robin",
    "least_conn": "least_conn",
    "ip_hash": "ip_hash",
    "consistent_hash": "hash $binary_remote_addr consistent",
}
HOST_AND_NETWORK = ["cluster.host=api.brain.test", "cluster.vpc_cidr=10.8.0.0/16"]
"""A host and a VPC range of our own, which the controller's status and the VirtualServer must follow."""


def _virtual_server(run: ProgramRun) -> dict[str, Any]:
    (virtual_server,) = run.of_type("kubernetes:k8s.nginx.org/v1:VirtualServer")
    return virtual_server.inputs


def _upstreams(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {upstream["name"]: upstream for upstream in _virtual_server(run)["spec"]["upstreams"]}


def test_controller_release_is_the_f5_chart_with_ha_nlb_and_status() -> None:
    run = run_program("prod", HOST_AND_NETWORK)
    release = run.named("brain-ingress").inputs
    chart = yaml_text.load((ROOT / release["chart"] / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("nginx-ingress", "2.6.4", "5.5.4"), chart
    assert not Path(release["chart"]).is_absolute(), "an absolute path differs between checkouts: a diff in every preview"
    assert release["version"] == chart["version"], "the pin the preview shows must be the chart's own version"
    controller = release["values"]["controller"]
    assert controller["replicaCount"] >= 2
    assert controller["enableCustomResources"] is True
    assert controller["service"]["type"] == "LoadBalancer"
    assert controller["service"]["externalTrafficPolicy"] == "Local", "ip_hash needs the client's own address"
    assert controller["service"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert controller["nginxStatus"] == {"enable": True, "port": 8080, "allowCidrs": "10.8.0.0/16"}
    assert release["values"]["prometheus"]["create"] is True


def test_status_service_selects_the_controller_pods() -> None:
    run = run_program("prod")
    controller = run.named("brain-ingress").inputs["values"]["controller"]
    status = run.named("brain-nginx-status").inputs
    assert status["spec"]["selector"] == controller["selectorLabels"]
    assert status["spec"]["ports"] == [{"name": "status", "port": 8080, "targetPort": 8080}]


def test_controller_crds_are_applied_from_the_shipped_chart_before_the_controller() -> None:
    run = run_program("prod")
    release = run.named("brain-ingress")
    (crds,) = run.of_type("kubernetes:yaml/v2:ConfigFile")
    path = crds.inputs["file"]
    assert not Path(path).is_absolute() and Path(path).parent.parent == Path(release.inputs["chart"]), (
        f"{crds.urn}: the CRDs must be the shipped chart's, by a path relative to the project: {path}"
    )
    names = {document["metadata"]["name"] for document in yaml_text.load_all((ROOT / path).read_text())}
    assert {"virtualservers.k8s.nginx.org", "policies.k8s.nginx.org"} <= names, names
    assert release.inputs["skipCrds"] is True, "Helm must not install its own (never upgraded) copy of the CRDs"
    assert crds.urn in release.depends_on, f"{release.urn} must wait for the CRDs it watches"


def test_custom_resources_wait_for_their_crds_and_the_controller() -> None:
    run = run_program("prod")
    waits_for = {run.named("brain-ingress").urn, run.named("brain-ingress-crds").urn}
    for type_ in ("kubernetes:k8s.nginx.org/v1:VirtualServer", "kubernetes:k8s.nginx.org/v1:Policy"):
        (resource,) = run.of_type(type_)
        assert waits_for <= set(resource.depends_on), f"{resource.urn} must wait for {waits_for - set(resource.depends_on)}"


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_api_upstream_lb_method_follows_the_algorithm(algorithm: str) -> None:
    api = _upstreams(run_program("prod", with_algorithm(algorithm)))["api"]
    assert api["lb-method"] == ALGORITHMS[algorithm], f"{algorithm} rendered as {api['lb-method']!r}"


@pytest.mark.parametrize(("affinity", "algorithm"), [("ip_hash", "least_conn"), ("consistent_hash", "round_robin")])
def test_websocket_upstream_is_sticky_long_lived_and_unbuffered(affinity: str, algorithm: str) -> None:
    ws = _upstreams(run_program("prod", with_algorithm(algorithm)))["ws"]
    assert ws["lb-method"] == ALGORITHMS[affinity]
    assert (ws["read-timeout"], ws["send-timeout"]) == ("3600s", "3600s")
    assert ws["buffering"] is False


def test_health_checks_timeouts_and_pooling_come_from_config() -> None:
    overrides = [
        "balancer.max_fails=5",
        "balancer.fail_timeout=10s",
        "balancer.keepalive=64",
        "balancer.connect_timeout=2s",
        "balancer.read_timeout=45s",
        "balancer.send_timeout=40s",
        "balancer.websocket_timeout=2h",
        "balancer.client_max_body_size=20m",
    ]
    upstreams = _upstreams(run_program("prod", overrides))
    for upstream in upstreams.values():
        assert (upstream["max-fails"], upstream["fail-timeout"], upstream["connect-timeout"]) == (5, "10s", "2s")
        assert (upstream["service"], upstream["port"]) == ("brain-backend", 8000)
    api, ws = upstreams["api"], upstreams["ws"]
    assert (api["keepalive"], api["read-timeout"], api["send-timeout"]) == (64, "45s", "40s")
    assert api["client-max-body-size"] == "20m"
    assert (ws["read-timeout"], ws["send-timeout"]) == ("2h", "2h")


def test_routes_split_websockets_and_keep_metrics_internal() -> None:
    run = run_program("prod", HOST_AND_NETWORK)
    spec = _virtual_server(run)["spec"]
    assert spec["host"] == "api.brain.test"
    assert spec["ingressClassName"] == "nginx"
    routes = {route["path"]: route for route in spec["routes"]}
    assert routes["/"]["action"] == {"pass": "api"}, "/api/... and /health/... go to the API upstream"
    assert routes["/ws/"]["action"] == {"pass": "ws"}
    assert routes["/metrics"]["action"] == {"pass": "api"}
    (policy,) = run.of_type("kubernetes:k8s.nginx.org/v1:Policy")
    assert routes["/metrics"]["policies"] == [{"name": policy.inputs["metadata"]["name"]}]
    assert policy.inputs["spec"] == {"accessControl": {"allow": ["10.8.0.0/16"]}}


def test_the_releases_namespaces_are_pulumi_resources_that_destroy_removes() -> None:
    """Helm creates a release's namespace on install (`create_namespace`) but never deletes it on uninstall:
    each release with a namespace of its own installs into one Pulumi made, so `pulumi destroy` removes it."""
    run = run_program("prod")
    namespaces = {resource.inputs["metadata"]["name"]: resource for resource in run.of_type("kubernetes:core/v1:Namespace")}
    for release_name, namespace in (("brain-ingress", "nginx-ingress"), ("brain-tls-cert-manager", "cert-manager")):
        release = run.named(release_name)
        assert not release.inputs.get("createNamespace"), f"{release_name}: Helm's uninstall would leave the namespace"
        assert release.inputs["namespace"] == namespace, release.inputs["namespace"]
        assert namespaces[namespace].urn in release.input_dependencies, f"{release_name} must wait for its namespace"
