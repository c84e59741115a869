"""Monitoring for the dev target: a Prometheus container scraping every replica's /metrics."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker
import yaml

from components.args import MonitoringArgs
from components.docker.image import pulled_image
from components.docker.platform import Platform

PROMETHEUS_PORT = 9090


def render_scrape_config(targets: Sequence[str]) -> str:
    """prometheus.yml: one job over all replicas; `instance` labels come from the backend itself."""
    return yaml.safe_dump(
        {
            "global": {"scrape_interval": "15s"},
            "scrape_configs": [
                {
                    "job_name": "brain-backend",
                    # Keep the backend's own `instance` label (backend-N) rather than Prometheus' host:port.
                    "honor_labels": True,
                    "static_configs": [{"targets": list(targets)}],
                }
            ],
        },
        sort_keys=False,
    )


class Monitoring(pulumi.ComponentResource):
    """Prometheus on 127.0.0.1:9090 (loopback only), aggregating the per-replica metrics."""

    url: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:Monitoring", name, None, opts)
        scrape_config = pulumi.Output.from_input(args.backend.names).apply(
            lambda names: render_scrape_config([f"{host}:{args.backend.port}" for host in names])
        )
        docker.Container(
            f"{name}-prometheus",
            docker.ContainerArgs(
                name=f"{name}-prometheus",
                image=pulled_image(f"{name}-prometheus-image", args.settings.prometheus_image, self),
                uploads=[docker.ContainerUploadArgs(file="/etc/prometheus/prometheus.yml", content=scrape_config)],
                ports=[docker.ContainerPortArgs(internal=PROMETHEUS_PORT, external=PROMETHEUS_PORT, ip="127.0.0.1")],
                networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.platform.network_name)],
                restart="unless-stopped",
            ),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=list(args.backend.members)),
        )
        self.url = pulumi.Output.from_input(f"http://localhost:{PROMETHEUS_PORT}")
        self.register_outputs({"url": self.url})
