"""Dev monitoring: Prometheus, the nginx exporter and Grafana, on by default, reachable on loopback only."""

from __future__ import annotations

import json


from tools.program import is_secret, reveal
from tools import yaml_text
from tests.support.renders import run_program

MONITORING_NAMES = {
    "brain-prometheus", "brain-prometheus-data", "brain-nginx-exporter", "brain-grafana", "brain-grafana-admin",
}


def _uploads(run, name: str) -> dict[str, str]:
    return {upload["file"]: upload["content"] for upload in reveal(run.named(name).inputs["uploads"])}


def test_monitoring_is_on_by_default_and_can_be_turned_off() -> None:
    names = {resource.name for resource in run_program("dev").resources}
    assert MONITORING_NAMES <= names, f"missing: {MONITORING_NAMES - names}"
    run = run_program("dev", ["monitoring.enabled=false"])
    assert not MONITORING_NAMES & {resource.name for resource in run.resources}
    assert not {"prometheus_url", "grafana_url", "grafana_admin_password"} & set(run.outputs)


def test_prometheus_scrapes_every_replica_by_name_and_loads_the_rules() -> None:
    run = run_program("dev", ["backend.replicas=4", "backend.port=8100", "monitoring.retention=30d"])
    uploads = _uploads(run, "brain-prometheus")
    config = yaml_text.load(uploads["/etc/prometheus/prometheus.yml"])
    backend, nginx = config["scrape_configs"]
    assert backend["static_configs"] == [
        {"targets": [f"backend-{n}:8100"], "labels": {"instance": f"backend-{n}"}} for n in range(1, 5)
    ]
    assert nginx["static_configs"] == [
        {"targets": ["brain-nginx-exporter:9113"], "labels": {"instance": "brain-nginx"}}
    ]
    assert config["rule_files"] == ["brain-rules.yml"]
    rules = yaml_text.load(uploads["/etc/prometheus/brain-rules.yml"])
    assert {group["name"] for group in rules["groups"]} == {"brain-load-distribution", "brain-alerts"}
    prometheus = run.named("brain-prometheus")
    assert "--storage.tsdb.retention.time=30d" in prometheus.inputs["command"]
    assert prometheus.inputs["volumes"] == [{"volumeName": "brain-prometheus-data", "containerPath": "/prometheus"}]
    assert run.named("brain-prometheus-data").retain_on_delete, "a destroy or replacement must keep the history"


def test_uis_are_published_on_loopback_at_the_configured_ports() -> None:
    run = run_program("dev", ["monitoring.prometheus_port=19090", "monitoring.grafana_port=13000"])
    assert run.named("brain-prometheus").inputs["ports"] == [{"internal": 9090, "external": 19090, "ip": "127.0.0.1"}]
    assert run.named("brain-grafana").inputs["ports"] == [{"internal": 3000, "external": 13000, "ip": "127.0.0.1"}]
    assert "ports" not in run.named("brain-nginx-exporter").inputs, "the exporter is for Prometheus only"
    assert run.outputs["prometheus_url"] == "http://localhost:19090"
    assert run.outputs["grafana_url"] == "http://localhost:13000"


def test_exporter_reads_nginx_status_on_the_private_network() -> None:
    run = run_program("dev", ["balancer.port=8080"])
    exporter = run.named("brain-nginx-exporter")
    assert exporter.inputs["command"] == ["--nginx.scrape-uri=http://brain-nginx:8080/nginx_status"]
    assert exporter.inputs["image"] == "sha256:mock-brain-nginx-exporter-image"
    assert run.named("brain-nginx-exporter-image").inputs["name"] == "nginx/nginx-prometheus-exporter:1.4.0"


def test_grafana_is_provisioned_with_a_secret_admin_password_and_no_anonymous_access() -> None:
    run = run_program("dev")
    grafana = run.named("brain-grafana")
    envs = grafana.inputs["envs"]
    assert is_secret(envs), "the admin password must reach the container as a secret"
    assert "GF_SECURITY_ADMIN_PASSWORD=MOCK-SECRET-brain-grafana-admin" in reveal(envs)
    assert "GF_AUTH_ANONYMOUS_ENABLED=false" in reveal(envs)
    assert is_secret(run.outputs["grafana_admin_password"])
    uploads = _uploads(run, "brain-grafana")
    (source,) = yaml_text.load(uploads["/etc/grafana/provisioning/datasources/brain.yaml"])["datasources"]
    assert source["url"] == "http://brain-prometheus:9090" and source["uid"] == "prometheus"
    (provider,) = yaml_text.load(uploads["/etc/grafana/provisioning/dashboards/brain.yaml"])["providers"]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    dashboard = json.loads(uploads["/etc/grafana/dashboards/brain-load-distribution.json"])
    assert dashboard["uid"] == "brain-load-distribution"
    assert not any("Autoscaler" in panel["title"] for panel in dashboard["panels"]), "no autoscaler on docker"
