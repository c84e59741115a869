"""BRAiN Core behind an nginx balancer: config -> platform -> data tier -> replicas -> balancer -> outputs."""

from typing import Any

import pulumi

from components.args import BackendReplicaSetArgs, BalancerArgs, DataTierArgs, MonitoringArgs
from components.config import load_stack_config

config = load_stack_config()  # fails here, before any resource, when the stack config is invalid

# Either package: the same components and outputs from the same Args; only the platform type differs,
# which a checker cannot follow across the branch (the mock tests check the wiring of both).
target: Any
if config.target == "docker":
    from components import docker as target

    platform = target.Platform("brain", target.PlatformArgs(settings=config.network))
else:
    from components import eks as target

    platform = target.Platform("brain", target.PlatformArgs(settings=config.cluster))

data = target.DataTier("brain", DataTierArgs(platform=platform, settings=config.data))
backend = target.BackendReplicaSet(
    "brain", BackendReplicaSetArgs(platform=platform, settings=config.backend, data=data.connection)
)
balancer = target.Balancer(
    "brain", BalancerArgs(platform=platform, settings=config.balancer, backend=backend.endpoints)
)
if config.monitoring.enabled:
    monitoring = target.Monitoring(
        "brain",
        MonitoringArgs(
            platform=platform, settings=config.monitoring, backend=backend.endpoints, balancer=config.balancer
        ),
    )
    pulumi.export("prometheus_url", monitoring.url)
    pulumi.export("grafana_url", monitoring.grafana_url)
    pulumi.export("grafana_admin_password", monitoring.grafana_admin_password)
if config.target == "eks":
    # Only the traffic the topology needs, in the app namespace (on docker, the private network does this).
    target.NetworkIsolation(
        "brain",
        target.NetworkIsolationArgs(
            platform=platform,
            backend=backend.pods,
            stores=data.stores,
            monitoring=config.monitoring.enabled,
            certificates=config.balancer.tls.enabled,
        ),
    )

pulumi.export("balancer_url", balancer.url)
# http -> ws, https -> wss: the WebSocket route behind the same listener.
pulumi.export("websocket_url", pulumi.Output.from_input(balancer.url).apply(lambda url: f"ws{url.removeprefix('http')}/ws/"))
pulumi.export("nginx_status_url", balancer.status_url)
pulumi.export("backend_names", backend.endpoints.names)
pulumi.export("database_url", data.connection.database_url)
pulumi.export("redis_url", data.connection.redis_url)
pulumi.export("qdrant_url", data.connection.qdrant_url)
pulumi.export("qdrant_api_key", data.connection.qdrant_api_key)
