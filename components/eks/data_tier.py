"""Data tier for the prod target: PostgreSQL and Redis managed by AWS or in the cluster (`data.mode`), and
Qdrant from its Helm chart either way."""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.args import DataTierArgs
from components.config import DataConfig, QdrantConfig
from components.connection import DataConnection
from components.eks.cluster import Platform
from components.eks.in_cluster_stores import (
    LIVENESS_FAILURES,
    LIVENESS_PERIOD_SECONDS,
    PROBE_PERIOD_SECONDS,
    PROBE_TIMEOUT_SECONDS,
    STARTUP_SECONDS,
    StoreSpec,
    credential_file,
    stateful_store,
)
from components.eks.managed_stores import POSTGRES_PORT, REDIS_PORT, managed_postgres, managed_redis
from components.eks.network_policies import DataStores, Workload
from components.eks.pod_security import RunAs
from components.probes import postgres_ready_command

QDRANT_CHART_REPO = "https://qdrant.github.io/qdrant-helm"
QDRANT_CHART = "qdrant"
QDRANT_RELEASE = "qdrant"
QDRANT_PORT = 6333
QDRANT_GRPC_PORT = 6334
QDRANT_RUN_AS = RunAs(user=1000, group=1000)
"""The user of Qdrant's `-unprivileged` images (built with USER_ID=1000; the plain image runs as root)."""
POSTGRES_RUN_AS = RunAs(user=70, group=70)
"""`postgres` in the Alpine images (docker-library/postgres: `adduser -u 70 ... postgres`)."""
REDIS_RUN_AS = RunAs(user=999, group=1000)
"""`redis` in the Alpine images (`addgroup -g 1000 redis; adduser -G redis -u 999 redis`)."""
REDIS_IN_CLUSTER_STORAGE = "5Gi"
"""Redis keeps shared state and an append-only log, not bulk data."""
SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


