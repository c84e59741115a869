"""The Prometheus and Grafana charts receive `monitoring.prometheus_image` and `monitoring.grafana_image` in the
parts each chart wants, for any reference the config takes (Docker Hub or another registry, a tag, a digest or
both): the splitting for every kind of reference, then one run for the way into the charts."""

from __future__ import annotations

import pytest

from components.eks.monitoring import grafana_image_values, prometheus_image_values
from tools.program import reveal
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


@pytest.mark.parametrize(("image", "expected"), PROMETHEUS_IMAGES, ids=[image for image, _ in PROMETHEUS_IMAGES])
def test_prometheus_gets_repository_tag_and_digest(image: str, expected: dict[str, str]) -> None:
    assert prometheus_image_values(image) == expected


@pytest.mark.parametrize(("image", "expected"), GRAFANA_IMAGES, ids=[image for image, _ in GRAFANA_IMAGES])
def test_grafana_gets_registry_repository_tag_and_sha(image: str, expected: dict[str, str]) -> None:
    """The Grafana chart writes `registry/repository:tag`, and `@sha256:<sha>` after it when `sha` is set."""
    assert grafana_image_values(image) == expected


def test_the_configured_images_reach_their_charts() -> None:
    (prometheus_image, prometheus_expected), (grafana_image, grafana_expected) = PROMETHEUS_IMAGES[1], GRAFANA_IMAGES[1]
    run = run_program("prod", [
        "monitoring.enabled=true",
        f"monitoring.prometheus_image={prometheus_image}",
        f"monitoring.grafana_image={grafana_image}",
    ])
    values = {
        release.inputs["chart"]: reveal(release.inputs)["values"] for release in run.of_type("kubernetes:helm.sh/v3:Release")
    }
    assert values["prometheus"]["server"]["image"] == prometheus_expected
    assert values["grafana"]["image"] == grafana_expected
