"""The in-cluster half of the prod data tier (data.mode `in_cluster`): PostgreSQL and Redis each as a one-pod
StatefulSet with its own volume. Cheaper than the managed services, but a single instance: a node loss means
downtime until the pod is rescheduled (its volume follows it within the zone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class StoreSpec:
    """What differs between the stores."""

    key: str
    """The StatefulSet's and the Service's name (and so the store's DNS name in the namespace)."""
    image: str
    port: int
    data_path: str
    storage: str
    """The volume's size, as a Kubernetes quantity."""
    env: Sequence[k8s.core.v1.EnvVarArgs]
    command: Sequence[str] | None
    ready_command: Sequence[str]
    """An exec readiness check: the pod gets traffic only once the store answers."""


def secret_env(name: str, secret_name: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    """An env var read from a Secret, so the value never appears in the pod spec."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret_name, key=key)
        ),
    )


def stateful_store(
    name: str,
    parent: pulumi.Resource,
    spec: StoreSpec,
    namespace: pulumi.Input[str],
    storage_class: pulumi.Input[str],
) -> None:
    """A headless Service and a one-pod StatefulSet whose claim survives the StatefulSet (retention `Retain`,
    and the StorageClass retains the volume too). `protect`: a replacement would start on an empty volume."""
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
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name=spec.key,
                                image=spec.image,
                                command=list(spec.command) if spec.command else None,
                                env=list(spec.env),
                                ports=[k8s.core.v1.ContainerPortArgs(name=spec.key, container_port=spec.port)],
                                readiness_probe=k8s.core.v1.ProbeArgs(
                                    exec_=k8s.core.v1.ExecActionArgs(command=list(spec.ready_command)),
                                    period_seconds=5,
                                    failure_threshold=3,
                                ),
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path=spec.data_path)],
                            )
                        ],
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
