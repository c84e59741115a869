"""Prod network isolation: a default deny for every pod of the app namespace, and allow rules whose selectors
and ports are those of the real pods: read from the rendered Deployment, StatefulSets and Services, from the
ingress controller's and Prometheus's release values (with their charts' label rules), and from the vendored
Qdrant chart. No selector or port is restated here."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.charts import chart_dir, chart_values, selector_labels
from tools.program import ProgramRun, RegisteredResource
from tools import yaml_text
from tests.support.prod_renders import PLAIN_HTTP
from tests.support.renders import run_program

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "brain"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"


@pytest.fixture(scope="module")
def in_cluster() -> ProgramRun:
    return run_program("prod", ["data.mode=in_cluster", "monitoring.enabled=true"])


@pytest.fixture(scope="module")
def managed() -> ProgramRun:
    return run_program("prod", ["data.mode=managed", "cluster.vpc_cidr=10.40.0.0/16", "monitoring.enabled=false"])


def _policies(run: ProgramRun) -> dict[str, RegisteredResource]:
    return {policy.inputs["metadata"]["name"]: policy for policy in run.of_type(POLICY)}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels only, as ours are) selects a pod with `labels`."""
    assert "matchExpressions" not in selector, selector
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def _admits(peer: dict[str, Any], labels: dict[str, str], namespace: str) -> bool:
    """Whether a NetworkPolicyPeer of a policy in our namespace covers a pod with `labels` in `namespace`."""
    if "namespaceSelector" in peer:
        in_namespace = _selects(peer["namespaceSelector"], {NAMESPACE_LABEL: namespace})
    else:
        in_namespace = namespace == NAMESPACE
    return "ipBlock" not in peer and in_namespace and _selects(peer.get("podSelector", {}), labels)


def _ports(rule: dict[str, Any]) -> set[tuple[str, int]]:
    return {(port["protocol"], port["port"]) for port in rule["ports"]}


def _policy_for(run: ProgramRun, labels: dict[str, str]) -> dict[str, Any]:
    """The one allow policy that selects pods with `labels` (besides the namespace-wide ones)."""
    specs = [
        spec
        for spec in (policy.inputs["spec"] for policy in run.of_type(POLICY))
        if spec["podSelector"].get("matchLabels") and _selects(spec["podSelector"], labels)
    ]
    assert len(specs) == 1, f"expected one policy selecting {labels}, got {specs}"
    return specs[0]


def _pod_template(run: ProgramRun, kind: str, name: str) -> tuple[dict[str, str], set[int]]:
    """A workload's pod labels and container ports, as rendered."""
    (workload,) = [w for w in run.of_type(f"kubernetes:apps/v1:{kind}") if w.inputs["metadata"]["name"] == name]
    template = workload.inputs["spec"]["template"]
    ports = {port["containerPort"] for c in template["spec"]["containers"] for port in c.get("ports", [])}
    return template["metadata"]["labels"], ports


def _backend(run: ProgramRun) -> tuple[dict[str, str], set[int]]:
    labels, ports = _pod_template(run, "Deployment", "brain-backend")
    service = run.named("brain-backend-service").inputs["spec"]
    (container,) = run.named("brain-backend").inputs["spec"]["template"]["spec"]["containers"]
    named = {port["name"]: port["containerPort"] for port in container["ports"]}
    targets = {named[port["targetPort"]] for port in service["ports"]}
    assert targets == ports, f"the Service must target the container port: {targets} != {ports}"
    return labels, ports


def _controller(run: ProgramRun) -> tuple[dict[str, str], str]:
    """The ingress controller's pod labels and namespace. Chart 2.6.4's `nginx-ingress.podLabels` starts with
    `nginx-ingress.selectorLabels`: `controller.selectorLabels` when set, else the chart's name and the release's."""
    release = run.named("brain-ingress").inputs
    values = release["values"]
    labels = values["controller"].get("selectorLabels") or {
        "app.kubernetes.io/name": values.get("nameOverride") or release["chart"].rsplit("/", 1)[-1],
        "app.kubernetes.io/instance": release["name"],
    }
    return labels, release["namespace"]


