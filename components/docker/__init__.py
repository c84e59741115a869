"""The dev target: the whole topology as containers on the developer's local Docker."""

from components.docker.backend import BackendReplicaSet
from components.docker.balancer import Balancer
from components.docker.data_tier import DataTier
from components.docker.monitoring import Monitoring
from components.docker.platform import Platform, PlatformArgs

__all__ = [
    "BackendReplicaSet",
    "Balancer",
    "DataTier",
    "Monitoring",
    "Platform",
    "PlatformArgs",
]
