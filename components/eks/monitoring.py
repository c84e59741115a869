"""Monitoring for the prod target: Prometheus from its community chart, scraping every pod that asks for it
by annotation (each backend replica, and the ingress controllers' exporter)."""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from components.args import MonitoringArgs
from components.config import image_parts
from components.eks.cluster import Platform

PROMETHEUS_CHART_REPO = "https://prometheus-community.github.io/helm-charts"
PROMETHEUS_CHART_VERSION = "27.19.0"
PROMETHEUS_STORAGE = "20Gi"


class Monitoring(pulumi.ComponentResource):
    """Prometheus inside the cluster only (a ClusterIP Service); reach it with `kubectl port-forward`."""

    url: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        platform = args.platform
        super().__init__(
            "brain:eks:Monitoring",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=platform.providers)),
        )
        image = image_parts(args.settings.prometheus_image)
        release = k8s.helm.v3.Release(
            f"{name}-prometheus",
            k8s.helm.v3.ReleaseArgs(
                name="prometheus",
                chart="prometheus",
                version=PROMETHEUS_CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=PROMETHEUS_CHART_REPO),
                namespace=platform.namespace,
                values={
                    # The chart's default jobs include `kubernetes-pods`, which honours the annotations.
                    "server": {
                        "image": {"repository": image.repository, "tag": image.tag, "digest": image.digest},
                        "persistentVolume": {"size": PROMETHEUS_STORAGE, "storageClass": platform.storage_class},
                    },
                    "alertmanager": {"enabled": False},
                    "kube-state-metrics": {"enabled": False},
                    "prometheus-node-exporter": {"enabled": False},
                    "prometheus-pushgateway": {"enabled": False},
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.concat(
            "http://prometheus-server.", cast(pulumi.Output[str], release.namespace), ".svc.cluster.local"
        )
        self.register_outputs({"url": self.url})
