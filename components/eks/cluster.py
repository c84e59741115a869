"""Platform for the prod target: a VPC over three zones, an EKS cluster with a managed node group, and the
Kubernetes provider and namespace every other eks component deploys into."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.config import ClusterConfig

ZONES = 3
"""Subnets, nodes and the data tier's replicas spread over this many availability zones."""
NAMESPACE = "brain"
NODE_POLICIES = {
    "worker": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "cni": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "registry": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
}
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:ebs-csi-controller-sa"


@dataclass
class PlatformArgs:
    """What the platform is built from."""

    settings: ClusterConfig
    """Region, Kubernetes version, VPC range, API access, node group."""


@dataclass(frozen=True)
class _SubnetPlan:
    """The VPC range cut into per-zone subnets: large private ones (nodes and, with the VPC CNI, every pod
    takes an address there) and small public ones (only the load balancer and the NAT gateways)."""

    private: list[str]
    public: list[str]

    @classmethod
    def of(cls, vpc_cidr: str) -> _SubnetPlan:
        quarters = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=2))
        public = list(quarters[-1].subnets(prefixlen_diff=2))
        return cls(private=[str(net) for net in quarters[:ZONES]], public=[str(net) for net in public[:ZONES]])


class Platform(pulumi.ComponentResource):
    """The cluster the topology runs on. Other eks components take it and build with its `providers`."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    host: str
    """The public host name the balancer serves."""
    private_subnet_ids: list[pulumi.Output[str]]
    node_security_group_id: pulumi.Output[str]
    """The security group EKS attaches to managed nodes (and so to every pod): the data tier admits it."""
    namespace: pulumi.Output[str]
    storage_class: pulumi.Output[str]
    """The encrypted gp3 StorageClass that keeps its volumes when a claim is deleted."""
    providers: list[pulumi.ProviderResource]
    """The region's AWS provider and the cluster's Kubernetes provider, for components built on it."""
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:eks:Platform", name, None, opts)
        settings = args.settings
        self._name = name
        # One explicit provider, so `cluster.region` decides the region rather than ambient `aws:region`.
        aws_provider = aws.Provider(
            f"{name}-aws", aws.ProviderArgs(region=settings.region), opts=pulumi.ResourceOptions(parent=self)
        )
        self._aws = pulumi.ResourceOptions(parent=self, provider=aws_provider)
        self.vpc_cidr, self.host = settings.vpc_cidr, settings.host
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=settings.vpc_cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={"Name": f"{name}-vpc"},
            ),
            opts=self._aws,
        )
        self.vpc_id = vpc.id
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(provider=aws_provider, parent=self)
        ).names
        public_ids, self.private_subnet_ids = self._subnets(vpc, zones, _SubnetPlan.of(settings.vpc_cidr))

        cluster = eks.Cluster(
            f"{name}-cluster",
            eks.ClusterArgs(
                vpc_id=vpc.id,
                public_subnet_ids=public_ids,
                private_subnet_ids=self.private_subnet_ids,
                version=settings.version,
                authentication_mode=eks.AuthenticationMode.API,
                create_oidc_provider=True,
                skip_default_node_group=True,
                endpoint_private_access=True,
                endpoint_public_access=True,
                public_access_cidrs=settings.api_access_cidrs,
                enabled_cluster_log_types=["api", "audit", "authenticator"],
            ),
            opts=pulumi.ResourceOptions(parent=self, providers=[aws_provider]),
        )
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.node_security_group_id = cluster.eks_cluster.vpc_config.cluster_security_group_id
        nodes = self._node_group(cluster, aws_provider, settings)
        cluster_name = cluster.eks_cluster.name
        # The HPA reads pod CPU and memory from metrics-server, which EKS does not install by itself.
        aws.eks.Addon(
            f"{name}-metrics-server",
            aws.eks.AddonArgs(cluster_name=cluster_name, addon_name="metrics-server"),
            opts=pulumi.ResourceOptions.merge(self._aws, pulumi.ResourceOptions(depends_on=[nodes])),
        )
        # Persistent volumes (Qdrant; PostgreSQL and Redis in_cluster) need the EBS CSI driver.
        aws.eks.Addon(
            f"{name}-ebs-csi-driver",
            aws.eks.AddonArgs(
                cluster_name=cluster_name,
                addon_name="aws-ebs-csi-driver",
                service_account_role_arn=self._ebs_csi_role(cluster).arn,
            ),
            opts=pulumi.ResourceOptions.merge(self._aws, pulumi.ResourceOptions(depends_on=[nodes])),
        )

        # Every Kubernetes object waits for the nodes: workloads must have somewhere to run.
        kubernetes_provider = k8s.Provider(
            f"{name}-kubernetes",
            k8s.ProviderArgs(kubeconfig=self.kubeconfig),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes]),
        )
        self.providers = [aws_provider, kubernetes_provider]
        on_cluster = pulumi.ResourceOptions(parent=self, provider=kubernetes_provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            k8s.core.v1.NamespaceInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    # The API server refuses any pod that breaks the `restricted` Pod Security Standard.
                    name=NAMESPACE, labels={"pod-security.kubernetes.io/enforce": "restricted"}
                )
            ),
            opts=on_cluster,
        )
        self.namespace = cast(pulumi.Output[str], namespace.metadata.name)
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            k8s.storage.v1.StorageClassInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="gp3-retain",
                    annotations={"storageclass.kubernetes.io/is-default-class": "true"},
                ),
                provisioner="ebs.csi.aws.com",
                parameters={"type": "gp3", "encrypted": "true"},
                reclaim_policy="Retain",  # deleting a claim never deletes the data
                volume_binding_mode="WaitForFirstConsumer",  # the volume is made in the pod's zone
                allow_volume_expansion=True,
            ),
            opts=on_cluster,
        )
        self.storage_class = cast(pulumi.Output[str], storage_class.metadata.name)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "namespace": self.namespace,
                "kubeconfig": self.kubeconfig,
                "node_security_group_id": self.node_security_group_id,
            }
        )

    def _subnets(
        self, vpc: aws.ec2.Vpc, zones: pulumi.Output[list[str]], plan: _SubnetPlan
    ) -> tuple[list[pulumi.Output[str]], list[pulumi.Output[str]]]:
        """Public subnets behind an internet gateway; private ones reaching out through a NAT gateway in their
        own zone, so losing one zone does not cut the others off. Tagged for Kubernetes load balancers."""
        name = self._name
        gateway = aws.ec2.InternetGateway(f"{name}-igw", aws.ec2.InternetGatewayArgs(vpc_id=vpc.id), opts=self._aws)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            aws.ec2.RouteTableArgs(
                vpc_id=vpc.id, routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)]
            ),
            opts=self._aws,
        )
        public_ids: list[pulumi.Output[str]] = []
        private_ids: list[pulumi.Output[str]] = []
        for index in range(ZONES):
            zone = zones.apply(lambda names, index=index: _zone(names, index))
            public = self._subnet(f"public-{index}", vpc, zone, plan.public[index], {"kubernetes.io/role/elb": "1"})
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                aws.ec2.RouteTableAssociationArgs(subnet_id=public.id, route_table_id=public_routes.id),
                opts=self._aws,
            )
            address = aws.ec2.Eip(f"{name}-nat-{index}", aws.ec2.EipArgs(domain="vpc"), opts=self._aws)
            # A NAT gateway can only be created once the VPC has its internet gateway.
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{index}",
                aws.ec2.NatGatewayArgs(subnet_id=public.id, allocation_id=address.id),
                opts=pulumi.ResourceOptions.merge(self._aws, pulumi.ResourceOptions(depends_on=[gateway])),
            )
            private = self._subnet(
                f"private-{index}", vpc, zone, plan.private[index], {"kubernetes.io/role/internal-elb": "1"}
            )
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                aws.ec2.RouteTableArgs(
                    vpc_id=vpc.id, routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)]
                ),
                opts=self._aws,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}",
                aws.ec2.RouteTableAssociationArgs(subnet_id=private.id, route_table_id=private_routes.id),
                opts=self._aws,
            )
            public_ids.append(public.id)
            private_ids.append(private.id)
        return public_ids, private_ids

    def _subnet(
        self, key: str, vpc: aws.ec2.Vpc, zone: pulumi.Output[str], cidr: str, tags: dict[str, str]
    ) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            f"{self._name}-{key}",
            aws.ec2.SubnetArgs(
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=cidr,
                map_public_ip_on_launch=False,
                tags={"Name": f"{self._name}-{key}", **tags},
            ),
            opts=self._aws,
        )

    def _node_group(
        self, cluster: eks.Cluster, aws_provider: aws.Provider, settings: ClusterConfig
    ) -> eks.ManagedNodeGroup:
        """The nodes, in the private subnets of every zone. With API authentication, EKS grants the node
        role its access entry by itself."""
        role = aws.iam.Role(
            f"{self._name}-node",
            aws.iam.RoleArgs(assume_role_policy=_assume_role_policy({"Service": "ec2.amazonaws.com"})),
            opts=self._aws,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{self._name}-node-{key}",
                aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=arn),
                opts=self._aws,
            )
            for key, arn in NODE_POLICIES.items()
        ]
        nodes = settings.node_group
        return eks.ManagedNodeGroup(
            f"{self._name}-nodes",
            eks.ManagedNodeGroupArgs(
                cluster=cluster,
                node_role=role,
                subnet_ids=self.private_subnet_ids,
                instance_types=nodes.instance_types,
                capacity_type="ON_DEMAND",
                operating_system=eks.OperatingSystem.AL2023,
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=nodes.min_size, desired_size=nodes.desired_size, max_size=nodes.max_size
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, providers=[aws_provider], depends_on=attachments),
        )

    def _ebs_csi_role(self, cluster: eks.Cluster) -> aws.iam.Role:
        """The EBS CSI controller's role, assumable only by its service account (IRSA, via the cluster's OIDC
        provider)."""
        policy = pulumi.Output.all(cluster.oidc_provider_arn, cluster.oidc_issuer).apply(
            lambda pair: _assume_role_policy(
                {"Federated": pair[0]},
                action="sts:AssumeRoleWithWebIdentity",
                conditions={f"{pair[1]}:sub": EBS_CSI_SERVICE_ACCOUNT, f"{pair[1]}:aud": "sts.amazonaws.com"},
            )
        )
        role = aws.iam.Role(f"{self._name}-ebs-csi", aws.iam.RoleArgs(assume_role_policy=policy), opts=self._aws)
        aws.iam.RolePolicyAttachment(
            f"{self._name}-ebs-csi",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=EBS_CSI_POLICY),
            opts=self._aws,
        )
        return role


def _zone(names: list[str], index: int) -> str:
    if len(names) < ZONES:
        raise ValueError(
            f"cluster.region offers {len(names)} availability zones ({', '.join(names)}); the eks target needs {ZONES}"
        )
    return names[index]


def _assume_role_policy(
    principal: dict[str, str], action: str = "sts:AssumeRole", conditions: dict[str, str] | None = None
) -> str:
    statement: dict[str, object] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if conditions:
        statement["Condition"] = {"StringEquals": conditions}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
