"""Data tier for the dev target: PostgreSQL, Redis and Qdrant containers with protected named volumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.args import DataTierArgs
from components.connection import DataConnection
from components.docker.image import pulled_image
from components.docker.platform import Platform
from components.probes import postgres_ready_command


@dataclass(frozen=True)
class _Service:
    """One data container: what differs between PostgreSQL, Redis and Qdrant."""

    key: str
    image: str
    port: int
    data_path: str
    envs: Sequence[pulumi.Input[str]]
    command: Sequence[str] | None
    healthcheck: Sequence[str]


class DataTier(pulumi.ComponentResource):
    """The shared state of every replica. Volumes survive container replacement and `pulumi destroy`."""

    connection: DataConnection

    def __init__(self, name: str, args: DataTierArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:DataTier", name, None, opts)
        self._name, self._args = name, args
        settings = args.settings
        postgres_password = self._password("postgres-password")
        redis_password = self._password("redis-password")
        qdrant_api_key = self._password("qdrant-api-key")
        pg = settings.postgres

        postgres = self._container(
            _Service(
                key="postgres",
                image=pg.image,
                port=5432,
                data_path="/var/lib/postgresql/data",
                envs=[
                    f"POSTGRES_USER={pg.user}",
                    f"POSTGRES_DB={pg.database}",
                    pulumi.Output.concat("POSTGRES_PASSWORD=", postgres_password),
                ],
                command=None,
                healthcheck=["CMD", *postgres_ready_command(pg.user, pg.database)],
            )
        )
        redis = self._container(
            _Service(
                key="redis",
                image=settings.redis.image,
                port=6379,
                data_path="/data",
                envs=[pulumi.Output.concat("REDIS_PASSWORD=", redis_password)],
                # The password comes from the env so it never appears in the container's command line.
                command=["sh", "-c", 'exec redis-server --appendonly yes --requirepass "$REDIS_PASSWORD"'],
                healthcheck=["CMD-SHELL", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG'],
            )
        )
        qdrant = self._container(
            _Service(
                key="qdrant",
                image=settings.qdrant.image,
                port=6333,
                data_path="/qdrant/storage",
                envs=[pulumi.Output.concat("QDRANT__SERVICE__API_KEY=", qdrant_api_key)],
                command=None,
                # The Qdrant image has no curl or wget; bash can open a TCP connection by itself.
                healthcheck=["CMD-SHELL", "bash -c ':> /dev/tcp/127.0.0.1/6333'"],
            )
        )
        self.connection = DataConnection(
            database_url=pulumi.Output.secret(
                pulumi.Output.concat(f"postgresql://{pg.user}:", postgres_password, f"@postgres:5432/{pg.database}")
            ),
            redis_url=pulumi.Output.secret(pulumi.Output.concat("redis://:", redis_password, "@redis:6379/0")),
            qdrant_url=pulumi.Output.from_input("http://qdrant:6333"),
            qdrant_api_key=pulumi.Output.secret(qdrant_api_key),
            stores=[postgres, redis, qdrant],
        )
        self.register_outputs(
            {
                "database_url": self.connection.database_url,
                "redis_url": self.connection.redis_url,
                "qdrant_url": self.connection.qdrant_url,
            }
        )

    def _password(self, key: str) -> pulumi.Output[str]:
        """A generated credential; RandomPassword.result is a secret, so everything built from it is too."""
        password = random.RandomPassword(
            f"{self._name}-{key}",
            random.RandomPasswordArgs(length=32, special=False),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(password.result)  # explicit: mocks do not apply additional_secret_outputs

    def _container(self, service: _Service) -> docker.Container:
        # protect + retain_on_delete: neither `pulumi destroy` nor a replacement can drop the data.
        volume = docker.Volume(
            f"{self._name}-{service.key}-data",
            docker.VolumeArgs(name=f"{self._name}-{service.key}-data"),
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        ports = (
            [docker.ContainerPortArgs(internal=service.port, external=service.port, ip="127.0.0.1")]
            if self._args.settings.publish_ports
            else []
        )
        return docker.Container(
            f"{self._name}-{service.key}",
            docker.ContainerArgs(
                name=f"{self._name}-{service.key}",
                image=pulled_image(f"{self._name}-{service.key}-image", service.image, self),
                envs=list(service.envs),
                command=list(service.command) if service.command else None,
                networks_advanced=[
                    docker.ContainerNetworksAdvancedArgs(name=self._args.platform.network_name, aliases=[service.key])
                ],
                volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path=service.data_path)],
                ports=ports,
                healthcheck=docker.ContainerHealthcheckArgs(
                    tests=list(service.healthcheck), interval="5s", timeout="3s", retries=10, start_period="10s"
                ),
                restart="unless-stopped",
                wait=True,
                wait_timeout=120,
            ),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
