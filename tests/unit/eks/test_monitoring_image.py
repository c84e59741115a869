"""The Prometheus chart receives `monitoring.prometheus_image` as repository, tag and digest, for any reference the
config takes (Docker Hub or another registry, a tag, a digest or both)."""

from __future__ import annotations

import pytest

from tools.program import reveal
from tests.support.renders import run_program

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "expected"),
    [
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
    ],
)
def test_prometheus_chart_gets_the_image_in_parts(image: str, expected: dict[str, str]) -> None:
    run = run_program("prod", ["monitoring.enabled=true", f"monitoring.prometheus_image={image}"])
    (release,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "prometheus"]
    assert reveal(release.inputs)["values"]["server"]["image"] == expected, release.name


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "grafana/grafana:12.4.3",
            {"registry": "docker.io", "repository": "grafana/grafana", "tag": "12.4.3", "sha": ""},
        ),
        (
            f"mirror.example.com/grafana/grafana:12.4.3@{DIGEST}",
            {"registry": "mirror.example.com", "repository": "grafana/grafana", "tag": "12.4.3", "sha": "ab" * 32},
        ),
    ],
)
def test_grafana_chart_gets_registry_repository_tag_and_sha(image: str, expected: dict[str, str]) -> None:
    """The Grafana chart writes `registry/repository:tag`, and `@sha256:<sha>` after it when `sha` is set."""
    run = run_program("prod", ["monitoring.enabled=true", f"monitoring.grafana_image={image}"])
    (release,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "grafana"]
    assert reveal(release.inputs)["values"]["image"] == expected, release.name
