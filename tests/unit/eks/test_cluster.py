"""Prod platform: the VPC over three zones, the EKS cluster and its nodes, the add-ons the HPA and the volumes
need, and the Kubernetes provider, namespace and storage class everything else deploys with."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from components.config import EKS_STANDARD_SUPPORT_UNTIL, ConfigError
from components.eks import preflight
from tools import program
from tools.program import ProgramRun, RegisteredResource, is_secret, reveal, stack_config
from tests.support.renders import run_program

SUBNET = "aws:ec2/subnet:Subnet"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIGURED = [
    "cluster.region=us-west-2",
    "cluster.vpc_cidr=10.20.0.0/18",
    "cluster.api_access_cidrs=[198.51.100.0/24]",
    "cluster.node_group.instance_types=[m7i.xlarge]",
    "cluster.node_group.min_size=3",
    "cluster.node_group.desired_size=4",
    "cluster.node_group.max_size=9",
]
"""Cluster keys away from their defaults at once: the tests that follow config share this mock run (and, with
`cluster.version` added, one per supported version)."""


def test_cluster_uses_api_authentication_oidc_and_no_default_node_group() -> None:
    inputs = run_program("prod", [*CONFIGURED, "cluster.version='1.35'"]).named("brain-cluster").inputs
    assert inputs["version"] == "1.35"
    assert inputs["authenticationMode"] == "API"
    assert inputs["createOidcProvider"] is True
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["endpointPrivateAccess"] is True, "nodes must reach the API server inside the VPC"
    assert inputs["vpcId"] == "brain-vpc-id"
    assert inputs["privateSubnetIds"] == [f"brain-private-{index}-id" for index in range(3)]
    assert inputs["publicSubnetIds"] == [f"brain-public-{index}-id" for index in range(3)]


def test_public_api_endpoint_is_limited_to_the_configured_networks() -> None:
    inputs = run_program("prod", CONFIGURED).named("brain-cluster").inputs
    assert inputs["endpointPublicAccess"] is True
    assert inputs["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_no_api_access_networks_means_the_private_endpoint_only() -> None:
    inputs = run_program("prod", ["cluster.api_access_cidrs=[]"]).named("brain-cluster").inputs
    assert inputs["endpointPublicAccess"] is False
    assert inputs["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in inputs, f"a private-only endpoint lists no networks, got {inputs['publicAccessCidrs']}"


def test_default_version_is_in_standard_support_on_the_review_date() -> None:
    """1.34 left standard support on 2026-12-02 (EKS version calendar); the default must not be billed as
    extended support on 2026-12-03."""
    cluster = {k: v for k, v in _prod_cluster_config().items() if k != "version"}
    inputs = run_program("prod", config=_prod_config(cluster)).named("brain-cluster").inputs
    assert EKS_STANDARD_SUPPORT_UNTIL[inputs["version"]] > "2026-12-03", inputs["version"]
    assert all(until > "2026-12-03" for until in EKS_STANDARD_SUPPORT_UNTIL.values()), EKS_STANDARD_SUPPORT_UNTIL


def test_cluster_upgrades_at_end_of_standard_support_and_is_protected() -> None:
    cluster = run_program("prod").named("brain-cluster")
    assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}, "never billed extended support silently"
    assert cluster.inputs["deletionProtection"] is True
    assert cluster.protect, "a destroy or replacement must stop before the cluster"


def test_vpc_cni_enforces_network_policies() -> None:
    inputs = run_program("prod").named("brain-cluster").inputs
    assert inputs["vpcCniOptions"]["enableNetworkPolicy"] is True, inputs.get("vpcCniOptions")
    assert inputs.get("useDefaultVpcCni") is not True, "the default VPC CNI ignores vpcCniOptions"


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        (["cluster.version='1.34'"], "brain:cluster.version = '1.34'", "1.35 (until 2027-03-27), 1.36 (until 2027-08-02)"),
        (["cluster.version='1.37'"], "brain:cluster.version = '1.37'", "standard support"),
        (["cluster.node_autoscaler=karpenter"], "brain:cluster.node_autoscaler = 'karpenter'", "'cluster_autoscaler'"),
        (["cluster.node_group.instance_types=[x9.huge]"], "brain:cluster.node_group.instance_types[0]", "m7i.large"),
    ],
    ids=["extended-support-version", "unknown-version", "unknown-autoscaler", "unknown-instance-type"],
)
def test_bad_platform_config_is_rejected_before_any_resource(overrides: list[str], key: str, allowed: str) -> None:
    _assert_rejected(stack_config("prod", overrides), key, allowed)


def test_missing_api_access_cidrs_is_rejected_naming_the_key() -> None:
    cluster = {k: v for k, v in _prod_cluster_config().items() if k != "api_access_cidrs"}
    _assert_rejected(_prod_config(cluster), "brain:cluster.api_access_cidrs is required for target eks", "[]")


def test_node_group_keeps_the_size_the_autoscaler_chose() -> None:
    assert run_program("prod").named("brain-nodes").inputs["ignoreScalingChanges"] is True, (
        "`pulumi up` would reset the desired size the Cluster Autoscaler set"
    )


def test_cluster_autoscaler_release_matches_the_cluster_and_node_group() -> None:
    for version in EKS_STANDARD_SUPPORT_UNTIL:
        run = run_program("prod", [*CONFIGURED, f"cluster.version='{version}'"])
        release = _one(run, RELEASE, "brain-cluster-autoscaler")
        values = release.inputs["values"]
        assert release.inputs["chart"] == "cluster-autoscaler" and release.inputs["version"], "the chart is pinned"
        assert release.inputs["namespace"] == "kube-system"
        assert values["image"]["tag"].startswith(f"v{version}."), (
            f"the autoscaler's minor must match cluster {version}, got {values['image']['tag']}"
        )
        assert (values["cloudProvider"], values["awsRegion"]) == ("aws", "us-west-2")
        assert values["autoDiscovery"]["clusterName"] == "brain-cluster"  # eks_cluster.name, as the mock names it
        assert release.provider is not None and release.provider.startswith(
            run.of_type("pulumi:providers:kubernetes")[0].urn
        )


AUTOSCALER_CHART_KEYS = {
    "9.59.0": {
        "cloudProvider",
        "awsRegion",
        "autoDiscovery.clusterName",
        "image.tag",
        "rbac.serviceAccount.name",
        "rbac.serviceAccount.annotations",  # a free-form map
        "resources",  # a container's resources, free-form
    }
}
"""Keys of the cluster-autoscaler chart's values.yaml that the program sets, read from the chart at its tag
(kubernetes/autoscaler, cluster-autoscaler-chart-9.59.0): a chart bump must be checked against the new one."""


def test_cluster_autoscaler_values_use_only_keys_of_the_pinned_chart() -> None:
    release = _one(run_program("prod"), RELEASE, "brain-cluster-autoscaler")
    assert release.inputs["version"] in AUTOSCALER_CHART_KEYS, (
        f"chart {release.inputs['version']}: read its values.yaml and list the keys used in AUTOSCALER_CHART_KEYS"
    )
    known = AUTOSCALER_CHART_KEYS[release.inputs["version"]]
    for path in _leaf_paths(release.inputs["values"]):
        assert any(path == key or path.startswith(f"{key}.") for key in known), (
            f"values key {path!r} is not one the chart reads (misspelt?)"
        )


def _leaf_paths(values: dict[str, Any], prefix: str = "") -> list[str]:
    return [
        path
        for key, value in values.items()
        for path in (_leaf_paths(value, f"{prefix}{key}.") if isinstance(value, dict) and value else [f"{prefix}{key}"])
    ]


def test_cluster_autoscaler_role_is_its_service_account_s_and_resizes_only_this_cluster_s_groups() -> None:
    run = run_program("prod")
    values = _one(run, RELEASE, "brain-cluster-autoscaler").inputs["values"]
    account = values["rbac"]["serviceAccount"]
    role = _one(run, "aws:iam/role:Role", "brain-cluster-autoscaler")
    assert account["annotations"]["eks.amazonaws.com/role-arn"].endswith("role/brain-cluster-autoscaler")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert f"system:serviceaccount:kube-system:{account['name']}" in trust["Condition"]["StringEquals"].values()
    policy = _one(run, "aws:iam/rolePolicy:RolePolicy", "brain-cluster-autoscaler")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    mutating = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    for statement in statements:
        actions = set(statement["Action"])
        assert all(action.split(":")[1].startswith(("Describe", "Get")) for action in actions - mutating), actions
        if actions & mutating:
            assert statement["Condition"] == {
                "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/brain-cluster": "owned"}
            }, "resizing must be limited to this cluster's Auto Scaling groups"
    assert mutating <= {action for statement in statements for action in statement["Action"]}


def test_volume_claims_wait_for_the_ebs_csi_driver() -> None:
    """Every chart or StatefulSet with volume claims must be created after the EBS CSI add-on (issue 12.8):
    through the StorageClass they name, which itself waits for the add-on."""
    for overrides in ([], ["data.mode=in_cluster", "monitoring.enabled=true"]):
        run = run_program("prod", overrides)
        (driver,) = [addon for addon in run.of_type("aws:eks/addon:Addon") if addon.inputs["addonName"] == "aws-ebs-csi-driver"]
        storage_class = run.named("brain-gp3")
        assert driver.urn in storage_class.depends_on
        claimants = [
            resource
            for resource in run.resources
            if resource.type in (RELEASE, "kubernetes:apps/v1:StatefulSet")
            and "gp3-retain" in json.dumps(resource.inputs)
        ]
        expected = {"brain-qdrant"} | ({"brain-postgres", "brain-redis", "brain-prometheus"} if overrides else set())
        assert expected <= {claimant.name for claimant in claimants}, [claimant.name for claimant in claimants]
        for claimant in claimants:
            assert driver.urn in _all_dependencies(run, claimant), f"{claimant.name} can race the EBS CSI driver"


def test_prod_stops_before_any_resource_without_the_aws_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a real engine (mocks detected as absent) and no `aws` on PATH: one clear message, nothing made."""
    monkeypatch.setattr(preflight, "get_monitor", lambda: None)
    monkeypatch.setattr(preflight.shutil, "which", lambda name: None)
    registered: list[RegisteredResource] = []
    with pytest.raises(preflight.MissingPrerequisite, match="AWS CLI .* `aws eks get-token`"):
        run_program("prod", registered=registered)
    assert registered == [], [resource.name for resource in registered]


