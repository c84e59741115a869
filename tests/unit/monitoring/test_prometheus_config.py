"""prometheus.yml for both targets: promtool accepts the static one; targets carry the replicas' own names."""

from __future__ import annotations

from pathlib import Path


from components.config import AlertThresholds, MonitoringConfig
from monitoring import RULES_FILE, KubernetesTargets, StaticTarget, render_prometheus_config, render_rules
from tests.unit.monitoring.promtool import promtool
from tools import yaml_text

BACKENDS = [StaticTarget(f"backend-{n}", f"backend-{n}:8000") for n in (1, 2, 3)]
NGINX = StaticTarget("brain-nginx", "brain-nginx-exporter:9113")
CLUSTER = KubernetesTargets(
    namespace="brain",
    backend_service="brain-backend",
    controller_namespace="nginx-ingress",
    controller_labels={"app.kubernetes.io/name": "nginx-ingress"},
    controller_metrics_port=9113,
    kube_state_metrics="prometheus-kube-state-metrics.brain.svc:8080",
)


def test_promtool_accepts_the_static_config_and_finds_the_rules(tmp_path: Path) -> None:
    (tmp_path / "prometheus.yml").write_text(render_prometheus_config(MonitoringConfig(), (BACKENDS, NGINX)))
    (tmp_path / RULES_FILE).write_text(render_rules(AlertThresholds()))
    output = promtool("check", "config", tmp_path / "prometheus.yml")
    assert "1 rule files found" in output and "14 rules found" in output, output


def test_each_static_target_is_labelled_with_its_own_instance_name() -> None:
    config = yaml_text.load(render_prometheus_config(MonitoringConfig(), (BACKENDS, NGINX)))
    backend, nginx = config["scrape_configs"]
    assert backend["job_name"] == "brain-backend" and backend["honor_labels"] is True
    assert backend["static_configs"] == [
        {"targets": [f"backend-{n}:8000"], "labels": {"instance": f"backend-{n}"}} for n in (1, 2, 3)
    ]
    assert nginx["static_configs"] == [
        {"targets": ["brain-nginx-exporter:9113"], "labels": {"instance": "brain-nginx"}}
    ]


def test_scrape_and_evaluation_follow_the_interval_key() -> None:
    config = yaml_text.load(render_prometheus_config(MonitoringConfig(scrape_interval="2s"), (BACKENDS, NGINX)))
    # A timeout longer than the interval is refused by Prometheus: it shrinks with the interval.
    assert config["global"] == {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"}
    config = yaml_text.load(render_prometheus_config(MonitoringConfig(scrape_interval="30s"), (BACKENDS, NGINX)))
    assert config["global"]["scrape_timeout"] == "10s"


def test_cluster_config_discovers_replicas_controllers_and_kube_state_metrics() -> None:
    """Debian's promtool is built without Kubernetes discovery, so this config is checked by its structure."""
    config = yaml_text.load(render_prometheus_config(MonitoringConfig(), CLUSTER))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"brain-backend", "nginx", "kube-state-metrics"}
    backend = jobs["brain-backend"]
    # EndpointSlices, not pods by label: the Service's own selection, ready or not.
    assert backend["kubernetes_sd_configs"] == [{"role": "endpointslice", "namespaces": {"names": ["brain"]}}]
    assert backend["relabel_configs"] == [
        {"source_labels": ["__meta_kubernetes_service_name"], "regex": "brain-backend", "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "instance"},
    ]
    assert backend["honor_labels"] is True
    nginx = jobs["nginx"]
    assert nginx["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["nginx-ingress"]}}]
    (rename,) = nginx["metric_relabel_configs"]
    assert rename["regex"] == "nginx_ingress_(nginx_.*)" and rename["replacement"] == "$1"
    assert jobs["kube-state-metrics"]["static_configs"] == [
        {"targets": ["prometheus-kube-state-metrics.brain.svc:8080"]}
    ]
