"""The rules file as Prometheus reads it: `promtool check rules`, and `promtool test rules` on synthetic series
proving each alert fires when it should (after its `for`) and stays silent when it should not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import AlertThresholds
from monitoring import RULES_FILE, alerts, render_rules
from tests.unit.monitoring.promtool import promtool

BACKEND = {"job": "brain-backend"}


def _series(name: str, values: str, **labels: str) -> dict[str, str]:
    rendered = ",".join(f'{key}="{value}"' for key, value in {**BACKEND, **labels}.items())
    return {"series": f"{name}{{{rendered}}}", "values": values}


def _requests(instance: str, per_minute: int, status: str = "200", minutes: int = 30) -> dict[str, str]:
    return _series(
        "brain_http_requests_total", f"0+{per_minute}x{minutes}",
        instance=instance, method="GET", path="/api/agents/info", status=status,
    )


def _alert(name: str, at: str, fired: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": fired}


def _fired(severity: str, summary: str, **labels: str) -> dict[str, Any]:
    return {"exp_labels": {"severity": severity, **labels}, "exp_annotations": {"summary": summary}}


UP_AND_READY = {
    "input_series": [
        _series("up", "1 1 0 0 0 0 0", instance="backend-1"),
        _series("up", "1 1 1 1 1 1 1", instance="backend-2"),
        _series("brain_backend_ready", "1 0 0 0 0 0 0", instance="backend-1"),
        _series("brain_backend_ready", "1 1 1 1 1 1 1", instance="backend-2"),
        _series("brain_broadcast_subscribed", "1 1 0 0 0 0 0", instance="backend-1"),
        _series("brain_broadcast_subscribed", "1 1 1 1 1 1 1", instance="backend-2"),
    ],
    "alert_rule_test": [
        # Down since 2m: pending until its minute is up, then firing; backend-2 never.
        _alert("BrainBackendDown", "2m30s", []),
        _alert(
            "BrainBackendDown", "4m",
            [
                _fired(
                    "critical", "Backend backend-1 is down: Prometheus cannot scrape it",
                    **BACKEND, instance="backend-1",
                )
            ],
        ),
        _alert("BrainBackendNotReady", "2m", []),
        _alert(
            "BrainBackendNotReady", "4m",
            [
                _fired(
                    "warning", "Backend backend-1 is not ready: a dependency is down or it is draining",
                    **BACKEND, instance="backend-1",
                )
            ],
        ),
        _alert("BrainBroadcastUnsubscribed", "2m30s", []),
        _alert(
            "BrainBroadcastUnsubscribed", "4m",
            [
                _fired(
                    "warning",
                    "Backend backend-1 is not subscribed to the broadcast channel: "
                    "its WebSocket clients miss broadcasts",
                    **BACKEND, instance="backend-1",
                )
            ],
        ),
    ],
}

ERRORS = {
    "input_series": [
        # backend-1: 10 % of answers are 500s; backend-2: 1 %.
        _requests("backend-1", 90), _requests("backend-1", 10, status="500"),
        _requests("backend-2", 99), _requests("backend-2", 1, status="500"),
    ],
    "alert_rule_test": [
        _alert("BrainBackendErrorRatioHigh", "4m", []),
        _alert(
            "BrainBackendErrorRatioHigh", "15m",
            [
                _fired(
                    "critical", "Backend backend-1 answers 10% of requests with 5xx (threshold 5 %)",
                    instance="backend-1",
                )
            ],
        ),
    ],
}


def _latency(instance: str, fast_per_minute: int, slow_per_minute: int) -> list[dict[str, str]]:
    """A histogram with buckets 0.1 s and 1 s: `fast` requests under 0.1 s, `slow` ones between 0.1 s and 1 s."""
    total = fast_per_minute + slow_per_minute
    return [
        _series("brain_http_request_duration_seconds_bucket", f"0+{count}x30",
                instance=instance, method="GET", path="/api/agents/info", le=le)
        for le, count in (("0.1", fast_per_minute), ("1", total), ("+Inf", total))
    ]


LATENCY = {
    "input_series": [*_latency("backend-1", 0, 100), *_latency("backend-2", 100, 0)],
    "alert_rule_test": [
        # backend-1's p95 sits in its 0.1-1 s bucket: 0.1 + 0.9 * 0.95 = 0.955 s; backend-2's is 0.095 s.
        _alert("BrainBackendLatencyHigh", "9m", []),
        _alert(
            "BrainBackendLatencyHigh", "20m",
            [_fired("warning", "Backend backend-1 p95 latency is 955ms (threshold 500 ms)", instance="backend-1")],
        ),
    ],
}

UNEVEN = {
    "input_series": [
        _requests("backend-1", 700),
        *(_requests(f"backend-{n}", 100) for n in (2, 3, 4)),
    ],
    "alert_rule_test": [
        # Fair share is 1/4: backend-1's 70 % is above twice that; the others' 10 % are not.
        _alert("BrainTrafficUneven", "9m", []),
        _alert(
            "BrainTrafficUneven", "20m",
            [
                _fired(
                    "warning",
                    "Backend backend-1 takes 70% of the requests, more than 2 times its fair share",
                    instance="backend-1",
                )
            ],
        ),
    ],
}

WEIGHTED_SHARES = {
    "input_series": [
        # 2:1:1 at 300, 150 and 150 requests a minute (5, 2.5 and 2.5 per second: exact in binary floats);
        # one in five of backend-1's answers is a 503.
        _requests("backend-1", 240), _requests("backend-1", 60, status="503"),
        _requests("backend-2", 150), _requests("backend-3", 150),
        # Prometheus' own scrapes are no client traffic: they must not flatten the shares.
        _series(
            "brain_http_requests_total", "0+1000x30",
            instance="backend-3", method="GET", path="/metrics", status="200",
        ),
    ],
    "promql_expr_test": [
        {
            "expr": "instance:brain_http_requests:rate5m",
            "eval_time": "10m",
            "exp_samples": [
                {"labels": 'instance:brain_http_requests:rate5m{instance="backend-1"}', "value": 5},
                {"labels": 'instance:brain_http_requests:rate5m{instance="backend-2"}', "value": 2.5},
                {"labels": 'instance:brain_http_requests:rate5m{instance="backend-3"}', "value": 2.5},
            ],
        },
        {
            "expr": "instance:brain_http_requests:share_rate5m",
            "eval_time": "10m",
            "exp_samples": [
                {"labels": 'instance:brain_http_requests:share_rate5m{instance="backend-1"}', "value": 0.5},
                {"labels": 'instance:brain_http_requests:share_rate5m{instance="backend-2"}', "value": 0.25},
                {"labels": 'instance:brain_http_requests:share_rate5m{instance="backend-3"}', "value": 0.25},
            ],
        },
        {
            "expr": "instance:brain_http_requests_5xx:ratio_rate5m",
            "eval_time": "10m",
            "exp_samples": [
                {"labels": 'instance:brain_http_requests_5xx:ratio_rate5m{instance="backend-1"}', "value": 0.2},
                # No 5xx series at all: 0, not a gap in the panel.
                {"labels": 'instance:brain_http_requests_5xx:ratio_rate5m{instance="backend-2"}', "value": 0},
                {"labels": 'instance:brain_http_requests_5xx:ratio_rate5m{instance="backend-3"}', "value": 0},
            ],
        },
    ],
}


def _autoscaler(name: str, current: int, maximum: int) -> list[dict[str, str]]:
    labels = {"namespace": "brain", "horizontalpodautoscaler": name, "job": "kube-state-metrics"}
    return [
        {"series": f"kube_horizontalpodautoscaler_status_current_replicas{_labels(labels)}", "values": f"{current}x30"},
        {"series": f"kube_horizontalpodautoscaler_spec_max_replicas{_labels(labels)}", "values": f"{maximum}x30"},
    ]


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


AUTOSCALER = {
    "input_series": [*_autoscaler("brain-backend", 10, 10), *_autoscaler("other", 5, 10)],
    "alert_rule_test": [
        _alert("BrainAutoscalerAtMax", "14m", []),
        _alert(
            "BrainAutoscalerAtMax", "16m",
            [
                _fired(
                    "warning",
                    "Autoscaler brain/brain-backend has been at its maximum of 10 replicas for 15 minutes",
                    namespace="brain", horizontalpodautoscaler="brain-backend",
                )
            ],
        ),
    ],
}

CASES = {
    "down-not-ready-unsubscribed": UP_AND_READY,
    "error-ratio": ERRORS,
    "latency": LATENCY,
    "uneven-traffic": UNEVEN,
    "weighted-shares": WEIGHTED_SHARES,
    "autoscaler": AUTOSCALER,
}


def _write_rules(directory: Path, thresholds: AlertThresholds = AlertThresholds()) -> Path:
    path = directory / RULES_FILE
    path.write_text(render_rules(thresholds))
    return path


def _run_rule_tests(directory: Path, case: dict[str, Any]) -> None:
    """`promtool test rules` on one case (series, expected alerts and samples) against the rules in `directory`."""
    test_file = directory / "test.yml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": [RULES_FILE], "evaluation_interval": "1m", "tests": [{"interval": "1m", **case}]}
        )
    )
    promtool("test", "rules", test_file, cwd=directory)


def test_promtool_accepts_the_rules_file(tmp_path: Path) -> None:
    output = promtool("check", "rules", _write_rules(tmp_path))
    assert "SUCCESS" in output, output


@pytest.mark.parametrize("case", CASES)
def test_rules_behave_on_synthetic_series(case: str, tmp_path: Path) -> None:
    _write_rules(tmp_path)
    _run_rule_tests(tmp_path, CASES[case])


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    tested = {
        (test["alertname"], bool(test["exp_alerts"]))
        for case in CASES.values()
        for test in case.get("alert_rule_test", [])
    }
    for alert in alerts(AlertThresholds()):
        assert (alert.name, True) in tested, f"no synthetic series makes {alert.name} fire"
        assert (alert.name, False) in tested, f"no synthetic series keeps {alert.name} silent"


def test_thresholds_come_from_config(tmp_path: Path) -> None:
    """With a 20 % error threshold, backend-1's 10 % no longer fires."""
    _write_rules(tmp_path, AlertThresholds(error_ratio_percent=20))
    quiet = {**ERRORS, "alert_rule_test": [_alert("BrainBackendErrorRatioHigh", "15m", [])]}
    _run_rule_tests(tmp_path, quiet)