def test_prod_runs_when_the_aws_cli_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "get_monitor", lambda: None)
    monkeypatch.setattr(preflight.shutil, "which", lambda name: f"/usr/local/bin/{name}")
    assert program.run_program("prod").named("brain-cluster"), "a fresh run: a shared one never met the patches"


def _one(run: ProgramRun, type_: str, name: str) -> RegisteredResource:
    (resource,) = [resource for resource in run.of_type(type_) if resource.name == name]
    return resource


def _all_dependencies(run: ProgramRun, resource: RegisteredResource) -> set[str]:
    """URNs `resource` waits for, directly or through what it waits for."""
    by_urn = {item.urn: item for item in run.resources}
    seen: set[str] = set()
    waiting = list(resource.depends_on)
    while waiting:
        urn = waiting.pop()
        if urn not in seen:
            seen.add(urn)
            waiting.extend(by_urn[urn].depends_on if urn in by_urn else [])
    return seen


def _prod_cluster_config() -> dict[str, Any]:
    return json.loads(stack_config("prod")["brain:cluster"])


def _prod_config(cluster: dict[str, Any]) -> dict[str, str]:
    return {**stack_config("prod"), "brain:cluster": json.dumps(cluster)}


def _assert_rejected(config: dict[str, str], key: str, allowed: str) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("prod", config=config, registered=registered)
    message = str(raised.value)
    assert key in message and allowed in message, f"expected {key!r} and {allowed!r} in:\n{message}"
    assert registered == [], f"expected no resource before the config error, got {[r.name for r in registered]}"


