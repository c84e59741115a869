"""Network isolation of the app namespace (prod): every pod in it is denied all traffic, in and out, except
what a policy here allows: the ingress controller to the backend (and to cert-manager's HTTP-01 solver), the
backend to the data tier, monitoring to what it scrapes and queries, and DNS. The VPC CNI enforces NetworkPolicies once its network policy agent is on
(cluster.py); kubelet probes come from the node's address, which the agent always admits. Its controller turns
a pod peer into the pods' addresses, plus the ClusterIP of every Service whose selector the peer's podSelector
matches (amazon-network-policy-controller-k8s, `getMatchingServiceClusterIPs`): so pod peers select exactly
what the Services select, and clients may dial Service names (kube-dns, Qdrant)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.eks.balancer import CONTROLLER_LABELS, CONTROLLER_NAMESPACE, METRICS_PORT
from components.eks.cluster import Platform
from components.eks.monitoring import GRAFANA_RELEASE, PROMETHEUS_RELEASE

NAMESPACE_LABEL = "kubernetes.io/metadata.name"
"""Set by Kubernetes on every namespace to its name: selects a namespace by name."""
KUBE_DNS_NAMESPACE = "kube-system"
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}
"""EKS's CoreDNS add-on pods (the label the kube-dns Service selects)."""
DNS_PORT = 53
PROMETHEUS_LABELS = {
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/component": "server",
    "app.kubernetes.io/instance": PROMETHEUS_RELEASE,
}
"""monitoring.py's Prometheus server pods, in the app namespace: its chart's `prometheus.server.matchLabels`, which
its Service selects by too."""
PROMETHEUS_PORT = 9090
"""The Prometheus server's container port (the chart's template; its Service's port 80 forwards there)."""
KUBE_STATE_METRICS_LABELS = {
    "app.kubernetes.io/name": "kube-state-metrics",
    "app.kubernetes.io/instance": PROMETHEUS_RELEASE,
}
"""The kube-state-metrics subchart's `selectorLabels` (its release is Prometheus's)."""
KUBE_STATE_METRICS_PORT = 8080
GRAFANA_LABELS = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": GRAFANA_RELEASE}
"""The Grafana chart's `grafana.selectorLabels`."""
API_SERVER_PORT = 443
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
"""cert-manager's HTTP-01 solver pods (cert-manager v1.21 `pkg/issuer/acme/http`) and their port: the ingress
controller forwards Let's Encrypt's challenge request to them."""


@dataclass(frozen=True)
class Workload:
    """Pods in the app namespace, as a policy selects them, and the ports they serve."""

    name: str
    """Names the workload's policy."""
    labels: Mapping[str, str]
    """Labels every pod of the workload carries (its controller's selector)."""
    ports: Sequence[int]
    """The container ports its clients connect to."""


@dataclass(frozen=True)
class DataStores:
    """The data tier as the backend reaches it."""

    pods: Sequence[Workload]
    """Stores running in the namespace (Qdrant; PostgreSQL and Redis in_cluster)."""
    vpc_ports: Sequence[int]
    """Ports of managed stores, which have addresses in the VPC but outside the cluster (RDS, ElastiCache)."""


@dataclass
class NetworkIsolationArgs:
    """What the policies are derived from."""

    platform: Platform
    """The app namespace and the VPC range."""
    backend: Workload
    """The replicas."""
    stores: DataStores
    """What the replicas reach in the data tier."""
    monitoring: bool
    """Whether monitoring.py's Prometheus, kube-state-metrics and Grafana run in the namespace."""
    certificates: bool
    """Whether cert-manager issues the balancer's certificate (balancer.tls): its HTTP-01 solver pods then run in
    the namespace, for a few minutes per issuance."""


Peer = k8s.networking.v1.NetworkPolicyPeerArgs


def _pods(labels: Mapping[str, str], namespace: pulumi.Input[str] | None = None) -> Peer:
    """Pods with `labels`, in `namespace` (by name), or in the policy's own namespace."""
    in_namespace = k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_LABEL: namespace}) if namespace else None
    return Peer(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels)), namespace_selector=in_namespace)


def _addresses(cidr: str) -> Peer:
    return Peer(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))


def _ports(ports: Sequence[int], protocols: Sequence[str] = ("TCP",)) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(protocol=proto, port=port) for port in ports for proto in protocols]


def _ingress(peer: Peer, ports: Sequence[int]) -> k8s.networking.v1.NetworkPolicyIngressRuleArgs:
    return k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[peer], ports=_ports(ports))


