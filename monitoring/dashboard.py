"""The load-distribution dashboard, built with Grafana's own SDK (grafana-foundation-sdk), as JSON.

Panels read the recording rules (cheap, and the same numbers the alerts judge) and nginx's stub_status
metrics; nothing uses Grafana variables, so every expression is plain PromQL a test can run as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common, dashboard, prometheus, statetimeline, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from monitoring.rules import ERROR_RATIO, LATENCY, REQUESTS, SHARE

DASHBOARD_UID = "brain-load-distribution"
DATASOURCE_UID = "prometheus"
"""The provisioned Prometheus data source's uid, which every panel refers to."""
PANEL_WIDTH = 12
PANEL_HEIGHT = 8


@dataclass(frozen=True)
class Query:
    """One line (or set of lines) of a panel: PromQL and the legend that names each series."""

    expr: str
    legend: str = "{{instance}}"


@dataclass(frozen=True)
class PanelSpec:
    """What a panel shows: a title, a unit (Grafana's unit ids) and its queries; `states` draws a timeline."""

    title: str
    unit: str
    queries: tuple[Query, ...]
    states: bool = False


BACKEND_PANELS = (
    PanelSpec("Requests per second by instance", "reqps", (Query(REQUESTS),)),
    PanelSpec("Share of requests by instance", "percentunit", (Query(SHARE),)),
    PanelSpec(
        "Latency p50 / p95 / p99 by instance",
        "s",
        tuple(Query(LATENCY[name], f"{{{{instance}}}} {name}") for name in LATENCY),
    ),
    PanelSpec("5xx ratio by instance", "percentunit", (Query(ERROR_RATIO),)),
    PanelSpec("WebSocket clients by instance", "short", (Query("sum by (instance) (brain_websocket_clients)"),)),
    PanelSpec(
        "Broadcast subscription (1 = subscribed) and readiness",
        "short",
        (
            Query("max by (instance) (brain_broadcast_subscribed)", "{{instance}} subscribed"),
            Query("max by (instance) (brain_backend_ready)", "{{instance}} ready"),
        ),
        states=True,
    ),
)
NGINX_PANELS = (
    PanelSpec(
        "nginx connections",
        "short",
        tuple(
            Query(f"sum by (instance) (nginx_connections_{state})", f"{{{{instance}}}} {state}")
            for state in ("active", "reading", "writing", "waiting")
        ),
    ),
    PanelSpec(
        "nginx connections accepted / handled per second",
        "cps",
        tuple(
            Query(f"sum by (instance) (rate(nginx_connections_{kind}[5m]))", f"{{{{instance}}}} {kind}")
            for kind in ("accepted", "handled")
        ),
    ),
)
AUTOSCALER_PANELS = (
    PanelSpec(
        "Autoscaler replicas: current / desired / max",
        "short",
        tuple(
            Query(f"kube_horizontalpodautoscaler_{series}", f"{{{{horizontalpodautoscaler}}}} {name}")
            for name, series in (
                ("current", "status_current_replicas"),
                ("desired", "status_desired_replicas"),
                ("max", "spec_max_replicas"),
            )
        ),
    ),
)


def panel_specs(with_autoscaler: bool) -> tuple[PanelSpec, ...]:
    """The dashboard's panels in order; eks adds the autoscaler's (kube-state-metrics exists only there)."""
    return BACKEND_PANELS + NGINX_PANELS + (AUTOSCALER_PANELS if with_autoscaler else ())


def _panel(spec: PanelSpec) -> timeseries.Panel | statetimeline.Panel:
    panel = statetimeline.Panel() if spec.states else timeseries.Panel()
    panel.title(spec.title).unit(spec.unit).span(PANEL_WIDTH).height(PANEL_HEIGHT).datasource(
        DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
    ).legend(
        common.VizLegendOptions().show_legend(True).display_mode(LegendDisplayMode.LIST).placement(
            LegendPlacement.BOTTOM
        )
    )
    for ref, query in zip("ABCDEFGH", spec.queries):
        panel.with_target(prometheus.Dataquery().expr(query.expr).legend_format(query.legend).ref_id(ref))
    return panel


def render_dashboard(with_autoscaler: bool) -> str:
    """The dashboard as Grafana's JSON model (what a provisioned dashboard file or ConfigMap holds)."""
    builder = (
        dashboard.Dashboard("BRAiN load distribution")
        .uid(DASHBOARD_UID)
        .tags(["brain"])
        .refresh("30s")
        .time("now-1h", "now")
        .editable()
    )
    for spec in panel_specs(with_autoscaler):
        builder.with_panel(_panel(spec))
    return json.dumps(builder.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def dashboard_expressions(with_autoscaler: bool) -> list[str]:
    """Every PromQL expression the dashboard runs."""
    return [query.expr for spec in panel_specs(with_autoscaler) for query in spec.queries]
