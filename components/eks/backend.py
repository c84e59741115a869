"""Backend replicas for the prod target: a Deployment whose replica count the HPA owns, behind one Service."""

from __future__ import annotations

import hashlib
import json
from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from components.args import BackendReplicaSetArgs, BackendEndpoints
from components.config import BackendConfig
from components.eks.cluster import Platform
from components.eks.network_policies import Workload
from components.eks.pod_security import RunAs, container_security_context, pod_security_context, scratch_volumes

DRAIN_SECONDS = 10
"""preStop pause: the ingress controller sees the pod leave the endpoints and stops sending to it."""
SHUTDOWN_SECONDS = 30
"""After SIGTERM the backend turns unready and finishes in-flight requests within this time."""
RUN_AS = RunAs(user=10001, group=10001)
"""The reference image's user (backend/Dockerfile `USER 10001`); set explicitly so any image runs unprivileged."""
SCRATCH = {"tmp": "/tmp"}
"""Python's temporary files; everything else the backend keeps is in the data tier."""


class BackendReplicaSet(pulumi.ComponentResource):
    """Replicas that scale between the autoscaling bounds and roll one at a time, each ready before the next
    old one stops. `endpoints` names the one Service the balancer routes to (Kubernetes tracks the pods behind it)."""

    endpoints: BackendEndpoints
    pods: Workload
    """The replicas' pods and port, for the network policies."""

    def __init__(self, name: str, args: BackendReplicaSetArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            "brain:eks:BackendReplicaSet",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=args.platform.providers)),
        )
        settings = args.settings
        app = f"{name}-backend"
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "brain"}
        namespace = args.platform.namespace
        child = pulumi.ResourceOptions(parent=self)

        def metadata(object_name: str = app) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace, labels=labels)

        env_values = pulumi.Output.secret(
            {
                "DATABASE_URL": args.data.database_url,
                "REDIS_URL": args.data.redis_url,
                "QDRANT_URL": args.data.qdrant_url,
                "QDRANT_API_KEY": args.data.qdrant_api_key,
            }
        )
        env = k8s.core.v1.Secret(
            f"{name}-backend-env",
            k8s.core.v1.SecretInitArgs(metadata=metadata(f"{app}-env"), string_data=env_values),
            opts=child,
        )
        # Pods read the Secret only when they start: its digest in the pod template rolls them when a URL
        # changes (a new data mode, host or password). A SHA-256 of 32-character random passwords reveals
        # nothing, so the digest is not a secret and the pod template stays readable in previews.
        env_digest = pulumi.Output.unsecret(
            env_values.apply(lambda values: hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest())
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-backend",
            k8s.apps.v1.DeploymentInitArgs(
                metadata=metadata(),
                # No `replicas`: the HPA owns the count, and a fixed value here would reset it on every `up`.
                spec=k8s.apps.v1.DeploymentSpecArgs(
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                    strategy=k8s.apps.v1.DeploymentStrategyArgs(
                        type="RollingUpdate",
                        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                    ),
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(
                            labels=labels,
                            # For a Prometheus that discovers pods by annotation (monitoring.enabled installs one).
                            annotations={
                                "prometheus.io/scrape": "true",
                                "prometheus.io/port": str(settings.port),
                                "prometheus.io/path": "/metrics",
                                "brain/env-sha256": env_digest,
                            },
                        ),
                        spec=self._pod_spec(settings, labels, env),
                    ),
                ),
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-backend-service",
            k8s.core.v1.ServiceInitArgs(
                metadata=metadata(),
                spec=k8s.core.v1.ServiceSpecArgs(
                    selector=labels,
                    ports=[k8s.core.v1.ServicePortArgs(name="http", port=settings.port, target_port="http")],
                ),
            ),
            opts=child,
        )
        self._autoscaler(name, metadata(), deployment, settings)
        # Voluntary disruptions (node drains, upgrades) take one replica at a time.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-backend-pdb",
            k8s.policy.v1.PodDisruptionBudgetInitArgs(
                metadata=metadata(),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels)
                ),
            ),
            opts=child,
        )
        self.endpoints = BackendEndpoints(
            names=cast(pulumi.Output[str], service.metadata.name).apply(lambda service_name: [service_name]),
            port=settings.port,
        )
        self.pods = Workload(name="backend", labels=labels, ports=[settings.port])
        self.register_outputs({"names": self.endpoints.names})

    @staticmethod
    def _pod_spec(
        settings: BackendConfig, labels: dict[str, str], env: k8s.core.v1.Secret
    ) -> k8s.core.v1.PodSpecArgs:
        def probe(path: str, period: int) -> k8s.core.v1.ProbeArgs:
            return k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port="http"),
                period_seconds=period,
                timeout_seconds=2,
                failure_threshold=3,
            )

        resources = {"cpu": settings.resources.cpu, "memory": settings.resources.memory}
        scratch, scratch_mounts = scratch_volumes(SCRATCH)
        return k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,  # the backend never talks to the Kubernetes API
            security_context=pod_security_context(RUN_AS),
            volumes=scratch,
            termination_grace_period_seconds=DRAIN_SECONDS + SHUTDOWN_SECONDS,
            # Replicas spread over zones, so losing a zone leaves the others serving.
            topology_spread_constraints=[
                k8s.core.v1.TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key="topology.kubernetes.io/zone",
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                )
            ],
            containers=[
                k8s.core.v1.ContainerArgs(
                    name="backend",
                    image=settings.image,
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=settings.port)],
                    env=[
                        k8s.core.v1.EnvVarArgs(
                            name="INSTANCE_ID",
                            value_from=k8s.core.v1.EnvVarSourceArgs(
                                field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="metadata.name")
                            ),
                        ),
                        k8s.core.v1.EnvVarArgs(name="PORT", value=str(settings.port)),
                    ],
                    env_from=[
                        k8s.core.v1.EnvFromSourceArgs(
                            secret_ref=k8s.core.v1.SecretEnvSourceArgs(
                                name=cast(pulumi.Output[str], env.metadata.name)
                            )
                        )
                    ],
                    readiness_probe=probe("/health/ready", period=5),
                    liveness_probe=probe("/health/live", period=10),
                    # Requests drive the HPA's utilization targets and scheduling; limits cap a runaway pod.
                    resources=k8s.core.v1.ResourceRequirementsArgs(requests=resources, limits=resources),
                    # Kubernetes' own sleep (1.30+): no `sleep` binary needed in the image.
                    lifecycle=k8s.core.v1.LifecycleArgs(
                        pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                            sleep=k8s.core.v1.SleepActionArgs(seconds=DRAIN_SECONDS)
                        )
                    ),
                    security_context=container_security_context(),
                    volume_mounts=scratch_mounts,
                )
            ],
        )

    def _autoscaler(
        self,
        name: str,
        metadata: k8s.meta.v1.ObjectMetaArgs,
        deployment: k8s.apps.v1.Deployment,
        settings: BackendConfig,
    ) -> None:
        """Scale on CPU and memory. Up fast (a burst needs capacity now); down slowly, one pod a minute after
        two calm minutes: each removed pod drops its WebSockets and remaps some ip_hash clients."""
        autoscaling = settings.autoscaling

        def utilization(resource: str, percent: int) -> k8s.autoscaling.v2.MetricSpecArgs:
            return k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name=resource,
                    target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=percent),
                ),
            )

        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-backend-hpa",
            k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs(
                metadata=metadata,
                spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                        api_version="apps/v1",
                        kind="Deployment",
                        name=cast(pulumi.Output[str], deployment.metadata.name),
                    ),
                    min_replicas=autoscaling.min_replicas,
                    max_replicas=autoscaling.max_replicas,
                    metrics=[
                        utilization("cpu", autoscaling.cpu_utilization),
                        utilization("memory", autoscaling.memory_utilization),
                    ],
                    behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                        scale_up=k8s.autoscaling.v2.HPAScalingRulesArgs(
                            stabilization_window_seconds=0,
                            select_policy="Max",
                            policies=[
                                k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=100, period_seconds=30),
                                k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=2, period_seconds=30),
                            ],
                        ),
                        scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                            stabilization_window_seconds=120,
                            select_policy="Min",
                            policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=1, period_seconds=60)],
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
