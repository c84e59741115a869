"""The offline render writes build/<stack>/monitoring/: the files each stack deploys, checked by promtool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.render_command import render
from tests.unit.monitoring.promtool import promtool

FILES = {"prometheus.yml", "brain-rules.yml", "brain-load-distribution.json"}


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("render")
    for stack in ("dev", "prod"):
        assert render("--stack", stack, "--out", str(out / stack)).returncode == 0
    return {stack: out / stack / "monitoring" for stack in ("dev", "prod")}


def test_both_stacks_write_config_rules_and_dashboard(renders: dict[str, Path]) -> None:
    for stack, directory in renders.items():
        assert {path.name for path in directory.iterdir()} == FILES, stack


def test_dev_render_passes_promtool_check_config(renders: dict[str, Path]) -> None:
    output = promtool("check", "config", renders["dev"] / "prometheus.yml")
    assert "14 rules found" in output, output


def test_one_rules_file_serves_both_stacks(renders: dict[str, Path]) -> None:
    dev, prod = ((renders[stack] / "brain-rules.yml").read_text() for stack in ("dev", "prod"))
    assert dev == prod, "dev and prod must run the same rules"
    promtool("check", "rules", renders["prod"] / "brain-rules.yml")


def test_dashboards_differ_only_by_the_autoscaler_panel(renders: dict[str, Path]) -> None:
    dev, prod = (json.loads((renders[stack] / "brain-load-distribution.json").read_text()) for stack in ("dev", "prod"))
    dev_titles = [panel["title"] for panel in dev["panels"]]
    prod_titles = [panel["title"] for panel in prod["panels"]]
    assert prod_titles[: len(dev_titles)] == dev_titles
    assert prod_titles[len(dev_titles) :] == ["Autoscaler replicas: current / desired / max"]


def test_render_diff_shows_a_changed_alert_threshold(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    assert render("--stack", "dev", "--out", str(old)).returncode == 0
    assert render("--stack", "dev", "--out", str(new), "--set", "monitoring.alerts.p95_latency_ms=800").returncode == 0
    diff = render("--diff", str(old), str(new))
    assert diff.returncode == 0, diff.stderr
    text = diff.stdout
    assert "**Monitoring**" in text, text
    assert "-    expr: instance:brain_http_request_duration_seconds:p95_rate5m > 0.5" in text, text
    assert "+    expr: instance:brain_http_request_duration_seconds:p95_rate5m > 0.8" in text, text
