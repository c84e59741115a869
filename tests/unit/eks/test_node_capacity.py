"""Node capacity: at the HPA maximum, the backend replicas plus every system and ingress pod fit on the node
pool at its largest (issue 9.3), computed from the rendered objects; and the config refuses a pool too small."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components import node_capacity
from components.config import ConfigError
from components.node_capacity import INSTANCE_TYPES, PodGroup, Requests
from tools.program import ProgramRun, RegisteredResource
from tests.support.renders import run_program

RELEASE = "kubernetes:helm.sh/v3:Release"
VARIANTS = {
    "default": [],
    "monitoring": ["monitoring.enabled=true"],
    "in-cluster-data-and-monitoring": ["data.mode=in_cluster", "monitoring.enabled=true"],
}


def test_m7i_large_allocatable_follows_the_eks_ami_formulas() -> None:
    """By hand from the sources (node_capacity's docstring): 2 vCPUs less 6 % of one core and 1 % of the other;
    3 ENIs x (10 addresses - 1) + 2 pods; 8 GiB less the 5 % kernel margin, 11 MiB x 29 + 255 MiB reserved and
    100 MiB eviction threshold."""
    large = INSTANCE_TYPES["m7i.large"]
    assert large.max_pods == 29
    assert large.allocatable == Requests(2000 - 60 - 10, int(8192 * 0.95) - (11 * 29 + 255) - 100)


@pytest.mark.parametrize("overrides", list(VARIANTS.values()), ids=list(VARIANTS))
def test_pods_at_the_hpa_maximum_fit_on_the_largest_node_pool(overrides: list[str]) -> None:
    run = run_program("prod", overrides)
    pool = run.named("brain-nodes").inputs
    instance_type = node_capacity.smallest(pool["instanceTypes"])
    pods = _rendered_pods(run) + list(node_capacity.SYSTEM_PODS)
    plan = node_capacity.place(pods, instance_type, int(pool["scalingConfig"]["maxSize"]))
    assert plan.unplaced == [], (
        f"at the HPA maximum {plan.unplaced} stay Pending on {plan.nodes} x {instance_type} "
        f"(allocatable each {INSTANCE_TYPES[instance_type].allocatable}; all pods request {plan.total})"
    )


@pytest.mark.parametrize("overrides", list(VARIANTS.values()), ids=list(VARIANTS))
def test_config_check_never_counts_less_than_the_rendered_pods(overrides: list[str]) -> None:
    """The config check (before any resource) budgets the pods other components render; a component that
    requests more than its budget would make that check pass a pool the real pods do not fit."""
    run = run_program("prod", overrides)
    budgets = {
        group.name: group
        for group in node_capacity.pods_at_hpa_maximum(
            _backend_requests(run), int(_hpa(run)["maxReplicas"]), monitoring=True, in_cluster_data=True, tls=True
        )
    }
    for group in _rendered_pods(run):
        budget = budgets[group.name]
        total, allowed = group.requests * group.replicas, budget.requests * budget.replicas
        assert total.fits_in(allowed), f"{group.name} requests {total} in all, its budget is {allowed}"


@pytest.mark.parametrize(
    "overrides",
    [
        ["cluster.node_group.max_size=3", "cluster.node_group.desired_size=3"],
        ["backend.autoscaling.max_replicas=30"],
        ["backend.resources.cpu='4'"],
    ],
    ids=["three-nodes", "thirty-replicas", "replica-larger-than-a-node"],
)
def test_a_pool_too_small_for_the_hpa_maximum_is_rejected_before_any_resource(overrides: list[str]) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("prod", overrides, registered=registered)
    message = str(raised.value)
    assert "brain:cluster.node_group.max_size" in message and "too small" in message, message
    assert "backend.autoscaling.max_replicas" in message, message
    assert registered == [], [resource.name for resource in registered]
    suggested = re.search(r"raise it to (\d+)", message)
    if suggested:  # the size the message suggests is enough
        run_program("prod", [*overrides, f"cluster.node_group.max_size={suggested.group(1)}"])
    else:
        assert "no number of these nodes holds such a pod: lower backend.resources" in message, message


def test_daemon_set_pods_take_room_on_every_node() -> None:
    node = INSTANCE_TYPES["m7i.large"].allocatable
    half = Requests(node.cpu_millis // 2, 0)
    two_halves = [PodGroup("half", half, replicas=2)]
    assert node_capacity.place(two_halves, "m7i.large", 1).unplaced == []
    with_daemon = [*two_halves, PodGroup("daemon", Requests(1, 0), per_node=True)]
    assert node_capacity.place(with_daemon, "m7i.large", 1).unplaced == ["half"]
    assert node_capacity.place(with_daemon, "m7i.large", 2).unplaced == []


def test_a_node_holds_no_more_pods_than_its_addresses_allow() -> None:
    tiny = [PodGroup("tiny", Requests(1, 1), replicas=30)]
    assert node_capacity.place(tiny, "m7i.large", 1).unplaced == ["tiny"], "29 pods per m7i.large"


def _rendered_pods(run: ProgramRun) -> list[PodGroup]:
    """The pods the program's own objects run at the HPA maximum, with the requests they declare; where a chart
    is left at its default requests, the budget the config check uses for it."""
    pods = [PodGroup("backend", _backend_requests(run), replicas=int(_hpa(run)["maxReplicas"]))]
    releases = {release.inputs["name"]: release.inputs["values"] for release in run.of_type(RELEASE)}
    autoscaler = releases["cluster-autoscaler"]
    pods.append(PodGroup("cluster-autoscaler", _requests(autoscaler.get("resources"))))
    controller = releases["nginx-ingress"]["controller"]
    pods.append(
        PodGroup(
            "ingress controller",
            _requests(controller.get("resources"), node_capacity.INGRESS_CONTROLLERS.requests),
            replicas=int(controller["replicaCount"]),
        )
    )
    pods.append(PodGroup("qdrant", _requests(releases["qdrant"].get("resources"), node_capacity.QDRANT.requests)))
    if "cert-manager" in releases:
        cert_manager = releases["cert-manager"]
        webhook = cert_manager["webhook"]
        parts = [cert_manager, cert_manager["cainjector"], *[webhook] * int(webhook["replicaCount"])]
        pods.append(PodGroup("cert-manager", sum((_requests(part.get("resources")) for part in parts), Requests(0, 0))))
    if "prometheus" in releases:
        server = releases["prometheus"].get("server", {})
        pods.append(PodGroup("prometheus", _requests(server.get("resources"), node_capacity.PROMETHEUS.requests)))
        state_metrics = releases["prometheus"]["kube-state-metrics"].get("resources")
        pods.append(PodGroup("kube-state-metrics", _requests(state_metrics)))
    if "grafana" in releases:
        pods.append(PodGroup("grafana", _requests(releases["grafana"].get("resources"))))
    stores = run.of_type("kubernetes:apps/v1:StatefulSet")
    if stores:
        per_store = [
            _requests(
                _container(store).get("resources"),
                node_capacity.IN_CLUSTER_STORES.requests,
            )
            for store in stores
        ]
        largest = max(per_store, key=lambda requests: (requests.cpu_millis, requests.memory_mib))
        pods.append(PodGroup("postgres and redis", largest, replicas=len(stores)))
    return pods


def _hpa(run: ProgramRun) -> dict[str, Any]:
    (hpa,) = run.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    return hpa.inputs["spec"]


def _backend_requests(run: ProgramRun) -> Requests:
    (deployment,) = run.of_type("kubernetes:apps/v1:Deployment")
    return _requests(_container(deployment)["resources"])


def _container(workload: RegisteredResource) -> dict[str, Any]:
    containers = workload.inputs["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{workload.name}: one container expected, got {len(containers)}"
    return containers[0]


def _requests(resources: dict[str, Any] | None, default: Requests | None = None) -> Requests:
    """A container's or chart's `resources.requests` as a Requests; `default` where none are declared."""
    requests = (resources or {}).get("requests")
    if not requests:
        assert default is not None, f"no requests declared in {resources}"
        return default
    return Requests(_millicores(str(requests.get("cpu", "0"))), _mebibytes(str(requests.get("memory", "0"))))


def _millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)


def _mebibytes(quantity: str) -> int:
    amount, unit = re.fullmatch(r"(\d+)([KMGT]i?|k)?", quantity).groups()  # type: ignore[union-attr]
    factor = {None: 1, "k": 1000, "K": 1000, "M": 10**6, "G": 10**9, "T": 10**12,
              "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[unit]
    return -(-int(amount) * factor // 2**20)  # rounded up: a scheduler counts every byte
