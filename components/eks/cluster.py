"""Platform for the prod target: a VPC over three zones, an EKS cluster with a managed node group that the
Cluster Autoscaler grows and shrinks, and the Kubernetes provider and namespace every other eks component
deploys into."""

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
from components.eks.preflight import require_aws_cli
from components.node_capacity import CLUSTER_AUTOSCALER

ZONES = 3
"""Subnets, nodes and the data tier's replicas spread over this many availability zones."""
NAMESPACE = "brain"
NODE_POLICIES = {
    "worker": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "cni": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "registry": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
}
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
SYSTEM_NAMESPACE = "kube-system"
AUTOSCALER_CHART_REPO = "https://kubernetes.github.io/autoscaler"
AUTOSCALER_CHART_VERSION = "9.59.0"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
AUTOSCALER_IMAGE_TAGS = {"1.35": "v1.35.2", "1.36": "v1.36.1"}
"""The Cluster Autoscaler release for each supported cluster version: its minor must match the cluster's (the
chart's own default image follows its appVersion, 1.35.0)."""


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
    """The security group EKS attaches to the managed node group's nodes (and so to every pod on them): the
    data tier admits it."""
    namespace: pulumi.Output[str]
    storage_class: pulumi.Output[str]
    """The encrypted gp3 StorageClass that keeps its volumes when a claim is deleted. It exists only once the
    EBS CSI driver add-on does, so whatever takes this name (a chart's or a StatefulSet's volume claims) waits
    for the driver too: no claim is made before something can provision it."""
    providers: list[pulumi.ProviderResource]
    """The region's AWS provider and the cluster's Kubernetes provider, for components built on it."""
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        require_aws_cli()
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
                # `[]`: private endpoint only. The config requires the choice for eks (no open default).
                endpoint_public_access=bool(settings.api_access_cidrs),
                public_access_cidrs=settings.api_access_cidrs or None,
                enabled_cluster_log_types=["api", "audit", "authenticator"],
                # STANDARD: at the end of standard support EKS upgrades the cluster rather than billing extended
                # support (the API's default is EXTENDED).
                upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
                deletion_protection=True,  # AWS refuses to delete the cluster until this is turned off
                # pulumi-eks manages the vpc-cni add-on itself and merges this into its configuration values as
                # `enableNetworkPolicy: "true"` (nodejs/eks/addons/cni-addon.ts): the VPC CNI's network policy
                # agent then enforces the NetworkPolicies in the app namespace.
                vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=True),
            ),
            # protect: `pulumi destroy` or a replacement stops before the cluster (the children pulumi-eks makes
            # inherit it), as before the data stores.
            opts=pulumi.ResourceOptions(parent=self, providers=[aws_provider], protect=True),
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
        # Persistent volumes (Qdrant; PostgreSQL and Redis in_cluster; Prometheus) need the EBS CSI driver.
        ebs_csi = aws.eks.Addon(
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
        self._cluster_autoscaler(cluster, cluster_name, settings, on_cluster)
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
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[ebs_csi])),
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
                # The Cluster Autoscaler moves the desired size between min and max; `pulumi up` must not
                # reset it (pulumi-eks then ignores changes to scalingConfig.desiredSize of its node group).
                ignore_scaling_changes=True,
            ),
            opts=pulumi.ResourceOptions(parent=self, providers=[aws_provider], depends_on=attachments),
        )

    def _ebs_csi_role(self, cluster: eks.Cluster) -> aws.iam.Role:
        """The EBS CSI controller's role: AWS's managed policy for the driver."""
        role = self._service_account_role("ebs-csi", cluster, EBS_CSI_SERVICE_ACCOUNT)
        aws.iam.RolePolicyAttachment(
            f"{self._name}-ebs-csi",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=EBS_CSI_POLICY),
            opts=self._aws,
        )
        return role

    def _cluster_autoscaler(
        self,
        cluster: eks.Cluster,
        cluster_name: pulumi.Output[str],
        settings: ClusterConfig,
        on_cluster: pulumi.ResourceOptions,
    ) -> None:
        """The Cluster Autoscaler: adds a node (up to `node_group.max_size`) when pods are Pending for room, and
        removes an underused one. It finds the node group's Auto Scaling group by the tags EKS puts on managed
        node groups (`k8s.io/cluster-autoscaler/<cluster>`), and may resize only groups tagged for this cluster."""
        role = self._service_account_role("cluster-autoscaler", cluster, AUTOSCALER_SERVICE_ACCOUNT)
        aws.iam.RolePolicy(
            f"{self._name}-cluster-autoscaler",
            aws.iam.RolePolicyArgs(role=role.name, policy=cluster_name.apply(_autoscaler_policy)),
            opts=self._aws,
        )
        requests = CLUSTER_AUTOSCALER.requests
        k8s.helm.v3.Release(
            f"{self._name}-cluster-autoscaler",
            k8s.helm.v3.ReleaseArgs(
                name="cluster-autoscaler",
                chart="cluster-autoscaler",
                version=AUTOSCALER_CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=AUTOSCALER_CHART_REPO),
                namespace=SYSTEM_NAMESPACE,
                values={
                    "cloudProvider": "aws",
                    "awsRegion": settings.region,
                    "autoDiscovery": {"clusterName": cluster_name},
                    "image": {"tag": AUTOSCALER_IMAGE_TAGS[settings.version]},
                    "rbac": {
                        "serviceAccount": {
                            "name": AUTOSCALER_SERVICE_ACCOUNT,
                            "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                        }
                    },
                    "resources": {
                        "requests": {"cpu": f"{requests.cpu_millis}m", "memory": f"{requests.memory_mib}Mi"},
                        "limits": {"memory": f"{requests.memory_mib}Mi"},
                    },
                },
            ),
            opts=on_cluster,
        )

    def _service_account_role(self, key: str, cluster: eks.Cluster, service_account: str) -> aws.iam.Role:
        """A role only `service_account` in kube-system can assume (IRSA, via the cluster's OIDC provider)."""
        subject = f"system:serviceaccount:{SYSTEM_NAMESPACE}:{service_account}"
        policy = pulumi.Output.all(cluster.oidc_provider_arn, cluster.oidc_issuer).apply(
            lambda pair: _assume_role_policy(
                {"Federated": pair[0]},
                action="sts:AssumeRoleWithWebIdentity",
                conditions={f"{pair[1]}:sub": subject, f"{pair[1]}:aud": "sts.amazonaws.com"},
            )
        )
        return aws.iam.Role(f"{self._name}-{key}", aws.iam.RoleArgs(assume_role_policy=policy), opts=self._aws)


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


def _autoscaler_policy(cluster_name: str) -> str:
    """The Cluster Autoscaler's permissions (its AWS README's policy for auto-discovery): reads anywhere, but
    resizing and terminating only in Auto Scaling groups tagged as this cluster's."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
                    },
                },
            ],
        }
    )