def _egress(peer: Peer | None, ports: Sequence[int]) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """Egress to `peer` (None: any address) on `ports`."""
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=[peer] if peer else None, ports=_ports(ports))


class NetworkIsolation(pulumi.ComponentResource):
    """One NetworkPolicy per workload (who may reach it, what it may reach), DNS for every pod, and the
    namespace's default deny, created last so that a stack gaining isolation never drops the traffic it needs."""

    def __init__(self, name: str, args: NetworkIsolationArgs, opts: pulumi.ResourceOptions | None = None):
        platform = args.platform
        super().__init__(
            "brain:eks:NetworkIsolation",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=platform.providers)),
        )
        self._name, self._namespace = name, platform.namespace
        backend, stores = args.backend, args.stores
        controller = _pods(CONTROLLER_LABELS, CONTROLLER_NAMESPACE)
        prometheus = _pods(PROMETHEUS_LABELS, platform.namespace)
        backend_pods = _pods(backend.labels)
        allowed = [
            self._policy(
                "dns",
                {},
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[_pods(KUBE_DNS_LABELS, KUBE_DNS_NAMESPACE)], ports=_ports([DNS_PORT], ("UDP", "TCP"))
                    )
                ],
            ),
            # NetworkPolicies filter by address and port, not by path: Prometheus reaches the backend's port,
            # and the backend serves /metrics there.
            self._policy(
                backend.name,
                backend.labels,
                ingress=[
                    _ingress(controller, backend.ports),
                    *([_ingress(prometheus, backend.ports)] if args.monitoring else []),
                ],
                egress=[
                    *(_egress(_pods(store.labels), store.ports) for store in stores.pods),
                    *([_egress(_addresses(platform.vpc_cidr), stores.vpc_ports)] if stores.vpc_ports else []),
                ],
            ),
            *(
                self._policy(store.name, store.labels, ingress=[_ingress(backend_pods, store.ports)])
                for store in stores.pods
            ),
        ]
        if args.certificates:
            solver = _ingress(controller, [ACME_SOLVER_PORT])
            allowed.append(self._policy("acme-http01-solver", ACME_SOLVER_LABELS, ingress=[solver]))
        if args.monitoring:
            allowed += self._monitoring(backend_pods, backend.ports, controller, prometheus)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            k8s.networking.v1.NetworkPolicyInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=platform.namespace),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={}),
                    policy_types=["Ingress", "Egress"],
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=allowed),
        )
        self.register_outputs({})

    def _monitoring(
        self, backend: Peer, backend_ports: Sequence[int], controller: Peer, prometheus: Peer
    ) -> list[k8s.networking.v1.NetworkPolicy]:
        """Prometheus scrapes the replicas, the controllers and kube-state-metrics, and Grafana queries Prometheus.
        Prometheus and kube-state-metrics watch the API server: its addresses sit behind the `kubernetes` Service
        and change with the control plane, so only its port is fixed."""
        grafana, kube_state_metrics = _pods(GRAFANA_LABELS), _pods(KUBE_STATE_METRICS_LABELS)
        api_server = _egress(None, [API_SERVER_PORT])
        return [
            self._policy(
                "prometheus",
                PROMETHEUS_LABELS,
                ingress=[_ingress(grafana, [PROMETHEUS_PORT])],
                egress=[
                    _egress(backend, backend_ports),
                    _egress(controller, [METRICS_PORT]),
                    _egress(kube_state_metrics, [KUBE_STATE_METRICS_PORT]),
                    api_server,
                ],
            ),
            self._policy(
                "kube-state-metrics",
                KUBE_STATE_METRICS_LABELS,
                ingress=[_ingress(prometheus, [KUBE_STATE_METRICS_PORT])],
                egress=[api_server],
            ),
            self._policy("grafana", GRAFANA_LABELS, egress=[_egress(prometheus, [PROMETHEUS_PORT])]),
        ]

    def _policy(
        self,
        key: str,
        labels: Mapping[str, str],
        ingress: Sequence[k8s.networking.v1.NetworkPolicyIngressRuleArgs] = (),
        egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] = (),
    ) -> k8s.networking.v1.NetworkPolicy:
        """What the pods with `labels` (all pods: {}) may receive and send, besides the default deny."""
        return k8s.networking.v1.NetworkPolicy(
            f"{self._name}-allow-{key}",
            k8s.networking.v1.NetworkPolicyInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"allow-{key}", namespace=self._namespace),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels)),
                    policy_types=[kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules],
                    ingress=list(ingress) or None,
                    egress=list(egress) or None,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
