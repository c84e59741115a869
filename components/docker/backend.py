"""Backend replicas for the dev target: containers backend-1..N, replaced one at a time."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Sequence
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_docker_build as docker_build

from components.args import BackendReplicaSetArgs, BackendEndpoints
from components.config import BackendConfig
from components.docker.image import pulled_image
from components.docker.platform import COMMAND_INTERPRETER, Platform
from nginx_conf import reset_failures_script

BUILT_IMAGE = "brain-backend"
"""The local repository the reference backend is built into."""
BACKEND_CONTEXT = "backend"
"""The reference backend's build context, relative to the project root (Pulumi runs the program there)."""


class BackendReplicaSet(pulumi.ComponentResource):
    """N identical replicas. Each depends on the one before it, so an image change replaces them in
    order, each one healthy (`wait`) before the next goes down: never all at once."""

    endpoints: BackendEndpoints

    def __init__(self, name: str, args: BackendReplicaSetArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:BackendReplicaSet", name, None, opts)
        settings = args.settings
        image_id = self._image(name, settings)
        # Names known before anything exists: the balancer addresses replicas by name, never by a replica's
        # outputs, so replacing a replica leaves the balancer alone.
        instances = [f"backend-{number}" for number in range(1, settings.replicas + 1)]
        containers: list[docker.Container] = []
        previous: list[pulumi.Resource] = list(args.data.stores)  # the first waits for the data tier
        for number, instance in enumerate(instances, start=1):
            container = self._replica(name, instance, number, image_id, args, after=previous)
            containers.append(container)
            previous = [container, self._rejoin(name, instance, container, args.platform)]
        self.endpoints = BackendEndpoints(names=instances, port=settings.port, members=containers)
        self.register_outputs({"names": self.endpoints.names})

    def _replica(
        self,
        name: str,
        instance: str,
        number: int,
        image_id: pulumi.Input[str],
        args: BackendReplicaSetArgs[Platform],
        after: Sequence[pulumi.Resource],
    ) -> docker.Container:
        """One replica; created (or replaced) only once everything in `after` is done."""
        settings = args.settings
        return docker.Container(
            f"{name}-{instance}",
            docker.ContainerArgs(
                    name=instance,
                    image=image_id,
                    envs=[
                        f"INSTANCE_ID={instance}",
                        f"INSTANCE_NUMBER={number}",
                        f"PORT={settings.port}",
                        pulumi.Output.concat("DATABASE_URL=", args.data.database_url),
                        pulumi.Output.concat("REDIS_URL=", args.data.redis_url),
                        pulumi.Output.concat("QDRANT_URL=", args.data.qdrant_url),
                        pulumi.Output.concat("QDRANT_API_KEY=", args.data.qdrant_api_key),
                    ],
                    networks_advanced=[
                        docker.ContainerNetworksAdvancedArgs(name=args.platform.network_name, aliases=[instance])
                    ],
                    healthcheck=docker.ContainerHealthcheckArgs(
                        tests=[
                            "CMD",
                            "python",
                            "-c",
                            "import urllib.request; "
                            f"urllib.request.urlopen('http://127.0.0.1:{settings.port}/health/ready', timeout=2)",
                        ],
                        interval="5s",
                        timeout="3s",
                        retries=3,
                        start_period="10s",
                    ),
                    cpus=str(settings.resources.cpu_cores),
                    memory=settings.resources.memory_mb,
                    # SIGTERM starts the backend's drain; give in-flight requests time before SIGKILL.
                    stop_signal="SIGTERM",
                    destroy_grace_seconds=30,
                    restart="unless-stopped",
                    wait=True,
                    wait_timeout=120,
                ),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The fixed name (the balancer's upstream address) forbids create-before-delete.
                delete_before_replace=True,
                depends_on=list(after),
            ),
        )

    def _rejoin(self, name: str, instance: str, container: docker.Container, platform: Platform) -> command.local.Command:
        """Once a new replica is healthy, nginx forgets the failures it counted while the old one went away,
        so the replica takes traffic before the next one goes down. The first `pulumi up` creates the
        replicas before the balancer: then there is nothing to tell."""
        balancer, script = platform.balancer_name, reset_failures_script(platform.balancer_conf)
        rejoin = (
            f"if docker container inspect {balancer} >/dev/null 2>&1; "
            f"then docker exec {balancer} sh -c {shlex.quote(script)}; fi"
        )
        return command.local.Command(
            f"{name}-{instance}-rejoin",
            command.local.CommandArgs(create=rejoin, interpreter=COMMAND_INTERPRETER, triggers=[container.id]),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _image(self, name: str, settings: BackendConfig) -> pulumi.Input[str]:
        """The configured image, or the reference backend built from ./backend, rebuilt when its files change.

        Built with BuildKit through pulumi-docker-build, not `RemoteImage(build=...)`: that build cannot find
        the image it made on Docker's containerd image store, the default of Docker Engine 29 and Docker
        Desktop (kreuzwerker/terraform-provider-docker #534/#660). What the real provider does with each input:
        `context`/`dockerfile` are sent to the daemon's BuildKit (DOCKER_HOST, as `make up` resolves it); the
        daemon's build cache serves unchanged layers; `load=True` loads the result into the daemon's image
        store (the "docker" exporter) and `push=False` sends it nowhere; `tags` names it there. The tag
        carries the source digest, so an edit makes a new tag, which replaces the replicas one at a time.
        Left at their defaults on purpose: `platforms` (the daemon's own, what its containers run; a fixed
        one would mean emulation on the other architecture); `cache_to`/`cache_from` (the daemon's default
        `docker` build driver refuses cache export on the classic image store, and keeps its own layer cache
        on either); `build_on_preview` (true: `pulumi preview` builds without exporting, so a broken
        Dockerfile fails the preview, not the `up`). The provider re-builds only when its context hash (the
        Dockerfile and the files it copies) or an input changes: a second `up` with no edit changes nothing.
        """
        if settings.image:
            return pulled_image(f"{name}-image", settings.image, self)
        tag = f"{BUILT_IMAGE}:dev-{_source_digest(Path(BACKEND_CONTEXT))[:12]}"
        built = docker_build.Image(
            f"{name}-image",
            docker_build.ImageArgs(
                context=docker_build.BuildContextArgs(location=BACKEND_CONTEXT),
                dockerfile=docker_build.DockerfileArgs(location=f"{BACKEND_CONTEXT}/Dockerfile"),
                tags=[tag],
                load=True,
                push=False,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The tag as the build reports it: the replicas wait for the build and name exactly what it loaded.
        return built.tags.apply(lambda tags: (tags or [tag])[0])


def _source_digest(context: Path) -> str:
    """A digest of the build context, so an edit to the backend's code rebuilds and rolls the replicas."""
    digest = hashlib.sha256()
    for path in sorted(context.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(context).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
