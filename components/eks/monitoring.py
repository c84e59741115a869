"""Monitoring for the prod target: Prometheus from its community chart running our own prometheus.yml and
rules file (a ConfigMap, the files the offline render shows), kube-state-metrics for the autoscaler, and
Grafana from its chart with the data source and dashboard provisioned.

Why these charts rather than kube-prometheus-stack: the same rendered prometheus.yml and rules file run in
dev and prod (the operator would generate Prometheus' config from ServiceMonitors and PrometheusRules, so
what reviewers diff would not be what runs), and no operator CRDs to keep upgraded by hand (Helm installs a
chart's CRDs once and never upgrades them).
"""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.args import MonitoringArgs
from components.config import MonitoringConfig, image_parts
from components.eks.balancer import CONTROLLER_LABELS, CONTROLLER_NAMESPACE, METRICS_PORT
from components.eks.cluster import Platform
from components.node_capacity import GRAFANA, KUBE_STATE_METRICS, PROMETHEUS, PodGroup
from monitoring import (
    DASHBOARD_UID,
    RULES_FILE,
    KubernetesTargets,
    render_dashboard,
    render_prometheus_config,
    render_rules,
)
from monitoring.grafana import dashboard_provider, datasource

PROMETHEUS_CHART_REPO = "https://prometheus-community.github.io/helm-charts"
PROMETHEUS_CHART_VERSION = "27.19.0"
PROMETHEUS_RELEASE = "prometheus"
PROMETHEUS_STORAGE = "20Gi"
CONFIG_OVERRIDE = "brain-config"
"""The chart mounts ConfigMap `<release>-<server.configMapOverrideName>` instead of rendering its own."""
KUBE_STATE_METRICS_SERVICE = f"{PROMETHEUS_RELEASE}-kube-state-metrics"
"""The chart's kube-state-metrics subchart Service (release name + subchart), port 8080."""
GRAFANA_CHART_REPO = "https://grafana-community.github.io/helm-charts"
GRAFANA_CHART_VERSION = "11.6.1"
"""The last chart on Grafana 12 (the chart moved from grafana/helm-charts to grafana-community in 2026)."""
GRAFANA_RELEASE = "grafana"
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
DASHBOARD_PROVIDER = "brain"
GRAFANA_ADMIN = "admin"


