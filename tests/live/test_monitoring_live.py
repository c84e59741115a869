"""Monitoring on a real Prometheus: our prometheus.yml and rules over the rendered nginx.conf and three
reference backends, traffic weighted 3:2:1, every recording rule and dashboard expression queried through
Prometheus' HTTP API, and the backend-down alert pending once a replica stops.

Intervals are shortened through the users' own key (`monitoring.scrape_interval`), nothing is patched.
With BRAIN_DASHBOARD_PNG=<file> (`make dashboard-png`) the run also draws the dashboard's panels there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.config import BalancerConfig, parse_stack_config
from monitoring import RECORDING_RULES, RULES_FILE, StaticTarget, render_prometheus_config, render_rules
from monitoring.dashboard import panel_specs
from tests.support.dashboard_picture import draw_dashboard
from tests.support.load import send_requests
from tests.support.processes import wait_until
from tests.support.prometheus import NginxExporter, PrometheusServer
from tests.support.topology import BackendFleet, StartBalancer

pytestmark = pytest.mark.live

WEIGHTS = (3, 2, 1)
BURSTS, BURST_REQUESTS = 5, 120
"""Traffic in bursts a second apart, so the picture shows the rates building up."""
SHARE_TOLERANCE = 0.05
NGINX_INSTANCE = "nginx"
WAIT_SECONDS = 20
PICTURE_ENV = "BRAIN_DASHBOARD_PNG"
SETTINGS = parse_stack_config({"target": "docker", "monitoring": {"scrape_interval": "1s"}}).monitoring


@pytest.fixture
def observed(
    backends: BackendFleet, start_balancer: StartBalancer, tmp_path: Path
) -> Iterator[tuple[PrometheusServer, str]]:
    """nginx (weighted 3:2:1) over the fleet, the exporter on its /nginx_status, Prometheus scraping both with
    our config and rules; yields Prometheus and the balancer's URL once every target is up."""
    balancer = start_balancer(BalancerConfig(algorithm="weighted", weights=list(WEIGHTS)))
    url = balancer.url("/api/agents/info")
    # One round of the weights before the first scrape: every series exists from Prometheus' first sample on,
    # so rate() counts all later traffic.
    assert send_requests(url, sum(WEIGHTS)).failures == []
    exporter = NginxExporter(tmp_path, balancer.url("/nginx_status"))
    config_dir = tmp_path / "prometheus-config"
    config_dir.mkdir()
    targets = [StaticTarget(p.instance_id, f"{p.host}:{p.port}") for p in backends.processes]
    (config_dir / "prometheus.yml").write_text(
        render_prometheus_config(SETTINGS, (targets, StaticTarget(NGINX_INSTANCE, exporter.address)))
    )
    (config_dir / RULES_FILE).write_text(render_rules(SETTINGS.alerts))
    prometheus = PrometheusServer(tmp_path, config_dir)
    try:
        exporter.start()
        prometheus.start()
        everyone = {*backends.instances, NGINX_INSTANCE}
        wait_until(lambda: set(prometheus.query("up == 1")) == everyone, WAIT_SECONDS, f"{everyone} scraped")
        yield prometheus, url
    finally:
        prometheus.stop()
        exporter.stop()


def _served(prometheus: PrometheusServer) -> float:
    return sum(prometheus.query('sum by (instance) (brain_http_requests_total{path="/api/agents/info"})').values())


def test_rules_dashboard_and_alerts_on_a_live_prometheus(
    observed: tuple[PrometheusServer, str], backends: BackendFleet
) -> None:
    prometheus, url = observed
    started = time.time()
    for _ in range(BURSTS):
        assert send_requests(url, BURST_REQUESTS, concurrency=4).failures == []
        time.sleep(1)
    total = sum(WEIGHTS) + BURSTS * BURST_REQUESTS
    wait_until(lambda: _served(prometheus) >= total, WAIT_SECONDS, f"Prometheus to scrape all {total} requests")
    time.sleep(2 * 1)  # two rule evaluations (every scrape interval): the recording rules see the last samples

    shares = prometheus.query("instance:brain_http_requests:share_rate5m")
    expected = {instance: weight / sum(WEIGHTS) for instance, weight in zip(backends.instances, WEIGHTS)}
    for instance, share in expected.items():
        assert abs(shares[instance] - share) <= SHARE_TOLERANCE, f"measured shares {shares}, expected {expected}"

    backend_instances = set(backends.instances)
    expressions = [*RECORDING_RULES, *(q.expr for spec in panel_specs(with_autoscaler=False) for q in spec.queries)]
    for expr in expressions:
        values = prometheus.query(expr)
        wanted = {NGINX_INSTANCE} if "nginx_" in expr else backend_instances
        assert set(values) == wanted, f"{expr}: series for {sorted(values)}, expected one per {sorted(wanted)}"
    assert prometheus.query("max by (instance) (brain_broadcast_subscribed)") == dict.fromkeys(backend_instances, 1)
    assert prometheus.query("max by (instance) (brain_backend_ready)") == dict.fromkeys(backend_instances, 1)

    picture = os.environ.get(PICTURE_ENV)
    if picture:
        draw_dashboard(
            panel_specs(with_autoscaler=False),
            lambda expr: prometheus.query_range(expr, started - 2, time.time(), 1),
            started,
            f"BRAiN load distribution: live run, weighted {':'.join(map(str, WEIGHTS))}, scrape every 1 s",
            Path(picture),
        )

    stopped = backends.instances[-1]
    backends.stop(len(backends.instances) - 1)

    def down_alert() -> dict | None:
        return next(
            (alert for alert in prometheus.api("alerts")["alerts"]
             if alert["labels"]["alertname"] == "BrainBackendDown" and alert["labels"]["instance"] == stopped),
            None,
        )

    alert = wait_until(down_alert, WAIT_SECONDS, f"BrainBackendDown for {stopped}")
    assert alert["state"] == "pending", f"expected pending (the alert holds for 1m first), got {alert}"
    assert stopped in alert["annotations"]["summary"], alert
