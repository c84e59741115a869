"""The prod target: the same topology on AWS EKS (managed or in-cluster data tier, F5 NGINX Ingress Controller)."""

from components.eks.backend import BackendReplicaSet
from components.eks.balancer import Balancer
from components.eks.cluster import Platform, PlatformArgs
from components.eks.data_tier import DataTier
from components.eks.monitoring import Monitoring
from components.eks.network_policies import NetworkIsolation, NetworkIsolationArgs

__all__ = [
    "BackendReplicaSet",
    "Balancer",
    "DataTier",
    "Monitoring",
    "NetworkIsolation",
    "NetworkIsolationArgs",
    "Platform",
    "PlatformArgs",
]
