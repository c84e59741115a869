"""Dev monitoring switch: Prometheus scrapes every replica, only when enabled, reachable on loopback only."""

from __future__ import annotations

import yaml

from tools.program import reveal, run_program


def test_monitoring_is_off_by_default() -> None:
    run = run_program("dev")
    assert not run.of_type("brain:docker:Monitoring")
    assert "prometheus_url" not in run.outputs


def test_enabled_monitoring_scrapes_every_replica() -> None:
    run = run_program("dev", ["monitoring.enabled=true", "backend.replicas=4", "backend.port=8100"])
    prometheus = run.named("brain-prometheus")
    (upload,) = reveal(prometheus.inputs["uploads"])
    assert upload["file"] == "/etc/prometheus/prometheus.yml"
    (job,) = yaml.safe_load(upload["content"])["scrape_configs"]
    assert job["static_configs"] == [{"targets": [f"backend-{n}:8100" for n in range(1, 5)]}]
    assert job["honor_labels"] is True, "the backends' own instance label must win over the target address"
    assert prometheus.inputs["ports"] == [{"internal": 9090, "external": 9090, "ip": "127.0.0.1"}]
    assert run.outputs["prometheus_url"] == "http://localhost:9090"
