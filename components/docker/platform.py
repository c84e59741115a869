"""Platform for the dev target: the private Docker network every container joins."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker


class Platform(pulumi.ComponentResource):
    """A user-defined bridge network: containers find each other by name through Docker's DNS (127.0.0.11)."""

    network_name: pulumi.Output[str]
    balancer_name: str
    """The nginx container's name: the balancer creates it, the replicas ask it to forget their failures."""
    balancer_conf: str = "/etc/nginx/nginx.conf"
    """Where the nginx image reads its config."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:Platform", name, None, opts)
        self.balancer_name = f"{name}-nginx"
        network = docker.Network(
            f"{name}-network",
            docker.NetworkArgs(name=f"{name}-network", driver="bridge"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.network_name = network.name
        self.register_outputs({"network_name": self.network_name})
