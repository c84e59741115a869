"""prometheus.yml: where Prometheus finds the replicas and nginx, for both targets.

Every target's `instance` label is the replica's own name (its INSTANCE_ID: the container or pod name), the
same value the backend writes into its series, so `up`, the rules and the dashboard agree on what an instance
is. Jobs are named the same on both targets (`BACKEND_JOB`, `NGINX_JOB`): the one rules file refers to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from components.config import MonitoringConfig, prometheus_seconds

BACKEND_JOB = "brain-backend"
NGINX_JOB = "nginx"
AUTOSCALER_JOB = "kube-state-metrics"
RULES_FILE = "brain-rules.yml"
"""The rules file's name beside prometheus.yml (Prometheus resolves `rule_files` relative to its config)."""
MAX_SCRAPE_TIMEOUT_SECONDS = 10
"""Prometheus' default timeout, shortened to the interval when that is shorter (a longer one is refused)."""


@dataclass(frozen=True)
class StaticTarget:
    """One scrape target on a fixed address (docker, and the live tests)."""

    instance: str
    """The name the target reports itself by: the backend's INSTANCE_ID, or the balancer's name."""
    address: str
    """host:port to scrape."""


@dataclass(frozen=True)
class KubernetesTargets:
    """What to discover (eks): the replicas behind their Service (ready or not), the ingress controllers'
    metrics port, and the autoscaler's metrics from kube-state-metrics."""

    namespace: str
    backend_service: str
    controller_namespace: str
    controller_labels: dict[str, str]
    controller_metrics_port: int
    kube_state_metrics: str
    """host:port of the kube-state-metrics Service."""


def render_prometheus_config(
    settings: MonitoringConfig, targets: tuple[Sequence[StaticTarget], StaticTarget] | KubernetesTargets
) -> str:
    """prometheus.yml for static targets (the replicas and the nginx exporter) or for Kubernetes discovery."""
    interval = settings.scrape_interval
    timeout = f"{min(MAX_SCRAPE_TIMEOUT_SECONDS, prometheus_seconds(interval)):g}s"
    if isinstance(targets, KubernetesTargets):
        jobs = _kubernetes_jobs(targets)
    else:
        backends, nginx = targets
        jobs = [_static_job(BACKEND_JOB, backends, honor_labels=True), _static_job(NGINX_JOB, [nginx])]
    config = {
        "global": {"scrape_interval": interval, "scrape_timeout": timeout, "evaluation_interval": interval},
        "rule_files": [RULES_FILE],
        "scrape_configs": jobs,
    }
    return yaml.safe_dump(config, sort_keys=False)


def _static_job(name: str, targets: Sequence[StaticTarget], honor_labels: bool = False) -> dict[str, Any]:
    """One target group per target, so each carries its own `instance` label."""
    job: dict[str, Any] = {"job_name": name}
    if honor_labels:
        # The backend labels its own series with `instance`; keep that over the target's.
        job["honor_labels"] = True
    job["static_configs"] = [
        {"targets": [target.address], "labels": {"instance": target.instance}} for target in targets
    ]
    return job


def _keep(label: str, value: str | int) -> dict[str, Any]:
    return {"source_labels": [label], "regex": str(value), "action": "keep"}


def _pod_is_instance() -> dict[str, Any]:
    """The pod name is the replica's INSTANCE_ID: `up` and the backend's own series name the same instance."""
    return {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "instance"}


def _label_name(key: str) -> str:
    """How Kubernetes discovery spells a pod label in its meta labels: `app.kubernetes.io/name` becomes
    `app_kubernetes_io_name`."""
    return "".join(char if char.isalnum() else "_" for char in key)


def _kubernetes_jobs(targets: KubernetesTargets) -> list[dict[str, Any]]:
    # EndpointSlices list not-ready pods too (`ready: false`), so a replica failing readiness stays scraped
    # and its `brain_backend_ready` 0 is seen.
    backends = {
        "job_name": BACKEND_JOB,
        "honor_labels": True,
        "kubernetes_sd_configs": [{"role": "endpointslice", "namespaces": {"names": [targets.namespace]}}],
        "relabel_configs": [_keep("__meta_kubernetes_service_name", targets.backend_service), _pod_is_instance()],
    }
    controllers = [
        _keep(f"__meta_kubernetes_pod_label_{_label_name(key)}", value)
        for key, value in targets.controller_labels.items()
    ]
    nginx = {
        "job_name": NGINX_JOB,
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [targets.controller_namespace]}}],
        "relabel_configs": [
            *controllers,
            _keep("__meta_kubernetes_pod_container_port_number", targets.controller_metrics_port),
            _pod_is_instance(),
        ],
        # The F5 controller prefixes the stub_status metrics (`nginx_ingress_nginx_connections_active`):
        # renamed to the exporter's names, so the dashboard reads the same series on both targets.
        "metric_relabel_configs": [
            {
                "source_labels": ["__name__"],
                "regex": "nginx_ingress_(nginx_.*)",
                "target_label": "__name__",
                "replacement": "$1",
            }
        ],
    }
    autoscaler = {"job_name": AUTOSCALER_JOB, "static_configs": [{"targets": [targets.kube_state_metrics]}]}
    return [backends, nginx, autoscaler]
