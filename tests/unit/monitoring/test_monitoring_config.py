"""Bad monitoring config fails before any resource is registered, naming the key and what is allowed."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from tools.program import RegisteredResource
from tests.support.renders import run_program

# (override, key the message must name, a fragment of what is allowed)
BAD_MONITORING = [
    ("monitoring.scrape_interval=0s", "brain:monitoring.scrape_interval", "from 1s to 1m"),
    ("monitoring.scrape_interval=2m", "brain:monitoring.scrape_interval", "from 1s to 1m"),
    ("monitoring.scrape_interval=fast", "brain:monitoring.scrape_interval", "Prometheus duration"),
    ("monitoring.scrape_interval=15sec", "brain:monitoring.scrape_interval", "Prometheus duration"),
    ("monitoring.retention=1h", "brain:monitoring.retention", "from 2h to 10y"),
    ("monitoring.retention=1d7d", "brain:monitoring.retention", "Prometheus duration"),
    ("monitoring.alerts.error_ratio_percent=0", "brain:monitoring.alerts.error_ratio_percent", "greater than 0"),
    (
        "monitoring.alerts.error_ratio_percent=150",
        "brain:monitoring.alerts.error_ratio_percent",
        "less than or equal to 100",
    ),
    ("monitoring.alerts.p95_latency_ms=0", "brain:monitoring.alerts.p95_latency_ms", "greater than or equal to 1"),
    ("monitoring.alerts.traffic_share_factor=1", "brain:monitoring.alerts.traffic_share_factor", "greater than 1"),
    ("monitoring.alerts.p95_latency=500", "brain:monitoring.alerts.p95_latency", "not a known key"),
    ("monitoring.prometheus_port=70000", "brain:monitoring.prometheus_port", "less than or equal to 65535"),
    ("monitoring.grafana_port=0", "brain:monitoring.grafana_port", "greater than or equal to 1"),
    ("monitoring.exporter_image=nginx/nginx-prometheus-exporter:latest", "brain:monitoring.exporter_image", "pinned"),
    ("monitoring.grafana_image=grafana/grafana", "brain:monitoring.grafana_image", "pinned"),
]


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize(("override", "key", "allowed"), BAD_MONITORING, ids=[case[0] for case in BAD_MONITORING])
def test_bad_monitoring_config_is_rejected_before_any_resource(
    stack: str, override: str, key: str, allowed: str
) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program(stack, [override], registered=registered)
    message = str(raised.value)
    assert key in message, f"expected the message to name {key!r}, got:\n{message}"
    assert allowed in message, f"expected the message to say {allowed!r}, got:\n{message}"
    assert registered == [], f"expected no resource before the config error, got {[r.name for r in registered]}"
