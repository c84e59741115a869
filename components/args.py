"""The Args every target's components take: one definition, so `__main__` wires either target the same way.

Only the platform differs between targets (docker: the private network; eks: the cluster, its VPC and
namespace), hence the type parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import pulumi

from components.config import BackendConfig, BalancerConfig, DataConfig, MonitoringConfig
from components.connection import DataConnection

PlatformT = TypeVar("PlatformT")


@dataclass
class BackendEndpoints:
    """Where the replicas answer, as the balancer and monitoring address them."""

    names: pulumi.Input[Sequence[str]]
    """docker: the replicas' DNS names, in order (weights apply in this order); eks: the one Service."""
    port: int
    """The port every replica (or the Service) listens on."""
    members: Sequence[pulumi.Resource] = ()
    """What must exist before traffic goes to `names`: an explicit dependency, never a property one, so a
    replica replaced before it is created again (delete-before-replace) never takes its balancer with it."""


@dataclass
class DataTierArgs(Generic[PlatformT]):
    """What the data tier is built from."""

    platform: PlatformT
    """Where the stores run and who may reach them."""
    settings: DataConfig
    """Images (docker), managed or in-cluster with versions and sizes (eks), port publishing (docker)."""


@dataclass
class BackendReplicaSetArgs(Generic[PlatformT]):
    """What the replicas are built from."""

    platform: PlatformT
    """Where the replicas run."""
    settings: BackendConfig
    """Replica count (docker) or autoscaling bounds (eks), image, port, resources."""
    data: DataConnection
    """Where the shared PostgreSQL, Redis and Qdrant are."""


@dataclass
class BalancerArgs(Generic[PlatformT]):
    """What the balancer is built from."""

    platform: PlatformT
    """Where the balancer runs."""
    settings: BalancerConfig
    """Algorithm, weights, WebSocket affinity, passive health checks, timeouts, keepalive, port."""
    backend: BackendEndpoints
    """The replicas it routes to."""


@dataclass
class MonitoringArgs(Generic[PlatformT]):
    """What monitoring is built from."""

    platform: PlatformT
    """Where Prometheus runs."""
    settings: MonitoringConfig
    """Images, ports, scrape interval, retention and alert thresholds."""
    backend: BackendEndpoints
    """The replicas to scrape (docker lists them; eks discovers the pods by label)."""
    balancer: BalancerConfig
    """The balancer whose nginx metrics are scraped (docker: its port on the private network)."""
