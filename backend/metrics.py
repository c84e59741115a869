"""Prometheus metrics of one backend process, every series labelled by instance.

`path` is the route template (`/ws/{path:path}`), never the raw URL, so the number of series stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The `*_created` timestamp series double the output and no dashboard of ours reads them.
disable_created_metrics()

UNMATCHED_PATH = "<unmatched>"
"""The `path` label of requests no route matched (404s), whatever their URL."""
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
"""The `method` label of any other method: a client can send arbitrary method names."""


class Metrics:
    """The process's registry and the series the backend records."""

    def __init__(self, instance: str):
        self.instance = instance
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "brain_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "path", "status", "instance"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "brain_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "path", "instance"],
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "brain_http_requests_in_progress",
            "HTTP requests being served right now (including the scrape itself).",
            ["instance"],
            registry=self.registry,
        ).labels(instance=instance)
        self.websocket_clients = Gauge(
            "brain_websocket_clients",
            "WebSocket clients connected to this process (the ones a broadcast is delivered to).",
            ["instance"],
            registry=self.registry,
        ).labels(instance=instance)
        self._connections = Counter(
            "brain_http_connections_total",
            "TCP connections accepted; far fewer than requests when clients (nginx) reuse them.",
            ["instance"],
            registry=self.registry,
        ).labels(instance=instance)
        self.connections_accepted = 0
        self.ready = Gauge(
            "brain_backend_ready",
            "1 while this replica's readiness checks pass (evaluated at each scrape), 0 while it should get no traffic.",
            ["instance"],
            registry=self.registry,
        ).labels(instance=instance)

    def track_broadcast_subscription(self, subscribed: Callable[[], bool]) -> None:
        """Exposes `brain_broadcast_subscribed` (only with Redis: without it there is no channel to be on)."""
        Gauge(
            "brain_broadcast_subscribed",
            "1 while this replica is subscribed to the Redis broadcast channel; 0 means its clients miss broadcasts.",
            ["instance"],
            registry=self.registry,
        ).labels(instance=self.instance).set_function(lambda: float(subscribed()))

    def connection_accepted(self) -> None:
        """Called by the server's protocol for each new TCP connection."""
        self.connections_accepted += 1
        self._connections.inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every series."""
        return generate_latest(self.registry)


class RequestMetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI: no per-request task or body copy)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before starting a response
        started = time.perf_counter()

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            self.metrics.in_progress.dec()
            path = getattr(scope.get("route"), "path", None)
            if not isinstance(path, str):
                path = UNMATCHED_PATH
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            instance = self.metrics.instance
            self.metrics.requests.labels(method=method, path=path, status=str(status), instance=instance).inc()
            self.metrics.duration.labels(method=method, path=path, instance=instance).observe(
                time.perf_counter() - started
            )