class Monitoring(pulumi.ComponentResource):
    """Prometheus and Grafana inside the cluster only (ClusterIP Services); reach them with
    `kubectl port-forward`. Prometheus' pods carry `app.kubernetes.io/name: prometheus` (the chart's label),
    which the replicas' NetworkPolicy admits to their metrics port."""

    url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    grafana_admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        platform, settings = args.platform, args.settings
        super().__init__(
            "brain:eks:Monitoring",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=platform.providers)),
        )
        namespace = platform.namespace
        prometheus_config = pulumi.Output.all(namespace, args.backend.names).apply(
            lambda values: self._prometheus_config(settings, *values)
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-prometheus-config",
            k8s.core.v1.ConfigMapInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{PROMETHEUS_RELEASE}-{CONFIG_OVERRIDE}", namespace=namespace
                ),
                data={"prometheus.yml": prometheus_config, RULES_FILE: render_rules(settings.alerts)},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        prometheus = k8s.helm.v3.Release(
            f"{name}-prometheus",
            k8s.helm.v3.ReleaseArgs(
                name=PROMETHEUS_RELEASE,
                chart="prometheus",
                version=PROMETHEUS_CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=PROMETHEUS_CHART_REPO),
                namespace=namespace,
                values={
                    "server": {
                        "image": prometheus_image_values(settings.prometheus_image),
                        "configMapOverrideName": CONFIG_OVERRIDE,
                        "retention": settings.retention,
                        "persistentVolume": {"size": PROMETHEUS_STORAGE, "storageClass": platform.storage_class},
                        "resources": _requests(PROMETHEUS),
                        # The app namespace enforces the `restricted` Pod Security Standard: the chart's contexts
                        # (merged with these) lack seccomp, dropped capabilities and no-escalation;
                        # kube-state-metrics' and Grafana's defaults have them.
                        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                        "containerSecurityContext": RESTRICTED_CONTAINER,
                    },
                    "configmapReload": {"prometheus": {"containerSecurityContext": RESTRICTED_CONTAINER}},
                    # For the autoscaler's panel and its at-maximum alert.
                    "kube-state-metrics": {"enabled": True, "resources": _requests(KUBE_STATE_METRICS)},
                    "alertmanager": {"enabled": False},
                    "prometheus-node-exporter": {"enabled": False},
                    "prometheus-pushgateway": {"enabled": False},
                },
            ),
            # The pod mounts the ConfigMap; its reloader sidecar applies later changes without a restart.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[config_map]),
        )
        prometheus_url = pulumi.Output.concat(
            "http://prometheus-server.", cast(pulumi.Output[str], prometheus.namespace), ".svc.cluster.local"
        )
        password = random.RandomPassword(
            f"{name}-grafana-admin",
            random.RandomPasswordArgs(length=32, special=False),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin-secret",
            k8s.core.v1.SecretInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name="grafana-admin", namespace=namespace),
                string_data={"admin-user": GRAFANA_ADMIN, "admin-password": self.grafana_admin_password},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        grafana = k8s.helm.v3.Release(
            f"{name}-grafana",
            k8s.helm.v3.ReleaseArgs(
                name=GRAFANA_RELEASE,
                chart="grafana",
                version=GRAFANA_CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=GRAFANA_CHART_REPO),
                namespace=namespace,
                values={
                    "image": grafana_image_values(settings.grafana_image),
                    "resources": _requests(GRAFANA),
                    "admin": {
                        "existingSecret": admin.metadata.name,
                        "userKey": "admin-user",
                        "passwordKey": "admin-password",
                    },
                    "grafana.ini": {
                        "auth.anonymous": {"enabled": False},
                        "users": {"allow_sign_up": False},
                        "analytics": {"reporting_enabled": False},
                    },
                    "datasources": {"datasources.yaml": prometheus_url.apply(datasource)},
                    # The chart writes each dashboard to /var/lib/grafana/dashboards/<provider>/<name>.json.
                    "dashboardProviders": {
                        "dashboardproviders.yaml": dashboard_provider(
                            f"/var/lib/grafana/dashboards/{DASHBOARD_PROVIDER}"
                        )
                    },
                    "dashboards": {
                        DASHBOARD_PROVIDER: {DASHBOARD_UID: {"json": render_dashboard(with_autoscaler=True)}}
                    },
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[admin]),
        )
        self.url = prometheus_url
        self.grafana_url = pulumi.Output.concat(
            "http://grafana.", cast(pulumi.Output[str], grafana.namespace), ".svc.cluster.local"
        )
        self.register_outputs(
            {"url": self.url, "grafana_url": self.grafana_url, "grafana_admin_password": self.grafana_admin_password}
        )

    @staticmethod
    def _prometheus_config(settings: MonitoringConfig, namespace: str, backend_services: list[str]) -> str:
        """prometheus.yml: the replicas behind their one Service, the controllers, kube-state-metrics."""
        (service,) = backend_services
        return render_prometheus_config(
            settings,
            KubernetesTargets(
                namespace=namespace,
                backend_service=service,
                controller_namespace=CONTROLLER_NAMESPACE,
                controller_labels=CONTROLLER_LABELS,
                controller_metrics_port=METRICS_PORT,
                kube_state_metrics=f"{KUBE_STATE_METRICS_SERVICE}.{namespace}.svc:8080",
            ),
        )


def prometheus_image_values(image: str) -> dict[str, str]:
    """The Prometheus chart's `server.image` for a (validated) reference: repository with its registry, tag and
    digest, either of the last two may be empty."""
    parts = image_parts(image)
    return {"repository": parts.repository, "tag": parts.tag, "digest": parts.digest}


def grafana_image_values(image: str) -> dict[str, str]:
    """The Grafana chart's `image` for a (validated) reference: the chart joins `registry/repository:tag` and,
    with `sha`, adds `@sha256:<sha>`."""
    parts = image_parts(image)
    registry, repository = parts.repository.split("/", 1)
    return {"registry": registry, "repository": repository, "tag": parts.tag, "sha": parts.digest.removeprefix("sha256:")}


def _requests(pods: PodGroup) -> dict[str, dict[str, str]]:
    """A chart's `resources` value: the requests the node capacity check budgets for these pods."""
    return {"requests": {"cpu": f"{pods.requests.cpu_millis}m", "memory": f"{pods.requests.memory_mib}Mi"}}