def test_subnets_split_the_vpc_over_three_zones_without_overlap() -> None:
    subnets = run_program("prod", CONFIGURED).of_type(SUBNET)
    vpc = ipaddress.IPv4Network("10.20.0.0/18")
    networks = [ipaddress.IPv4Network(subnet.inputs["cidrBlock"]) for subnet in subnets]
    assert all(network.subnet_of(vpc) for network in networks), networks
    assert not any(a.overlaps(b) for index, a in enumerate(networks) for b in networks[index + 1 :]), networks
    for kind, role in (("private", "kubernetes.io/role/internal-elb"), ("public", "kubernetes.io/role/elb")):
        group = [subnet for subnet in subnets if subnet.name.startswith(f"brain-{kind}-")]
        assert sorted(subnet.inputs["availabilityZone"] for subnet in group) == ["mock-1a", "mock-1b", "mock-1c"]
        assert all(subnet.inputs["tags"][role] == "1" for subnet in group), f"{kind} subnets lack the {role} tag"
    private = [network for subnet, network in zip(subnets, networks) if "private" in subnet.name]
    public = [network for subnet, network in zip(subnets, networks) if "public" in subnet.name]
    assert min(net.num_addresses for net in private) > max(net.num_addresses for net in public), (
        "pods take their addresses from the private subnets, which must be the larger ones"
    )