class DataTier(pulumi.ComponentResource):
    """The shared state of every replica. Every store is protected: `pulumi destroy` or a replacement stops
    before it can drop data (and RDS and ElastiCache also keep a final snapshot)."""

    connection: DataConnection
    stores: DataStores
    """What the backend reaches in the data tier, for the network policies."""

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
            credentials |= {
                "postgres-password": postgres_password,
                "redis-password": redis_password,
                # Redis reads its password from a config file (an argument would show in the process list).
                "redis.conf": pulumi.Output.concat("requirepass ", redis_password, "\n"),
            }
        secret_name = self._credentials(credentials)
        qdrant_host, qdrant_pods = self._qdrant(settings, secret_name)
        if settings.mode == "managed":
            postgres_host = managed_postgres(f"{name}-postgres", self, platform, pg, postgres_password)
            redis_host = managed_redis(f"{name}-redis", self, platform, settings.redis, redis_password)
            postgres_options, redis_scheme = "?sslmode=require", "rediss"  # both services enforce TLS
            self.stores = DataStores(pods=[qdrant_pods], vpc_ports=[POSTGRES_PORT, REDIS_PORT])
        else:
            postgres_host, redis_host, store_pods = self._in_cluster_stores(settings, secret_name)
            postgres_options, redis_scheme = "", "redis"
            self.stores = DataStores(pods=[*store_pods, qdrant_pods], vpc_ports=[])

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
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], list[Workload]]:
        """PostgreSQL and Redis StatefulSets reading their passwords from `secret_name`; returns both hosts and
        both workloads. Each health check goes over TCP, as clients do: on a fresh volume the image first runs
        a server for its init scripts on the Unix socket only, and a socket check would pass then
        (docker-library/postgres#880)."""
        platform, pg = self._platform, settings.postgres
        stores = [
            StoreSpec(
                key="postgres",
                image=pg.image,
                port=POSTGRES_PORT,
                run_as=POSTGRES_RUN_AS,
                data_path="/var/lib/postgresql/data",
                storage=f"{pg.storage_gb}Gi",
                # The server's socket and lock file; temporary files of the entrypoint and psql.
                scratch={"run": "/var/run/postgresql", "tmp": "/tmp"},
                resources=pg.resources,
                credentials=["postgres-password"],
                env=[
                    k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=pg.user),
                    k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=pg.database),
                    # The image's entrypoint reads any POSTGRES_* variable from the file its `_FILE` twin names.
                    k8s.core.v1.EnvVarArgs(name="POSTGRES_PASSWORD_FILE", value=credential_file("postgres-password")),
                    # A fresh EBS volume holds lost+found, and initdb wants an empty directory.
                    k8s.core.v1.EnvVarArgs(name="PGDATA", value="/var/lib/postgresql/data/pgdata"),
                ],
                command=None,
                health_command=postgres_ready_command(pg.user, pg.database, POSTGRES_PORT),
            ),
            StoreSpec(
                key="redis",
                image=settings.redis.image,
                port=REDIS_PORT,
                run_as=REDIS_RUN_AS,
                data_path="/data",  # also the image's working directory, where Redis writes its files
                storage=REDIS_IN_CLUSTER_STORAGE,
                scratch={},
                resources=settings.redis.resources,
                credentials=["redis-password", "redis.conf"],
                env=[],
                command=["redis-server", credential_file("redis.conf"), "--appendonly", "yes"],
                health_command=[
                    "sh",
                    "-c",
                    f'REDISCLI_AUTH="$(cat {credential_file("redis-password")})" '
                    f"redis-cli -h 127.0.0.1 -p {REDIS_PORT} ping | grep -qx PONG",
                ],
            ),
        ]
        pods = [
            stateful_store(self._name, self, spec, platform.namespace, platform.storage_class, secret_name)
            for spec in stores
        ]
        return self._service_host("postgres"), self._service_host("redis"), pods

    def _qdrant(self, settings: DataConfig, secret_name: pulumi.Output[str]) -> tuple[pulumi.Output[str], Workload]:
        """Qdrant's chart: one pod (a Qdrant cluster only helps collections created with replicas), its storage
        and its snapshots on the retained gp3 class. The API key reaches Qdrant as an env var from `secret_name`,
        so it is in no Helm value (the release record and the preview stay readable). Returns the host and the
        workload."""
        qdrant = settings.qdrant
        release = k8s.helm.v3.Release(
            f"{self._name}-qdrant",
            k8s.helm.v3.ReleaseArgs(
                name=QDRANT_RELEASE,
                chart=QDRANT_CHART,
                version=qdrant.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=QDRANT_CHART_REPO),
                namespace=self._platform.namespace,
                values=_qdrant_values(qdrant, secret_name, self._platform.storage_class),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        # Exactly the chart's Service selector: the VPC CNI's policy controller admits traffic to a Service's
        # ClusterIP only for a peer whose podSelector matches that Service's selector.
        pods = Workload(
            name="qdrant",
            labels={
                "app": QDRANT_CHART,
                "app.kubernetes.io/name": QDRANT_CHART,
                "app.kubernetes.io/instance": QDRANT_RELEASE,
            },
            ports=[QDRANT_PORT, QDRANT_GRPC_PORT],
        )
        return self._service_host(cast(pulumi.Output[str], release.name)), pods  # the chart names its Service so


def _qdrant_values(
    qdrant: QdrantConfig, secret_name: pulumi.Output[str], storage_class: pulumi.Output[str]
) -> dict[str, object]:
    """The chart's values (chart 1.19.0's keys: tests/unit/eks/test_qdrant_chart.py checks them)."""
    repository, tag = qdrant.image.rsplit(":", 1)
    resources = {"cpu": qdrant.resources.cpu, "memory": qdrant.resources.memory}
    storage = {"size": f"{qdrant.storage_gb}Gi", "storageClassName": storage_class}
    return {
        "replicaCount": 1,
        # The docker target's Qdrant, in the variant built to run as its own unprivileged user: the
        # chart then also leaves out its root init container (a `chown` of the volumes).
        "image": {"repository": repository, "tag": tag, "useUnprivilegedImage": True},
        "env": [
            {
                "name": "QDRANT__SERVICE__API_KEY",
                "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "qdrant-api-key"}},
            }
        ],
        "resources": {"requests": resources, "limits": resources},
        "podSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": QDRANT_RUN_AS.user,
            "runAsGroup": QDRANT_RUN_AS.group,
            "fsGroup": QDRANT_RUN_AS.group,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": QDRANT_RUN_AS.user,
            "runAsGroup": QDRANT_RUN_AS.group,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # The chart probes `/` (open without the API key); readiness (`/readyz`) is on by default.
        "startupProbe": {
            "enabled": True,
            "periodSeconds": PROBE_PERIOD_SECONDS,
            "failureThreshold": STARTUP_SECONDS // PROBE_PERIOD_SECONDS,
        },
        "livenessProbe": {
            "enabled": True,
            "periodSeconds": LIVENESS_PERIOD_SECONDS,
            "timeoutSeconds": PROBE_TIMEOUT_SECONDS,
            "failureThreshold": LIVENESS_FAILURES,
        },
        # One pod: a drain may evict it (the volume follows it in its zone), but never two at once
        # if replicaCount grows. minAvailable 1 would block every node drain and scale-down.
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "persistence": storage,
        # Snapshots (POST /snapshots, see the README's backup steps) on a volume of their own, as the
        # chart recommends: one as large as the storage, so a full snapshot fits.
        "snapshotPersistence": {"enabled": True, **storage},
        # The namespace's network policies give Qdrant no way out anyway.
        "config": {"telemetry_disabled": True},
        # The chart has no `automountServiceAccountToken`. A container that already mounts the token's
        # path gets no token: the ServiceAccount admission plugin skips it (and adds no token volume).
        "additionalVolumes": [{"name": "no-api-token", "emptyDir": {"sizeLimit": "1Mi"}}],
        "additionalVolumeMounts": [
            {"name": "no-api-token", "mountPath": SERVICE_ACCOUNT_TOKEN_PATH, "readOnly": True}
        ],
    }
