"""Balancer for the dev target: an nginx container on port 8000 running our rendered nginx.conf."""

from __future__ import annotations

import shlex

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from components.args import BalancerArgs
from components.docker.image import pulled_image
from components.docker.platform import COMMAND_INTERPRETER, Platform
from components.nginx_settings import nginx_settings
from nginx_conf import NginxRuntime, UpstreamServer, reload_script, render_nginx_conf

DOCKER_DNS = "127.0.0.11"
"""Docker's embedded DNS: nginx re-resolves replica names through it, so a replaced replica's new IP is found."""

HEALTH_PORT = 8099
"""The health check's loopback-only listener inside the container (`NginxRuntime.health_port`): fixed, so a
container replaced for a new `balancer.port` is healthy while it still runs its previous nginx.conf, until
the reload (triggered by the new container) loads the current one."""

OPEN_FILES = 65536
"""The container's descriptor limit: thousands of WebSockets need many (each proxied one takes two). The
rendering is told, so worker_rlimit_nofile never asks for more than the container grants."""


class Balancer(pulumi.ComponentResource):
    """nginx in front of the replicas. The container starts with the rendered nginx.conf; a later change
    (scaling, a new algorithm) is checked by nginx and reloaded in place, never a restart, and shows in
    `pulumi preview --diff` as the reload command's input."""

    nginx_conf: pulumi.Output[str]
    url: pulumi.Output[str]
    status_url: pulumi.Output[str]

    def __init__(self, name: str, args: BalancerArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:Balancer", name, None, opts)
        settings = args.settings
        runtime = NginxRuntime(
            version=settings.nginx_version,
            resolver=DOCKER_DNS,
            health_port=HEALTH_PORT,
            max_open_files=OPEN_FILES,
            internal_networks=(args.platform.subnet,),
        )
        self.nginx_conf = pulumi.Output.from_input(args.backend.names).apply(
            lambda names: render_nginx_conf(
                nginx_settings(settings), [UpstreamServer(host=host, port=args.backend.port) for host in names], runtime
            )
        )
        container_name = args.platform.balancer_name
        container = docker.Container(
            f"{name}-nginx",
            docker.ContainerArgs(
                name=container_name,
                image=pulled_image(f"{name}-nginx-image", settings.image, self),
                uploads=[docker.ContainerUploadArgs(file=args.platform.balancer_conf, content=self.nginx_conf)],
                ports=[
                    docker.ContainerPortArgs(internal=settings.port, external=settings.port, ip=settings.bind_address)
                ],
                networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.platform.network_name)],
                ulimits=[docker.ContainerUlimitArgs(name="nofile", soft=OPEN_FILES, hard=OPEN_FILES)],
                healthcheck=docker.ContainerHealthcheckArgs(
                    tests=["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{HEALTH_PORT}/nginx_status"],
                    interval="5s",
                    timeout="3s",
                    retries=3,
                ),
                restart="unless-stopped",
                wait=True,
                wait_timeout=60,
            ),
            # The upload seeds a new container; changes reach the running one through the reload below.
            opts=pulumi.ResourceOptions(
                parent=self,
                delete_before_replace=True,
                ignore_changes=["uploads"],
                depends_on=list(args.backend.members),
            ),
        )
        reload = shlex.join(["docker", "exec", "-i", container_name, "sh", "-c", reload_script(args.platform.balancer_conf)])
        command.local.Command(
            f"{name}-nginx-reload",
            command.local.CommandArgs(
                create=reload,
                update=reload,
                interpreter=COMMAND_INTERPRETER,
                stdin=self.nginx_conf,
                # A new container (say, a new nginx image) starts from the upload as last recorded: load the
                # current config into it too.
                triggers=[container.id],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        host = "localhost" if settings.bind_address in ("127.0.0.1", "0.0.0.0") else settings.bind_address
        self.url = pulumi.Output.from_input(f"http://{host}:{settings.port}")
        self.status_url = pulumi.Output.from_input(f"http://{host}:{settings.port}/nginx_status")
        self.register_outputs({"url": self.url, "status_url": self.status_url, "nginx_conf": self.nginx_conf})
