"""The Prometheus chart receives `monitoring.prometheus_image` as repository, tag and digest, for any reference the
config takes (Docker Hub or another registry, a tag, a digest or both)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.program import ProgramRun, reveal
from tests.support.renders import run_program

DIGEST = "sha256:" + "ab" * 32

PROMETHEUS_IMAGES = [
    ("prom/prometheus:v3.7.3", {"repository": "docker.io/prom/prometheus", "tag": "v3.7.3", "digest": ""}),
    (
        f"quay.io/prometheus/prometheus:v3.7.3@{DIGEST}",
        {"repository": "quay.io/prometheus/prometheus", "tag": "v3.7.3", "digest": DIGEST},
    ),
    (f"prom/prometheus@{DIGEST}", {"repository": "docker.io/prom/prometheus", "tag": "", "digest": DIGEST}),
    (
        "localhost:5000/mirror/prometheus:3.7.3",
        {"repository": "localhost:5000/mirror/prometheus", "tag": "3.7.3", "digest": ""},
    ),
]
GRAFANA_IMAGES = [
    ("grafana/grafana:12.4.3", {"registry": "docker.io", "repository": "grafana/grafana", "tag": "12.4.3", "sha": ""}),
    (
        f"mirror.example.com/grafana/grafana:12.4.3@{DIGEST}",
        {"registry": "mirror.example.com", "repository": "grafana/grafana", "tag": "12.4.3", "sha": "ab" * 32},
    ),
]


def _run(case: int) -> ProgramRun:
    """One run sets a Prometheus and a Grafana image (the two charts read them independently): four runs, not six."""
    return run_program("prod", [
        "monitoring.enabled=true",
        f"monitoring.prometheus_image={PROMETHEUS_IMAGES[case][0]}",
        f"monitoring.grafana_image={GRAFANA_IMAGES[case % len(GRAFANA_IMAGES)][0]}",
    ])


def _chart_values(run: ProgramRun, chart: str) -> dict[str, Any]:
    (release,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == chart]
    return reveal(release.inputs)["values"]


@pytest.mark.parametrize("case", range(len(PROMETHEUS_IMAGES)), ids=[image for image, _ in PROMETHEUS_IMAGES])
def test_prometheus_chart_gets_the_image_in_parts(case: int) -> None:
    assert _chart_values(_run(case), "prometheus")["server"]["image"] == PROMETHEUS_IMAGES[case][1]


@pytest.mark.parametrize("case", range(len(GRAFANA_IMAGES)), ids=[image for image, _ in GRAFANA_IMAGES])
def test_grafana_chart_gets_registry_repository_tag_and_sha(case: int) -> None:
    """The Grafana chart writes `registry/repository:tag`, and `@sha256:<sha>` after it when `sha` is set."""
    assert _chart_values(_run(case), "grafana")["image"] == GRAFANA_IMAGES[case][1]
