"""Data tier for the prod target: PostgreSQL and Redis managed by AWS or in the cluster (`data.mode`), and
Qdrant from its Helm chart either way."""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.args import DataTierArgs
from components.config import DataConfig
from components.connection import DataConnection
from components.eks.cluster import Platform
from components.eks.in_cluster_stores import StoreSpec, secret_env, stateful_store
from components.eks.managed_stores import POSTGRES_PORT, REDIS_PORT, managed_postgres, managed_redis

QDRANT_CHART_REPO = "https://qdrant.github.io/qdrant-helm"
QDRANT_PORT = 6333
REDIS_IN_CLUSTER_STORAGE = "5Gi"
"""Redis keeps shared state and an append-only log, not bulk data."""


class DataTier(pulumi.ComponentResource):
    """The shared state of every replica. Every store is protected: `pulumi destroy` or a replacement stops
    before it can drop data (and RDS and ElastiCache also keep a final snapshot)."""

    connection: DataConnection

    def __init__(self, name: str, args: DataTierArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        platform, settings = args.platform, args.settings
        super().__init__(
            "brain:eks:DataTier",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=platform.providers)),
        )
        self._name, self._platform = name, platform
        postgres_password = self._password("postgres-password")
        redis_password = self._password("redis-password")
        qdrant_api_key = self._password("qdrant-api-key")
        pg = settings.postgres

        # What the data tier's own pods read (never a pod spec or a Helm value): Qdrant's key, and the in-cluster
        # stores' passwords. Managed stores take theirs from the AWS API, so those stay out of the cluster.
        credentials = {"qdrant-api-key": qdrant_api_key}
        if settings.mode == "in_cluster":
            credentials |= {"postgres-password": postgres_password, "redis-password": redis_password}
        secret_name = self._credentials(credentials)
        if settings.mode == "managed":
            postgres_host = managed_postgres(f"{name}-postgres", self, platform, pg, postgres_password)
            redis_host = managed_redis(f"{name}-redis", self, platform, settings.redis, redis_password)
            postgres_options, redis_scheme = "?sslmode=require", "rediss"  # both services enforce TLS
        else:
            postgres_host, redis_host = self._in_cluster_stores(settings, secret_name)
            postgres_options, redis_scheme = "", "redis"
        qdrant_host = self._qdrant(settings, secret_name)

        self.connection = DataConnection(
            database_url=pulumi.Output.secret(
                pulumi.Output.concat(
                    f"postgresql://{pg.user}:",
                    postgres_password,
                    "@",
                    postgres_host,
                    f":{POSTGRES_PORT}/{pg.database}{postgres_options}",
                )
            ),
            redis_url=pulumi.Output.secret(
                pulumi.Output.concat(f"{redis_scheme}://:", redis_password, "@", redis_host, f":{REDIS_PORT}/0")
            ),
            qdrant_url=pulumi.Output.concat("http://", qdrant_host, f":{QDRANT_PORT}"),
            qdrant_api_key=qdrant_api_key,
        )
        self.register_outputs(
            {
                "database_url": self.connection.database_url,
                "redis_url": self.connection.redis_url,
                "qdrant_url": self.connection.qdrant_url,
            }
        )

    def _password(self, key: str) -> pulumi.Output[str]:
        """A generated credential (letters and digits: valid in a URL, for RDS and as an ElastiCache token).
        Marked secret explicitly: the provider marks `result` secret, but mocks and previews do not."""
        password = random.RandomPassword(
            f"{self._name}-{key}",
            random.RandomPasswordArgs(length=32, special=False),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(password.result)

    def _service_host(self, service: pulumi.Input[str]) -> pulumi.Output[str]:
        """A Service's DNS name, valid from any namespace."""
        return pulumi.Output.concat(service, ".", self._platform.namespace, ".svc.cluster.local")

    def _credentials(self, values: dict[str, pulumi.Output[str]]) -> pulumi.Output[str]:
        """A Secret with `values`; returns its name."""
        secret = k8s.core.v1.Secret(
            f"{self._name}-data-credentials",
            k8s.core.v1.SecretInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{self._name}-data-credentials", namespace=self._platform.namespace
                ),
                string_data=pulumi.Output.secret(values),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return cast(pulumi.Output[str], secret.metadata.name)

    def _in_cluster_stores(
        self, settings: DataConfig, secret_name: pulumi.Output[str]
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """PostgreSQL and Redis StatefulSets reading their passwords from `secret_name`; returns both hosts."""
        platform, pg = self._platform, settings.postgres
        stores = [
            StoreSpec(
                key="postgres",
                image=pg.image,
                port=POSTGRES_PORT,
                data_path="/var/lib/postgresql/data",
                storage=f"{pg.storage_gb}Gi",
                env=[
                    k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=pg.user),
                    k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=pg.database),
                    secret_env("POSTGRES_PASSWORD", secret_name, "postgres-password"),
                    # A fresh EBS volume holds lost+found, and initdb wants an empty directory.
                    k8s.core.v1.EnvVarArgs(name="PGDATA", value="/var/lib/postgresql/data/pgdata"),
                ],
                command=None,
                ready_command=["pg_isready", "-U", pg.user, "-d", pg.database],
            ),
            StoreSpec(
                key="redis",
                image=settings.redis.image,
                port=REDIS_PORT,
                data_path="/data",
                storage=REDIS_IN_CLUSTER_STORAGE,
                env=[secret_env("REDIS_PASSWORD", secret_name, "redis-password")],
                # The password comes from the env, so it is in no pod spec.
                command=["sh", "-c", 'exec redis-server --appendonly yes --requirepass "$REDIS_PASSWORD"'],
                ready_command=["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG'],
            ),
        ]
        for spec in stores:
            stateful_store(self._name, self, spec, platform.namespace, platform.storage_class)
        return self._service_host("postgres"), self._service_host("redis")

    def _qdrant(self, settings: DataConfig, secret_name: pulumi.Output[str]) -> pulumi.Output[str]:
        """Qdrant's chart: one pod (a Qdrant cluster only helps collections created with replicas), its
        storage on the retained gp3 class. The API key reaches Qdrant as an env var from `secret_name`, so it is
        in no Helm value (the release record and the preview stay readable).
        The chart has no backups: take Qdrant snapshots, or use Qdrant Cloud for that. Returns the host."""
        release = k8s.helm.v3.Release(
            f"{self._name}-qdrant",
            k8s.helm.v3.ReleaseArgs(
                name="qdrant",
                chart="qdrant",
                version=settings.qdrant.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=QDRANT_CHART_REPO),
                namespace=self._platform.namespace,
                values={
                    "replicaCount": 1,
                    "env": [
                        {
                            "name": "QDRANT__SERVICE__API_KEY",
                            "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "qdrant-api-key"}},
                        }
                    ],
                    "persistence": {
                        "size": f"{settings.qdrant.storage_gb}Gi",
                        "storageClassName": self._platform.storage_class,
                    },
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        return self._service_host(cast(pulumi.Output[str], release.name))  # the chart names its Service so
