"""Platform for the dev target: the private Docker network every container joins."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.config import NetworkConfig

COMMAND_INTERPRETER = ["/bin/sh", "-c"]
"""What runs the reload and rejoin commands (POSIX shell scripts). pulumi-command's default interpreter is
`/bin/sh -c` on Linux and macOS but `cmd /C` on Windows, where these scripts would fail: Windows users run
`make up` inside WSL2 (README), and the interpreter is fixed here so no platform picks another. A command runs
with the environment of `pulumi` itself plus its own `environment` (pulumi-command's local provider starts from
os.Environ()), so the DOCKER_HOST that `make up` exports sends its `docker exec` to the daemon the Docker
provider uses; no `environment` is set, as a daemon address in it would be recorded in the state."""


@dataclass
class PlatformArgs:
    """What the dev platform is built from."""

    settings: NetworkConfig
    """The network's subnet."""


class Platform(pulumi.ComponentResource):
    """A user-defined bridge network: containers find each other by name through Docker's DNS (127.0.0.11)."""

    network_name: pulumi.Output[str]
    subnet: str
    """The network's addresses, chosen here rather than by Docker so the balancer's allow list is known at
    preview: a host caller reaches a published port from the network's gateway (inside it), a LAN caller
    from its own address (outside it)."""
    balancer_name: str
    """The nginx container's name: the balancer creates it, the replicas ask it to forget their failures."""
    balancer_conf: str = "/etc/nginx/nginx.conf"
    """Where the nginx image reads its config."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:Platform", name, None, opts)
        self.balancer_name = f"{name}-nginx"
        self.subnet = args.settings.subnet
        network = docker.Network(
            f"{name}-network",
            docker.NetworkArgs(
                name=f"{name}-network",
                driver="bridge",
                # The provider creates the network with this IPAM pool (Docker picks the gateway, the first
                # address); every ipam_config field forces a new network, as Docker cannot change a subnet.
                ipam_configs=[docker.NetworkIpamConfigArgs(subnet=self.subnet)],
            ),
            # The fixed name forbids create-before-delete (Docker refuses a second network of the same name). A
            # new subnet deletes the containers first: they take the name from this resource, and a changed
            # network forces a new container.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.network_name = network.name
        self.register_outputs({"network_name": self.network_name})
