"""The dashboard: the panels the issue lists, one data source, and every expression valid PromQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monitoring import DATASOURCE_UID, dashboard_expressions, render_dashboard
from tests.unit.monitoring.promtool import promtool

DEV_TITLES = [
    "Requests per second by instance",
    "Share of requests by instance",
    "Latency p50 / p95 / p99 by instance",
    "5xx ratio by instance",
    "WebSocket clients by instance",
    "Broadcast subscription (1 = subscribed) and readiness",
    "nginx connections",
    "nginx connections accepted / handled per second",
]


def _panels(with_autoscaler: bool) -> list[dict]:
    return json.loads(render_dashboard(with_autoscaler))["panels"]


def test_dev_dashboard_has_the_listed_panels() -> None:
    assert [panel["title"] for panel in _panels(False)] == DEV_TITLES


def test_prod_dashboard_adds_the_autoscaler() -> None:
    assert [panel["title"] for panel in _panels(True)] == [*DEV_TITLES, "Autoscaler replicas: current / desired / max"]


def test_every_panel_reads_the_provisioned_prometheus() -> None:
    for panel in _panels(True):
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} has no query"


def test_nginx_panels_show_each_connection_state() -> None:
    exprs = {target["expr"] for panel in _panels(False) for target in panel["targets"]}
    for state in ("active", "reading", "writing", "waiting"):
        assert f"sum by (instance) (nginx_connections_{state})" in exprs
    for counter in ("accepted", "handled"):
        assert f"sum by (instance) (rate(nginx_connections_{counter}[5m]))" in exprs


@pytest.mark.parametrize("with_autoscaler", [False, True], ids=["dev", "prod"])
def test_every_dashboard_expression_parses(with_autoscaler: bool, tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule's: Prometheus' own PromQL parser."""
    expressions = dashboard_expressions(with_autoscaler)
    rules = [{"record": f"dashboard:expression_{n}:check", "expr": expr} for n, expr in enumerate(expressions)]
    path = tmp_path / "dashboard-expressions.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    output = promtool("check", "rules", path)
    assert f"{len(expressions)} rules found" in output, output
