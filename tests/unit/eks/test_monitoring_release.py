"""Prod monitoring: Prometheus runs our rendered prometheus.yml and rules (a ConfigMap the chart mounts),
kube-state-metrics feeds the autoscaler alert, Grafana is provisioned with a generated admin password."""

from __future__ import annotations

import json


from tools.program import is_secret, reveal
from tools import yaml_text
from tests.support.renders import run_program


def test_prometheus_chart_mounts_our_config_map() -> None:
    run = run_program("prod", ["monitoring.retention=30d", "monitoring.scrape_interval=30s"])
    config_map = reveal(run.named("brain-prometheus-config").inputs)
    release = reveal(run.named("brain-prometheus").inputs)
    # The chart mounts ConfigMap `<release name>-<server.configMapOverrideName>`.
    assert config_map["metadata"]["name"] == f"{release['name']}-{release['values']['server']['configMapOverrideName']}"
    assert config_map["metadata"]["namespace"] == release["namespace"] == "brain"
    config = yaml_text.load(config_map["data"]["prometheus.yml"])
    assert config["global"]["scrape_interval"] == "30s"
    assert config["rule_files"] == ["brain-rules.yml"]
    assert {job["job_name"] for job in config["scrape_configs"]} == {"brain-backend", "nginx", "kube-state-metrics"}
    # The backend Service of the backend component, discovered through its EndpointSlices.
    backend = next(job for job in config["scrape_configs"] if job["job_name"] == "brain-backend")
    assert backend["relabel_configs"][0]["regex"] == run.outputs["backend_names"][0]
    (ksm,) = next(job for job in config["scrape_configs"] if job["job_name"] == "kube-state-metrics")["static_configs"]
    assert ksm["targets"] == [f"{release['name']}-kube-state-metrics.brain.svc:8080"]
    rules = yaml_text.load(config_map["data"]["brain-rules.yml"])
    assert "BrainAutoscalerAtMax" in {rule.get("alert") for group in rules["groups"] for rule in group["rules"]}
    assert release["values"]["server"]["retention"] == "30d"
    assert release["values"]["kube-state-metrics"]["enabled"] is True
    assert "brain-prometheus-config" in {
        urn.split("::")[-1] for urn in run.named("brain-prometheus").depends_on
    }, "the release must wait for the ConfigMap its pod mounts"


def test_nginx_job_scrapes_the_controllers_metrics_port() -> None:
    run = run_program("prod")
    controller = reveal(run.named("brain-ingress").inputs)["values"]
    config = yaml_text.load(reveal(run.named("brain-prometheus-config").inputs)["data"]["prometheus.yml"])
    nginx = next(job for job in config["scrape_configs"] if job["job_name"] == "nginx")
    assert controller["prometheus"]["create"] is True
    port_rule = {"source_labels": ["__meta_kubernetes_pod_container_port_number"],
                 "regex": str(int(controller["prometheus"]["port"])), "action": "keep"}
    assert port_rule in nginx["relabel_configs"]
    controller_namespace = reveal(run.named("brain-ingress").inputs)["namespace"]
    assert nginx["kubernetes_sd_configs"][0]["namespaces"]["names"] == [controller_namespace]


def test_grafana_is_provisioned_with_a_secret_admin_and_no_anonymous_access() -> None:
    run = run_program("prod")
    secret = run.named("brain-grafana-admin-secret")
    assert secret.type == "kubernetes:core/v1:Secret"
    assert is_secret(secret.inputs["stringData"]), "the admin password must stay a secret in the Secret's data"
    values = reveal(run.named("brain-grafana").inputs)["values"]
    assert values["admin"]["existingSecret"] == reveal(secret.inputs)["metadata"]["name"]
    assert values["grafana.ini"]["auth.anonymous"] == {"enabled": False}
    (source,) = values["datasources"]["datasources.yaml"]["datasources"]
    assert source["url"] == run.outputs["prometheus_url"]
    (provider,) = values["dashboardProviders"]["dashboardproviders.yaml"]["providers"]
    dashboard = json.loads(values["dashboards"][provider["name"]]["brain-load-distribution"]["json"])
    assert provider["options"]["path"] == f"/var/lib/grafana/dashboards/{provider['name']}"
    assert any("Autoscaler" in panel["title"] for panel in dashboard["panels"])
