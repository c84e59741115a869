"""The prod program under mocks: the resources of the topology for each data mode, parenting, stack outputs,
and config the eks target refuses before registering anything."""

from __future__ import annotations

from collections import Counter

import pytest

from components.config import ConfigError
from tools.program import RegisteredResource, is_secret
from tests.support.renders import run_program

PLATFORM = {
    "brain:eks:Platform": 1,
    "pulumi:providers:aws": 1,
    "aws:ec2/vpc:Vpc": 1,
    "aws:ec2/subnet:Subnet": 6,  # a private and a public subnet in each of three zones
    "aws:ec2/internetGateway:InternetGateway": 1,
    "aws:ec2/eip:Eip": 3,
    "aws:ec2/natGateway:NatGateway": 3,  # one per zone: losing a zone cuts no other zone off
    "aws:ec2/routeTable:RouteTable": 4,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 6,
    "eks:index:Cluster": 1,
    "aws:iam/role:Role": 3,  # the nodes', the EBS CSI driver's, the Cluster Autoscaler's
    "aws:iam/rolePolicy:RolePolicy": 1,  # the Cluster Autoscaler's
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 4,
    "eks:index:ManagedNodeGroup": 1,
    "aws:eks/addon:Addon": 2,  # metrics-server, aws-ebs-csi-driver
    "pulumi:providers:kubernetes": 1,
    "kubernetes:core/v1:Namespace": 1,
    "kubernetes:storage.k8s.io/v1:StorageClass": 1,
}
BACKEND_AND_BALANCER = {
    "brain:eks:BackendReplicaSet": 1,
    "brain:eks:Balancer": 1,
    "kubernetes:apps/v1:Deployment": 1,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1,
    "kubernetes:policy/v1:PodDisruptionBudget": 1,
    "kubernetes:k8s.nginx.org/v1:VirtualServer": 1,
    "kubernetes:k8s.nginx.org/v1:Policy": 1,
    "kubernetes:core/v1:Namespace": 2,  # the ingress controller's and cert-manager's: `pulumi destroy` removes them
    "kubernetes:yaml/v2:ConfigFile": 1,  # the controller's CRDs at the pinned release
    "brain:eks:CertificateIssuer": 1,  # balancer.tls, on in Pulumi.prod.yaml
    "kubernetes:cert-manager.io/v1:ClusterIssuer": 1,
}
DATA_TIER = {
    "brain:eks:DataTier": 1,
    "random:index/randomPassword:RandomPassword": 3,  # PostgreSQL, Redis, Qdrant
}
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ISOLATION = {
    "brain:eks:NetworkIsolation": 1,
    # The default deny; DNS; the backend; Qdrant; cert-manager's HTTP-01 solver.
    NETWORK_POLICY: 5,
}
MANAGED_DATA = {
    "aws:rds/instance:Instance": 1,
    "aws:rds/subnetGroup:SubnetGroup": 1,
    "aws:elasticache/replicationGroup:ReplicationGroup": 1,
    "aws:elasticache/subnetGroup:SubnetGroup": 1,
    "aws:ec2/securityGroup:SecurityGroup": 2,
}
IN_CLUSTER_DATA = {"kubernetes:apps/v1:StatefulSet": 2, NETWORK_POLICY: 2}  # and a policy for each
MONITORING = {  # on by default; its Secret (Grafana's admin) and releases (Prometheus, Grafana) are counted below
    "brain:eks:Monitoring": 1,
    "kubernetes:core/v1:ConfigMap": 1,  # prometheus.yml and the rules file
    "random:index/randomPassword:RandomPassword": 1,  # Grafana's admin password
    NETWORK_POLICY: 3,  # Prometheus, kube-state-metrics, Grafana
}


def _expected(mode_specific: dict[str, int], services: int, secrets: int, releases: int) -> Counter[str]:
    expected = (
        Counter(PLATFORM) + Counter(BACKEND_AND_BALANCER) + Counter(DATA_TIER) + Counter(ISOLATION) + Counter(MONITORING)
        + Counter(mode_specific)
    )
    expected["kubernetes:core/v1:Service"] = services
    expected["kubernetes:core/v1:Secret"] = secrets
    expected["kubernetes:helm.sh/v3:Release"] = releases
    return expected


