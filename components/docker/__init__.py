"""The dev target: the whole topology as containers on the developer's local Docker."""

from components.docker.backend import BackendReplicaSet, BackendReplicaSetArgs
from components.docker.balancer import Balancer, BalancerArgs
from components.docker.data_tier import DataTier, DataTierArgs
from components.docker.monitoring import Monitoring, MonitoringArgs
from components.docker.platform import Platform

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
]