def _prometheus(run: ProgramRun) -> tuple[dict[str, str], str]:
    """Prometheus's server pods: the chart's `prometheus.server.matchLabels` (component `server`, the chart's
    name, the release's name), in the release's namespace."""
    release = run.named("brain-prometheus").inputs
    labels = {
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/name": release["values"].get("nameOverride") or release["chart"],
        "app.kubernetes.io/instance": release["name"],
    }
    return labels, release["namespace"]


def _qdrant(run: ProgramRun) -> tuple[dict[str, str], dict[str, int]]:
    """Qdrant's pod labels and container ports by name, as the pinned chart templates them."""
    release = run.named("brain-qdrant").inputs
    defaults = chart_values("qdrant", release["version"])
    labels = selector_labels("qdrant", release["version"], release["name"], release["values"])
    ports = release["values"].get("service", defaults["service"])["ports"]
    return labels, {port["name"]: port["targetPort"] for port in ports}


def test_default_deny_covers_every_pod_both_ways_and_comes_after_the_allow_rules(in_cluster: ProgramRun) -> None:
    policies = _policies(in_cluster)
    deny = policies.pop("default-deny")
    assert _selects(deny.inputs["spec"]["podSelector"], {}), "the default deny must select every pod"
    assert deny.inputs["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny.inputs["spec"] and "egress" not in deny.inputs["spec"]
    missing = {name for name, policy in policies.items() if policy.urn not in deny.depends_on}
    assert not missing, f"the default deny must wait for every allow policy, or traffic drops: {missing}"


def test_only_the_ingress_controller_and_prometheus_reach_the_backend_port(in_cluster: ProgramRun) -> None:
    labels, ports = _backend(in_cluster)
    ingress = _policy_for(in_cluster, labels)["ingress"]
    sources = {"controller": _controller(in_cluster), "prometheus": _prometheus(in_cluster)}
    for name, (source_labels, namespace) in sources.items():
        rules = [rule for rule in ingress if any(_admits(peer, source_labels, namespace) for peer in rule["from"])]
        assert len(rules) == 1 and _ports(rules[0]) == {("TCP", port) for port in ports}, f"{name}: {ingress}"
    assert len(ingress) == len(sources), f"only the controller and Prometheus may reach the backend: {ingress}"


def test_without_monitoring_only_the_controller_reaches_the_backend(managed: ProgramRun) -> None:
    labels, _ = _backend(managed)
    (rule,) = _policy_for(managed, labels)["ingress"]
    assert all(_admits(peer, *_controller(managed)) for peer in rule["from"]), rule
    assert "allow-prometheus" not in _policies(managed)


@pytest.mark.parametrize("store", ["postgres", "redis"])
def test_each_in_cluster_store_admits_only_the_backend_on_its_port(in_cluster: ProgramRun, store: str) -> None:
    labels, ports = _pod_template(in_cluster, "StatefulSet", store)
    service = in_cluster.named(f"brain-{store}-service").inputs["spec"]
    assert {port["targetPort"] for port in service["ports"]} == ports
    policy = _policy_for(in_cluster, labels)
    (rule,) = policy["ingress"]
    backend_labels, _ = _backend(in_cluster)
    assert all(_admits(peer, backend_labels, NAMESPACE) for peer in rule["from"]), rule
    assert not any(_admits(peer, *_controller(in_cluster)) for peer in rule["from"]), "the controller reaches a store"
    assert _ports(rule) == {("TCP", port) for port in ports}
    assert "egress" not in policy, f"{store} needs no way out: {policy}"


def test_qdrant_admits_only_the_backend_on_its_http_and_grpc_ports(in_cluster: ProgramRun) -> None:
    labels, ports = _qdrant(in_cluster)
    (rule,) = _policy_for(in_cluster, labels)["ingress"]
    assert all(_admits(peer, _backend(in_cluster)[0], NAMESPACE) for peer in rule["from"]), rule
    assert _ports(rule) == {("TCP", ports["http"]), ("TCP", ports["grpc"])}


def test_the_backend_reaches_qdrant_by_exactly_its_services_selector(in_cluster: ProgramRun) -> None:
    """The backend dials Qdrant's Service (a ClusterIP); the VPC CNI's policy controller adds that address to an
    egress rule only when the rule's podSelector matches the Service's selector (the chart's selectorLabels)."""
    labels, _ = _qdrant(in_cluster)
    egress = _policy_for(in_cluster, _backend(in_cluster)[0])["egress"]
    selectors = [peer["podSelector"]["matchLabels"] for rule in egress for peer in rule["to"] if "podSelector" in peer]
    assert labels in selectors, f"no egress peer selects exactly {labels}: {selectors}"


def test_backend_reaches_each_in_cluster_store_on_its_port_and_nothing_else(in_cluster: ProgramRun) -> None:
    egress = _policy_for(in_cluster, _backend(in_cluster)[0])["egress"]
    qdrant_labels, qdrant_ports = _qdrant(in_cluster)
    stores = {
        "postgres": _pod_template(in_cluster, "StatefulSet", "postgres"),
        "redis": _pod_template(in_cluster, "StatefulSet", "redis"),
        "qdrant": (qdrant_labels, {qdrant_ports["http"], qdrant_ports["grpc"]}),
    }
    for name, (labels, ports) in stores.items():
        rules = [rule for rule in egress if any(_admits(peer, labels, NAMESPACE) for peer in rule["to"])]
        assert len(rules) == 1 and _ports(rules[0]) == {("TCP", port) for port in ports}, f"{name}: {egress}"
    assert len(egress) == len(stores), f"the backend reaches more than its stores: {egress}"


def test_backend_reaches_managed_stores_in_the_vpc_on_their_ports(managed: ProgramRun) -> None:
    egress = _policy_for(managed, _backend(managed)[0])["egress"]
    (vpc,) = [rule for rule in egress if any("ipBlock" in peer for peer in rule["to"])]
    assert vpc["to"] == [{"ipBlock": {"cidr": "10.40.0.0/16"}}]
    (postgres,) = managed.of_type("aws:rds/instance:Instance")
    (redis,) = managed.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert _ports(vpc) == {("TCP", postgres.inputs["port"]), ("TCP", redis.inputs["port"])}
    (qdrant,) = [rule for rule in egress if rule not in [vpc]]
    assert all(_admits(peer, _qdrant(managed)[0], NAMESPACE) for peer in qdrant["to"]), qdrant


def test_every_pod_resolves_names_through_kube_dns_only(in_cluster: ProgramRun) -> None:
    """EKS's CoreDNS pods carry `k8s-app: kube-dns` in kube-system; a resolver asks over UDP, then TCP."""
    policy = _policies(in_cluster)["allow-dns"].inputs["spec"]
    assert _selects(policy["podSelector"], {}) and policy["policyTypes"] == ["Egress"]
    (rule,) = policy["egress"]
    assert all(_admits(peer, {"k8s-app": "kube-dns"}, "kube-system") for peer in rule["to"]), rule
    assert not any(_admits(peer, {"k8s-app": "kube-dns"}, NAMESPACE) for peer in rule["to"]), rule
    assert _ports(rule) == {("UDP", 53), ("TCP", 53)}


def _kube_state_metrics(run: ProgramRun) -> tuple[dict[str, str], set[int]]:
    """kube-state-metrics, the Prometheus release's subchart: its `selectorLabels` (the subchart's name, the parent
    release's name) and its container port (the vendored subchart's `service.port`, the template's port)."""
    release = run.named("brain-prometheus").inputs
    (subchart,) = (chart_dir("prometheus", release["version"]) / "charts").glob("kube-state-metrics-*")
    defaults = yaml_text.load((subchart / "values.yaml").read_text())
    labels = {"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": release["name"]}
    return labels, {defaults["service"]["port"]}


def _grafana(run: ProgramRun) -> dict[str, str]:
    """The Grafana chart's `grafana.selectorLabels`: its name and the release's."""
    release = run.named("brain-grafana").inputs
    return {"app.kubernetes.io/name": release["chart"], "app.kubernetes.io/instance": release["name"]}


def test_prometheus_reaches_its_targets_and_only_grafana_reaches_it(in_cluster: ProgramRun) -> None:
    labels, _ = _prometheus(in_cluster)
    policy = _policy_for(in_cluster, labels)
    egress = policy["egress"]
    backend_labels, backend_ports = _backend(in_cluster)
    controller_labels, controller_namespace = _controller(in_cluster)
    exporter_port = in_cluster.named("brain-ingress").inputs["values"]["prometheus"]["port"]
    kube_state_metrics_labels, kube_state_metrics_ports = _kube_state_metrics(in_cluster)
    targets = {
        "backend": (backend_labels, NAMESPACE, backend_ports),
        "controller exporter": (controller_labels, controller_namespace, {exporter_port}),
        "kube-state-metrics": (kube_state_metrics_labels, NAMESPACE, kube_state_metrics_ports),
    }
    for name, (target_labels, namespace, ports) in targets.items():
        rules = [rule for rule in egress if any(_admits(peer, target_labels, namespace) for peer in rule.get("to", []))]
        assert len(rules) == 1 and _ports(rules[0]) == {("TCP", port) for port in ports}, f"{name}: {egress}"
    (api,) = [rule for rule in egress if "to" not in rule]
    assert _ports(api) == {("TCP", 443)}, "service discovery needs the API server, and only its port is fixed"
    (ingress,) = policy["ingress"]
    assert all(_admits(peer, _grafana(in_cluster), NAMESPACE) for peer in ingress["from"]), ingress
    assert _ports(ingress) == {("TCP", 9090)}, "Prometheus serves its API on the container port 9090"


def test_grafana_reaches_prometheus_by_its_services_selector(in_cluster: ProgramRun) -> None:
    """Grafana's data source is the Prometheus Service: the peer selects exactly what that Service selects."""
    (rule,) = _policy_for(in_cluster, _grafana(in_cluster))["egress"]
    prometheus_labels, namespace = _prometheus(in_cluster)
    (peer,) = rule["to"]
    assert peer["podSelector"]["matchLabels"] == prometheus_labels and _admits(peer, prometheus_labels, namespace)
    assert _ports(rule) == {("TCP", 9090)}


def test_kube_state_metrics_is_reached_by_prometheus_and_reaches_the_api_server(in_cluster: ProgramRun) -> None:
    labels, ports = _kube_state_metrics(in_cluster)
    policy = _policy_for(in_cluster, labels)
    (ingress,) = policy["ingress"]
    assert all(_admits(peer, *_prometheus(in_cluster)) for peer in ingress["from"]), ingress
    assert not any(_admits(peer, _backend(in_cluster)[0], NAMESPACE) for peer in ingress["from"])
    assert _ports(ingress) == {("TCP", port) for port in ports}
    (egress,) = policy["egress"]
    assert "to" not in egress and _ports(egress) == {("TCP", 443)}


def test_with_tls_the_controller_reaches_cert_managers_http01_solver(in_cluster: ProgramRun) -> None:
    """cert-manager (v1.21 `pkg/issuer/acme/http`) labels its solver pods `acme.cert-manager.io/http01-solver:
    "true"` and listens on 8089; Let's Encrypt's challenge reaches them through the controller."""
    assert in_cluster.named("brain-tls-cluster-issuer"), "this run is expected to issue certificates"
    (rule,) = _policy_for(in_cluster, {"acme.cert-manager.io/http01-solver": "true"})["ingress"]
    assert all(_admits(peer, *_controller(in_cluster)) for peer in rule["from"]), rule
    assert _ports(rule) == {("TCP", 8089)}


def test_without_tls_no_solver_policy() -> None:
    assert "allow-acme-http01-solver" not in _policies(run_program("prod", PLAIN_HTTP))
