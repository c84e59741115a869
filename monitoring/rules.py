"""The one Prometheus rules file of both targets: the load-distribution queries as recording rules, and alerts.

Recording rules are named `level:metric:operations` (Prometheus' convention): `instance:` aggregates by
replica, `rate5m` is the description's five-minute window. Requests to /metrics (Prometheus' own scrapes,
the same count on every replica) are left out of the traffic, so shares show what clients sent.
Alerts name the replica (or the autoscaler) in their summary; their thresholds come from the stack config.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from components.config import AlertThresholds
from monitoring.scrape import BACKEND_JOB

WINDOW = "5m"
REQUESTS = "instance:brain_http_requests:rate5m"
ERRORS = "instance:brain_http_requests_5xx:rate5m"
ERROR_RATIO = "instance:brain_http_requests_5xx:ratio_rate5m"
SHARE = "instance:brain_http_requests:share_rate5m"
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
LATENCY = {name: f"instance:brain_http_request_duration_seconds:{name}_rate5m" for name in QUANTILES}
"""Latency quantile recording rules by name (p50, p95, p99)."""

_TRAFFIC = f'job="{BACKEND_JOB}",path!="/metrics"'


def _latency_rule(quantile: float) -> str:
    return (
        f"histogram_quantile({quantile:g}, sum by (instance, le) "
        f"(rate(brain_http_request_duration_seconds_bucket{{{_TRAFFIC}}}[{WINDOW}])))"
    )


RECORDING_RULES: dict[str, str] = {
    # The description's three queries (requests, latency and errors by backend), plus what the alerts need.
    REQUESTS: f"sum by (instance) (rate(brain_http_requests_total{{{_TRAFFIC}}}[{WINDOW}]))",
    # `or ... * 0`: a replica that never answered 5xx has no such series; it gets 0, not a gap.
    ERRORS: (
        f'sum by (instance) (rate(brain_http_requests_total{{job="{BACKEND_JOB}",status=~"5.."}}[{WINDOW}]))'
        f" or {REQUESTS} * 0"
    ),
    ERROR_RATIO: f"{ERRORS} / {REQUESTS}",
    SHARE: f"{REQUESTS} / ignoring (instance) group_left sum({REQUESTS})",
    **{LATENCY[name]: _latency_rule(quantile) for name, quantile in QUANTILES.items()},
}
"""Record name -> expression, in evaluation order (later rules read earlier ones of the same evaluation)."""


@dataclass(frozen=True)
class Alert:
    """One alerting rule."""

    name: str
    expr: str
    hold: str
    """How long the condition must hold before the alert fires (`for`); pending until then."""
    severity: str
    summary: str


def alerts(thresholds: AlertThresholds) -> list[Alert]:
    """Every alert of both targets. The autoscaler's needs kube-state-metrics (eks); on docker it has no series
    and never fires."""
    ratio = thresholds.error_ratio_percent / 100
    latency = thresholds.p95_latency_ms / 1000
    factor = thresholds.traffic_share_factor
    return [
        Alert(
            "BrainBackendDown",
            f'up{{job="{BACKEND_JOB}"}} == 0',
            "1m",
            "critical",
            "Backend {{ $labels.instance }} is down: Prometheus cannot scrape it",
        ),
        Alert(
            "BrainBackendNotReady",
            f'brain_backend_ready{{job="{BACKEND_JOB}"}} == 0',
            "2m",
            "warning",
            "Backend {{ $labels.instance }} is not ready: a dependency is down or it is draining",
        ),
        Alert(
            "BrainBackendErrorRatioHigh",
            f"{ERROR_RATIO} > {ratio:g}",
            "5m",
            "critical",
            f"Backend {{{{ $labels.instance }}}} answers {{{{ $value | humanizePercentage }}}} of requests "
            f"with 5xx (threshold {thresholds.error_ratio_percent:g} %)",
        ),
        Alert(
            "BrainBackendLatencyHigh",
            f"{LATENCY['p95']} > {latency:g}",
            "10m",
            "warning",
            f"Backend {{{{ $labels.instance }}}} p95 latency is {{{{ $value | humanizeDuration }}}} "
            f"(threshold {thresholds.p95_latency_ms} ms)",
        ),
        Alert(
            "BrainTrafficUneven",
            f"{SHARE} > scalar({factor:g} / count({SHARE}))",
            "10m",
            "warning",
            f"Backend {{{{ $labels.instance }}}} takes {{{{ $value | humanizePercentage }}}} of the requests, "
            f"more than {factor:g} times its fair share",
        ),
        Alert(
            "BrainBroadcastUnsubscribed",
            f'brain_broadcast_subscribed{{job="{BACKEND_JOB}"}} == 0',
            "1m",
            "warning",
            "Backend {{ $labels.instance }} is not subscribed to the broadcast channel: its WebSocket clients "
            "miss broadcasts",
        ),
        Alert(
            "BrainAutoscalerAtMax",
            "kube_horizontalpodautoscaler_status_current_replicas"
            " >= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas",
            "15m",
            "warning",
            "Autoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been at its maximum "
            "of {{ $value }} replicas for 15 minutes",
        ),
    ]


def render_rules(thresholds: AlertThresholds) -> str:
    """The rules file (Prometheus' YAML format)."""
    groups = [
        {
            "name": "brain-load-distribution",
            "rules": [{"record": name, "expr": expr} for name, expr in RECORDING_RULES.items()],
        },
        {
            "name": "brain-alerts",
            "rules": [
                {
                    "alert": alert.name,
                    "expr": alert.expr,
                    "for": alert.hold,
                    "labels": {"severity": alert.severity},
                    "annotations": {"summary": alert.summary},
                }
                for alert in alerts(thresholds)
            ],
        },
    ]
    return yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000)
