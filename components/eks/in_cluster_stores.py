"""The in-cluster half of the prod data tier (data.mode `in_cluster`): PostgreSQL and Redis each as a one-pod
StatefulSet with its own volume. Cheaper than the managed services, but a single instance: a node loss means
downtime until the pod is rescheduled (its volume follows it within the zone)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import Resources
from components.eks.network_policies import Workload
from components.eks.pod_security import (
    RunAs,
    container_security_context,
    pod_security_context,
    scratch_volumes,
)

PROBE_PERIOD_SECONDS = 5
PROBE_TIMEOUT_SECONDS = 5
"""Above the health commands' own connect timeouts, so a probe reports their answer rather than killing them."""
STARTUP_SECONDS = 300
"""How long a store may take to answer after it starts: initdb and the init scripts on a fresh volume, crash
recovery, or loading Redis's append-only file. Readiness and liveness only begin once it answers, so a slow
first start is never killed half-way (a half-initialized PostgreSQL volume would not be initialized again)."""
LIVENESS_PERIOD_SECONDS = 10
LIVENESS_FAILURES = 6
"""A minute without an answer before a restart: a long checkpoint or fsync must not cost a restart."""
READINESS_FAILURES = 3
CREDENTIALS_DIR = "/run/secrets/brain"
"""Where a store reads its credentials: files from the data tier's Secret, never env vars or arguments."""
STOP_SECONDS = 60
"""Between the stop signal and SIGKILL. PostgreSQL's image stops with SIGINT (fast shutdown: a shutdown
checkpoint writes every dirty buffer) and Redis saves on SIGTERM; its image notes that runtimes' 10 s default is
often too short. Cut short, the next start runs crash recovery."""


@dataclass(frozen=True)
class StoreSpec:
    """What differs between the stores."""

    key: str
    """The StatefulSet's and the Service's name (and so the store's DNS name in the namespace)."""
    image: str
    port: int
    run_as: RunAs
    """The image's unprivileged user: the pod starts as it, so the entrypoint never needs root."""
    data_path: str
    storage: str
    """The volume's size, as a Kubernetes quantity."""
    scratch: Mapping[str, str]
    """Directories the store writes besides its data (volume name -> path): emptyDirs on a read-only root."""
    resources: Resources
    credentials: Sequence[str]
    """Keys of the data tier's Secret the store reads, as files `CREDENTIALS_DIR/<key>`."""
    env: Sequence[k8s.core.v1.EnvVarArgs]
    command: Sequence[str] | None
    health_command: Sequence[str]
    """An exec check that passes once the store answers clients; startup, readiness and liveness all run it."""


def credential_file(key: str) -> str:
    """The path a store reads the Secret's `key` from."""
    return f"{CREDENTIALS_DIR}/{key}"


def _probe(command: Sequence[str], period: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=list(command)),
        period_seconds=period,
        timeout_seconds=PROBE_TIMEOUT_SECONDS,
        failure_threshold=failures,
    )


def stateful_store(
    name: str,
    parent: pulumi.Resource,
    spec: StoreSpec,
    namespace: pulumi.Input[str],
    storage_class: pulumi.Input[str],
    secret_name: pulumi.Input[str],
) -> Workload:
    """A headless Service and a one-pod StatefulSet whose claim survives the StatefulSet (retention `Retain`,
    and the StorageClass retains the volume too). `protect`: a replacement would start on an empty volume.
    Returns its pods and port, for the network policies."""
    labels = {"app.kubernetes.io/name": spec.key, "app.kubernetes.io/part-of": "brain"}
    k8s.core.v1.Service(
        f"{name}-{spec.key}-service",
        k8s.core.v1.ServiceInitArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spec.key, namespace=namespace, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name=spec.key, port=spec.port, target_port=spec.port)],
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    scratch, scratch_mounts = scratch_volumes(spec.scratch)
    # Readable by the store's group only (the pod's fsGroup): secret files, not env vars, which a process
    # hands to its children and a crash report may print.
    credentials = k8s.core.v1.VolumeArgs(
        name="credentials",
        secret=k8s.core.v1.SecretVolumeSourceArgs(
            secret_name=secret_name,
            items=[k8s.core.v1.KeyToPathArgs(key=key, path=key) for key in spec.credentials],
            default_mode=0o440,
        ),
    )
    resources = {"cpu": spec.resources.cpu, "memory": spec.resources.memory}
    k8s.apps.v1.StatefulSet(
        f"{name}-{spec.key}",
        k8s.apps.v1.StatefulSetInitArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spec.key, namespace=namespace, labels=labels),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=spec.key,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,  # a store never talks to the Kubernetes API
                        security_context=pod_security_context(spec.run_as),
                        termination_grace_period_seconds=STOP_SECONDS,
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name=spec.key,
                                image=spec.image,
                                command=list(spec.command) if spec.command else None,
                                env=list(spec.env) or None,
                                ports=[k8s.core.v1.ContainerPortArgs(name=spec.key, container_port=spec.port)],
                                startup_probe=_probe(
                                    spec.health_command, PROBE_PERIOD_SECONDS, STARTUP_SECONDS // PROBE_PERIOD_SECONDS
                                ),
                                readiness_probe=_probe(spec.health_command, PROBE_PERIOD_SECONDS, READINESS_FAILURES),
                                liveness_probe=_probe(spec.health_command, LIVENESS_PERIOD_SECONDS, LIVENESS_FAILURES),
                                # Equal requests and limits (Guaranteed QoS): the last pods a node evicts.
                                resources=k8s.core.v1.ResourceRequirementsArgs(requests=resources, limits=resources),
                                security_context=container_security_context(),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="data", mount_path=spec.data_path),
                                    k8s.core.v1.VolumeMountArgs(
                                        name="credentials", mount_path=CREDENTIALS_DIR, read_only=True
                                    ),
                                    *scratch_mounts,
                                ],
                            )
                        ],
                        volumes=[credentials, *scratch],
                    ),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="data"),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=storage_class,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": spec.storage}),
                        ),
                    )
                ],
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=True),
    )
    return Workload(name=spec.key, labels=labels, ports=[spec.port])
