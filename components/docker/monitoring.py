"""Monitoring for the dev target: Prometheus (replicas and nginx scraped, our rules), an nginx exporter reading
/nginx_status on the private network, and Grafana with the dashboard provisioned. Both UIs on 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.args import MonitoringArgs
from components.docker.image import pulled_image
from components.docker.platform import Platform
from monitoring import (
    DASHBOARD_UID,
    RULES_FILE,
    StaticTarget,
    render_dashboard,
    render_prometheus_config,
    render_rules,
)
from monitoring.grafana import as_yaml, dashboard_provider, datasource

PROMETHEUS_PORT = 9090
EXPORTER_PORT = 9113
GRAFANA_PORT = 3000
"""The ports inside the containers; `monitoring.prometheus_port` and `grafana_port` publish them on 127.0.0.1."""
PROMETHEUS_CONFIG_DIR = "/etc/prometheus"
GRAFANA_DASHBOARDS = "/etc/grafana/dashboards"
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
GRAFANA_ADMIN = "admin"


class Monitoring(pulumi.ComponentResource):
    """Prometheus and Grafana for the dev stack. A changed config, rule or dashboard replaces the container
    (uploads seed a new container); Prometheus' samples live in a volume and survive that."""

    url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    grafana_admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs[Platform], opts: pulumi.ResourceOptions | None = None):
        super().__init__("brain:docker:Monitoring", name, None, opts)
        settings, network = args.settings, args.platform.network_name
        exporter_name = f"{name}-nginx-exporter"
        # The exporter reads stub_status over the private network (the balancer admits its addresses) and
        # restarts until nginx answers, whichever container Docker starts first.
        self._container(
            exporter_name,
            settings.exporter_image,
            network,
            command=[f"--nginx.scrape-uri=http://{args.platform.balancer_name}:{args.balancer.port}/nginx_status"],
        )
        nginx = StaticTarget(args.platform.balancer_name, f"{exporter_name}:{EXPORTER_PORT}")
        prometheus_config = pulumi.Output.from_input(args.backend.names).apply(
            lambda names: render_prometheus_config(settings, (_backend_targets(names, args.backend.port), nginx))
        )
        # Kept by `pulumi destroy` and replacements (the metrics history), but not protected: unlike the data
        # tier's volumes, losing it loses no user data, so it must not block a destroy.
        data = docker.Volume(
            f"{name}-prometheus-data",
            docker.VolumeArgs(name=f"{name}-prometheus-data"),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        prometheus_name = f"{name}-prometheus"
        self._container(
            prometheus_name,
            settings.prometheus_image,
            network,
            command=[
                f"--config.file={PROMETHEUS_CONFIG_DIR}/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                f"--storage.tsdb.retention.time={settings.retention}",
            ],
            uploads=[
                docker.ContainerUploadArgs(file=f"{PROMETHEUS_CONFIG_DIR}/prometheus.yml", content=prometheus_config),
                docker.ContainerUploadArgs(
                    file=f"{PROMETHEUS_CONFIG_DIR}/{RULES_FILE}", content=render_rules(settings.alerts)
                ),
            ],
            published=(PROMETHEUS_PORT, settings.prometheus_port),
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/prometheus")],
            depends_on=list(args.backend.members),
        )
        password = random.RandomPassword(
            f"{name}-grafana-admin",
            random.RandomPasswordArgs(length=32, special=False),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        self._container(
            f"{name}-grafana",
            settings.grafana_image,
            network,
            envs=[
                f"GF_SECURITY_ADMIN_USER={GRAFANA_ADMIN}",
                pulumi.Output.concat("GF_SECURITY_ADMIN_PASSWORD=", self.grafana_admin_password),
                "GF_AUTH_ANONYMOUS_ENABLED=false",
                "GF_USERS_ALLOW_SIGN_UP=false",
                "GF_ANALYTICS_REPORTING_ENABLED=false",
            ],
            uploads=[
                docker.ContainerUploadArgs(
                    file=f"{GRAFANA_PROVISIONING}/datasources/brain.yaml",
                    content=as_yaml(datasource(f"http://{prometheus_name}:{PROMETHEUS_PORT}")),
                ),
                docker.ContainerUploadArgs(
                    file=f"{GRAFANA_PROVISIONING}/dashboards/brain.yaml",
                    content=as_yaml(dashboard_provider(GRAFANA_DASHBOARDS)),
                ),
                docker.ContainerUploadArgs(
                    file=f"{GRAFANA_DASHBOARDS}/{DASHBOARD_UID}.json", content=render_dashboard(with_autoscaler=False)
                ),
            ],
            published=(GRAFANA_PORT, settings.grafana_port),
        )
        self.url = pulumi.Output.from_input(f"http://localhost:{settings.prometheus_port}")
        self.grafana_url = pulumi.Output.from_input(f"http://localhost:{settings.grafana_port}")
        self.register_outputs(
            {"url": self.url, "grafana_url": self.grafana_url, "grafana_admin_password": self.grafana_admin_password}
        )

    def _container(
        self,
        name: str,
        image: str,
        network: pulumi.Input[str],
        *,
        command: Sequence[str] | None = None,
        envs: Sequence[pulumi.Input[str]] | None = None,
        uploads: Sequence[docker.ContainerUploadArgs] | None = None,
        published: tuple[int, int] | None = None,
        volumes: Sequence[docker.ContainerVolumeArgs] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> docker.Container:
        """A container on the private network, its port (inside, outside) published on 127.0.0.1 only."""
        ports = (
            [docker.ContainerPortArgs(internal=published[0], external=published[1], ip="127.0.0.1")]
            if published
            else None
        )
        return docker.Container(
            name,
            docker.ContainerArgs(
                name=name,
                image=pulled_image(f"{name}-image", image, self),
                command=list(command) if command else None,
                envs=list(envs) if envs else None,
                uploads=list(uploads) if uploads else None,
                ports=ports,
                volumes=list(volumes) if volumes else None,
                networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network)],
                restart="unless-stopped",
            ),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=list(depends_on)),
        )


def _backend_targets(names: Sequence[str], port: int) -> list[StaticTarget]:
    """Each replica by its container name, which is also its INSTANCE_ID."""
    return [StaticTarget(name, f"{name}:{port}") for name in names]
