"""Rendering of Prometheus' config, the rules file and the Grafana dashboard from the monitoring config
(pure: no Pulumi). Both targets deploy these files; the offline render writes them for review."""

from monitoring.dashboard import DASHBOARD_UID, DATASOURCE_UID, dashboard_expressions, render_dashboard
from monitoring.rules import RECORDING_RULES, alerts, render_rules
from monitoring.scrape import (
    BACKEND_JOB,
    NGINX_JOB,
    RULES_FILE,
    KubernetesTargets,
    StaticTarget,
    render_prometheus_config,
)

__all__ = [
    "BACKEND_JOB",
    "DASHBOARD_UID",
    "DATASOURCE_UID",
    "NGINX_JOB",
    "RECORDING_RULES",
    "RULES_FILE",
    "KubernetesTargets",
    "StaticTarget",
    "alerts",
    "dashboard_expressions",
    "render_dashboard",
    "render_prometheus_config",
    "render_rules",
]