def test_node_group_follows_config_in_the_private_subnets() -> None:
    run = run_program("prod", CONFIGURED)
    inputs = run.named("brain-nodes").inputs
    assert inputs["instanceTypes"] == ["m7i.xlarge"]
    assert inputs["scalingConfig"] == {"minSize": 3, "desiredSize": 4, "maxSize": 9}
    assert inputs["subnetIds"] == [f"brain-private-{index}-id" for index in range(3)]
    assert inputs["cluster"] == run.named("brain-cluster").urn
    policies = sorted(
        attachment.inputs["policyArn"].rsplit("/", 1)[1]
        for attachment in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if attachment.name.startswith("brain-node-")
    )
    assert policies == ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]


def test_metrics_server_and_ebs_csi_addons_wait_for_the_nodes() -> None:
    run = run_program("prod")
    nodes = run.named("brain-nodes").urn
    addons = {addon.inputs["addonName"]: addon for addon in run.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"metrics-server", "aws-ebs-csi-driver"}, "vpc-cni is pulumi-eks's, inside the cluster"
    for addon in addons.values():
        assert addon.inputs["clusterName"] == "brain-cluster"  # eks_cluster.name, as the mock names it
        assert nodes in addon.depends_on, f"{addon.name} must wait for nodes to run on"
    (role,) = [role for role in run.of_type("aws:iam/role:Role") if role.name == "brain-ebs-csi"]
    assert addons["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"].endswith("role/brain-ebs-csi")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert "system:serviceaccount:kube-system:ebs-csi-controller-sa" in trust["Condition"]["StringEquals"].values()


def test_kubernetes_provider_uses_the_cluster_kubeconfig_as_a_secret_and_waits_for_nodes() -> None:
    run = run_program("prod")
    provider = run.of_type("pulumi:providers:kubernetes")[0]
    assert is_secret(provider.inputs["kubeconfig"]), "the kubeconfig grants cluster access and must be secret"
    assert json.loads(reveal(provider.inputs["kubeconfig"]))["current-context"] == "brain-cluster"
    assert run.named("brain-nodes").urn in provider.depends_on


def test_namespace_and_retaining_encrypted_storage_class() -> None:
    run = run_program("prod")
    assert run.named("brain-namespace").inputs["metadata"]["name"] == "brain"
    storage = run.named("brain-gp3").inputs
    assert storage["provisioner"] == "ebs.csi.aws.com"
    assert storage["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage["reclaimPolicy"] == "Retain", "deleting a claim must not delete the data"
    assert storage["volumeBindingMode"] == "WaitForFirstConsumer"


def test_aws_resources_use_the_configured_region() -> None:
    run = run_program("prod", CONFIGURED)
    provider = run.of_type("pulumi:providers:aws")[0]
    assert provider.inputs["region"] == "us-west-2"
    for resource in run.of_type("aws:ec2/vpc:Vpc") + run.of_type("aws:rds/instance:Instance"):
        assert resource.provider is not None and resource.provider.startswith(f"{provider.urn}::"), (
            f"{resource.urn} does not use the region's provider"
        )


def test_private_subnets_route_out_through_a_nat_gateway_in_their_own_zone() -> None:
    run = run_program("prod")
    gateway = run.named("brain-igw").urn
    for index in range(3):
        (nat,) = [nat for nat in run.of_type("aws:ec2/natGateway:NatGateway") if nat.name == f"brain-nat-{index}"]
        assert nat.inputs["subnetId"] == f"brain-public-{index}-id"
        assert gateway in nat.depends_on, "a NAT gateway needs the VPC's internet gateway first"
        (routes,) = [table for table in run.of_type("aws:ec2/routeTable:RouteTable") if table.name == f"brain-private-{index}"]
        assert routes.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "natGatewayId": f"brain-nat-{index}-id"}]
