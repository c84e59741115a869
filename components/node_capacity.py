"""What the prod node pool can hold, and whether the pods at the HPA maximum fit on it (no Pulumi import: the
config validation uses it before any resource exists, and the capacity test checks the rendered objects with it).

Sources of the numbers:
- vCPUs and memory: the EC2 instance type (m7i.large: 2 vCPUs, 8 GiB).
- Pods per node: amazon-eks-ami's nodeadm, `ENIs x (IPv4 addresses per ENI - 1) + 2`
  (nodeadm/internal/kubelet/eni_max_pods.go; ENIs and addresses from its instance-info.jsonl:
  m7i.large 3 x 10, so 29 pods).
- Reserved by the kubelet: nodeadm's kubeReserved (nodeadm/internal/kubelet/config.go): CPU 6 % of the first
  core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above; memory 11 MiB per pod + 255 MiB; and the eviction
  threshold memory.available 100Mi. m7i.large: 70m CPU and 574Mi reserved.
- The kernel keeps part of an instance's memory before the kubelet counts it: ASSUMED 5 % here (a margin, not a
  measured figure). m7i.large allocatable as computed: 1930m CPU, 7108Mi memory, 29 pods.
- EKS add-on pods: the requests of the add-ons' own charts (`SYSTEM_PODS`, each with its source).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KERNEL_MEMORY_SHARE = 0.05
"""Assumed share of an instance's memory the kernel and firmware keep (the kubelet's capacity is the rest)."""
EVICTION_MEMORY_MIB = 100


@dataclass(frozen=True)
class Requests:
    """CPU in millicores and memory in MiB, as a scheduler adds them up."""

    cpu_millis: int
    memory_mib: int

    def __add__(self, other: Requests) -> Requests:
        return Requests(self.cpu_millis + other.cpu_millis, self.memory_mib + other.memory_mib)

    def __sub__(self, other: Requests) -> Requests:
        return Requests(self.cpu_millis - other.cpu_millis, self.memory_mib - other.memory_mib)

    def __mul__(self, count: int) -> Requests:
        return Requests(self.cpu_millis * count, self.memory_mib * count)

    def fits_in(self, room: Requests) -> bool:
        return self.cpu_millis <= room.cpu_millis and self.memory_mib <= room.memory_mib

    def __str__(self) -> str:
        return f"{self.cpu_millis}m CPU, {self.memory_mib}Mi"


NOTHING = Requests(0, 0)


@dataclass(frozen=True)
class InstanceType:
    """An EC2 instance type as an EKS AL2023 node sees it."""

    vcpus: int
    memory_gib: int
    enis: int
    addresses_per_eni: int

    @property
    def max_pods(self) -> int:
        return self.enis * (self.addresses_per_eni - 1) + 2

    @property
    def allocatable(self) -> Requests:
        """What the scheduler may hand out on one node: capacity less kubeReserved and the eviction threshold."""
        millis = self.vcpus * 1000
        reserved_cpu = sum(
            (min(millis, end) - start) * per_10000 // 10000
            for start, end, per_10000 in ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, millis, 25))
            if millis > start
        )
        capacity_mib = int(self.memory_gib * 1024 * (1 - KERNEL_MEMORY_SHARE))
        reserved_mib = 11 * self.max_pods + 255 + EVICTION_MEMORY_MIB
        return Requests(millis - reserved_cpu, capacity_mib - reserved_mib)


INSTANCE_TYPES = {
    f"{family}.{size}": InstanceType(vcpus, memory_per_vcpu * vcpus, enis, addresses)
    for family, memory_per_vcpu in (("m7i", 4), ("m6i", 4), ("c7i", 2), ("r7i", 8))
    for size, vcpus, enis, addresses in (("large", 2, 3, 10), ("xlarge", 4, 4, 15), ("2xlarge", 8, 4, 15))
}
"""The instance types whose allocatable is known here (ENIs and addresses per ENI from nodeadm's
instance-info.jsonl; the same for these four families at each size)."""


@dataclass(frozen=True)
class PodGroup:
    """Pods with the same requests: `replicas` of them, or one on every node (`per_node`, a DaemonSet)."""

    name: str
    requests: Requests
    replicas: int = 1
    per_node: bool = False


SYSTEM_PODS = (
    # coredns EKS add-on: two replicas, 100m / 70Mi each (the add-on's Deployment).
    PodGroup("coredns", Requests(100, 70), replicas=2),
    # kube-proxy EKS add-on: 100m, no memory request (the add-on's DaemonSet).
    PodGroup("kube-proxy", Requests(100, 0), per_node=True),
    # vpc-cni EKS add-on: aws-node 25m (aws-vpc-cni chart `resources`), and the network policy agent beside it
    # (enabled here), ASSUMED to request as much (its request was not found in a source).
    PodGroup("aws-node", Requests(50, 0), per_node=True),
    # aws-ebs-csi-driver EKS add-on: 10m / 40Mi per container (the chart's `controller.resources` and
    # `node.resources`; its newer versions give each sidecar the same): node 3 containers, controller 6, two
    # controller replicas.
    PodGroup("ebs-csi-node", Requests(30, 120), per_node=True),
    PodGroup("ebs-csi-controller", Requests(60, 240), replicas=2),
    # metrics-server EKS add-on: 100m / 200Mi (the metrics-server chart's default requests); two replicas
    # counted, in case the add-on runs it highly available.
    PodGroup("metrics-server", Requests(100, 200), replicas=2),
)
"""Pods EKS add-ons run on the nodes; not rendered by this program, so their requests are written here."""

CLUSTER_AUTOSCALER = PodGroup("cluster-autoscaler", Requests(100, 300))
"""Our cluster-autoscaler release (its chart's suggested requests; components/eks/cluster.py sets them)."""
INGRESS_CONTROLLERS = PodGroup("ingress controller", Requests(100, 128), replicas=2)
"""The F5 NGINX Ingress Controller release: two replicas at its chart's default requests."""
CERT_MANAGER = PodGroup("cert-manager", Requests(10, 32), replicas=4)
"""balancer.tls: cert-manager's controller, cainjector and two webhooks, each at the requests its chart's
values.yaml gives as the example (components/eks/tls.py sets them)."""
PROMETHEUS = PodGroup("prometheus", Requests(500, 2048))
"""monitoring.enabled: the Prometheus server (components/eks/monitoring.py requests exactly this)."""
KUBE_STATE_METRICS = PodGroup("kube-state-metrics", Requests(50, 128))
"""monitoring.enabled: kube-state-metrics, for the autoscaler's metrics (requested exactly, as Prometheus; one
small cluster's objects keep it at a few millicores)."""
GRAFANA = PodGroup("grafana", Requests(50, 256))
"""monitoring.enabled: Grafana (requested exactly, as Prometheus; one dashboard, idle between viewers)."""
QDRANT = PodGroup("qdrant", Requests(500, 1024))
"""Qdrant's one pod, budgeted."""
IN_CLUSTER_STORES = PodGroup("postgres and redis", Requests(500, 1024), replicas=2)
"""data.mode in_cluster: the PostgreSQL and Redis StatefulSets' pods, budgeted."""


@dataclass(frozen=True)
class Plan:
    """The outcome of placing every pod on `nodes` nodes: `unplaced` names the pods that found no room."""

    nodes: int
    instance_type: str
    unplaced: list[str]
    total: Requests


def place(pods: Iterable[PodGroup], instance_type: str, nodes: int) -> Plan:
    """Place every pod on `nodes` nodes of `instance_type`, largest first, each on the first node with room
    (first-fit decreasing). DaemonSet pods take their share of every node before anything else.
    This is the tightest packing: the scheduler spreads pods instead, so a pool that fits only just here can
    leave a pod Pending there; the defaults leave two of six nodes spare."""
    groups = list(pods)
    node_type = INSTANCE_TYPES[instance_type]
    daemons = [group for group in groups if group.per_node]
    per_node = sum((group.requests for group in daemons), NOTHING)
    room = [node_type.allocatable - per_node] * nodes
    pod_slots = [node_type.max_pods - len(daemons)] * nodes
    singles = sorted(
        ((group.name, group.requests) for group in groups if not group.per_node for _ in range(group.replicas)),
        key=lambda pod: (pod[1].cpu_millis, pod[1].memory_mib),
        reverse=True,
    )
    unplaced = []
    for name, requests in singles:
        node = next(
            (index for index in range(nodes) if pod_slots[index] > 0 and requests.fits_in(room[index])), None
        )
        if node is None:
            unplaced.append(name)
            continue
        room[node] = room[node] - requests
        pod_slots[node] -= 1
    total = sum((requests for _, requests in singles), per_node * nodes)
    return Plan(nodes=nodes, instance_type=instance_type, unplaced=unplaced, total=total)


def smallest(instance_types: Sequence[str]) -> str:
    """The type with the least allocatable CPU and memory: a pool of mixed types may launch only that one."""
    allocatable = {name: INSTANCE_TYPES[name].allocatable for name in instance_types}
    return min(instance_types, key=lambda name: (allocatable[name].cpu_millis, allocatable[name].memory_mib))


def pods_at_hpa_maximum(
    backend: Requests,
    max_replicas: int,
    *,
    monitoring: bool,
    in_cluster_data: bool,
    tls: bool,
    qdrant: Requests = QDRANT.requests,
    store: Requests = IN_CLUSTER_STORES.requests,
) -> list[PodGroup]:
    """Every pod the cluster runs when the HPA has scaled the backend to its maximum; `qdrant` and `store` (the
    larger in-cluster store's) as configured, else the budgets."""
    return [
        PodGroup("backend", backend, replicas=max_replicas),
        *SYSTEM_PODS,
        CLUSTER_AUTOSCALER,
        INGRESS_CONTROLLERS,
        PodGroup(QDRANT.name, qdrant),
        *([CERT_MANAGER] if tls else []),
        *([PROMETHEUS, KUBE_STATE_METRICS, GRAFANA] if monitoring else []),
        *([PodGroup(IN_CLUSTER_STORES.name, store, replicas=IN_CLUSTER_STORES.replicas)] if in_cluster_data else []),
    ]


MOST_NODES = 100
"""Beyond this a pool size is no answer: `nodes_needed` stops looking."""


def nodes_needed(pods: Sequence[PodGroup], instance_type: str) -> int | None:
    """The fewest nodes of `instance_type` that hold `pods`, or None when even MOST_NODES do not (a pod larger
    than a node)."""
    return next((nodes for nodes in range(1, MOST_NODES + 1) if not place(pods, instance_type, nodes).unplaced), None)