def test_managed_data_tier_creates_exactly_the_topology() -> None:
    counts = Counter(resource.type for resource in run_program("prod", ["data.mode=managed"]).resources)
    # Services: the backend's, the controller's status; Secrets: the backend's env, the data credentials,
    # Grafana's admin; releases: the Cluster Autoscaler, the ingress controller, cert-manager, Qdrant, Prometheus,
    # Grafana.
    assert counts == _expected(MANAGED_DATA, services=2, secrets=3, releases=6), dict(counts)


def test_in_cluster_data_tier_swaps_aws_services_for_stateful_sets() -> None:
    counts = Counter(resource.type for resource in run_program("prod", ["data.mode=in_cluster"]).resources)
    # Services besides: PostgreSQL's and Redis's.
    assert counts == _expected(IN_CLUSTER_DATA, services=4, secrets=3, releases=6), dict(counts)


def test_monitoring_is_on_by_default_and_exports_its_urls() -> None:
    run = run_program("prod")
    assert run.named("brain-prometheus").inputs["chart"] == "prometheus"
    assert run.named("brain-grafana").inputs["chart"] == "grafana"
    assert run.outputs["prometheus_url"] == "http://prometheus-server.brain.svc.cluster.local"
    assert run.outputs["grafana_url"] == "http://grafana.brain.svc.cluster.local"
    assert is_secret(run.outputs["grafana_admin_password"])
    assert run.named("brain-allow-prometheus").type == NETWORK_POLICY, "Prometheus must be let out to its targets"
    names = {resource.name for resource in run_program("prod", ["monitoring.enabled=false"]).resources}
    assert not {"brain-prometheus", "brain-grafana", "brain-prometheus-config", "brain-allow-prometheus"} & names


def test_outputs_name_the_host_and_keep_credentials_secret() -> None:
    outputs = run_program("prod", ["cluster.host=api.brain.test"]).outputs
    assert outputs["balancer_url"] == "https://api.brain.test"
    assert outputs["websocket_url"] == "wss://api.brain.test/ws/"
    assert outputs["nginx_status_url"] == "http://nginx-status.nginx-ingress.svc.cluster.local:8080/stub_status"
    assert outputs["backend_names"] == ["brain-backend"]
    for name in ("database_url", "redis_url", "qdrant_api_key"):
        assert is_secret(outputs[name]), f"stack output {name} must be a secret, got {outputs[name]!r}"
    assert outputs["qdrant_url"] == "http://qdrant.brain.svc.cluster.local:6333"


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        (["balancer.algorithm=weighted", "balancer.weights=[1,1,1]"], "brain:balancer.algorithm", "not possible on target eks"),
        (["backend.image="], "brain:backend.image", "required for target eks"),
        (["cluster.vpc_cidr=10.0.0.0/24"], "brain:cluster.vpc_cidr", "/16 to /20"),
        (["cluster.vpc_cidr=10.0.0.1/16"], "brain:cluster.vpc_cidr", "IPv4 network"),
        (["cluster.api_access_cidrs=[office]"], "brain:cluster.api_access_cidrs[0]", "IPv4 network"),
        (
            ["data.qdrant.image=qdrant/qdrant:v1.19.0@sha256:" + "0" * 64],
            "brain:data.qdrant.image",
            "cannot carry a digest on target eks",
        ),
        (["data.qdrant.resources.memory=64Gi"], "brain:cluster.node_group.max_size", "(qdrant) find no room"),
        (
            ["data.mode=in_cluster", "data.postgres.resources.memory=64Gi"],
            "brain:cluster.node_group.max_size",
            "(postgres and redis) find no room",
        ),
    ],
    ids=["weighted", "no-image", "small-vpc", "host-bits", "bad-cidr", "qdrant-digest", "qdrant-too-big", "store-too-big"],
)
def test_eks_refuses_bad_config_before_any_resource(overrides: list[str], key: str, allowed: str) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("prod", overrides, registered=registered)
    message = str(raised.value)
    assert key in message and allowed in message, f"expected {key!r} and {allowed!r} in:\n{message}"
    assert registered == [], f"expected no resource before the config error, got {[r.name for r in registered]}"
