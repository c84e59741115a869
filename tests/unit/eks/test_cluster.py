"""Prod platform: the VPC over three zones, the EKS cluster and its nodes, the add-ons the HPA and the volumes
need, and the Kubernetes provider, namespace and storage class everything else deploys with."""

from __future__ import annotations

import ipaddress
import json

from tools.program import is_secret, reveal, run_program

SUBNET = "aws:ec2/subnet:Subnet"


def test_cluster_uses_api_authentication_oidc_and_no_default_node_group() -> None:
    inputs = run_program("prod", ["cluster.version='1.33'"]).named("brain-cluster").inputs
    assert inputs["version"] == "1.33"
    assert inputs["authenticationMode"] == "API"
    assert inputs["createOidcProvider"] is True
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["endpointPrivateAccess"] is True, "nodes must reach the API server inside the VPC"
    assert inputs["vpcId"] == "brain-vpc-id"
    assert inputs["privateSubnetIds"] == [f"brain-private-{index}-id" for index in range(3)]
    assert inputs["publicSubnetIds"] == [f"brain-public-{index}-id" for index in range(3)]


def test_public_api_endpoint_is_limited_to_the_configured_networks() -> None:
    inputs = run_program("prod", ["cluster.api_access_cidrs=[203.0.113.0/24]"]).named("brain-cluster").inputs
    assert inputs["endpointPublicAccess"] is True
    assert inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_subnets_split_the_vpc_over_three_zones_without_overlap() -> None:
    subnets = run_program("prod", ["cluster.vpc_cidr=10.20.0.0/18"]).of_type(SUBNET)
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
    run = run_program(
        "prod",
        [
            "cluster.node_group.instance_types=[m7i.xlarge]",
            "cluster.node_group.min_size=3",
            "cluster.node_group.desired_size=4",
            "cluster.node_group.max_size=9",
        ],
    )
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
    assert set(addons) == {"metrics-server", "aws-ebs-csi-driver"}
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
    run = run_program("prod", ["cluster.region=us-west-2"])
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
