"""The prod target: the same topology on AWS EKS (managed or in-cluster data tier, F5 NGINX Ingress Controller)."""

from components.eks.backend import BackendReplicaSet, BackendReplicaSetArgs
from components.eks.balancer import Balancer, BalancerArgs
from components.eks.cluster import Platform, PlatformArgs
from components.eks.data_tier import DataTier, DataTierArgs
from components.eks.monitoring import Monitoring, MonitoringArgs

__all__ = [
    "BackendReplicaSet",
    "BackendReplicaSetArgs",
    "Balancer",
    "BalancerArgs",
    "DataTier",
    "DataTierArgs",
    "Monitoring",
    "MonitoringArgs",
    "Platform",
    "PlatformArgs",
]
