"""/metrics: requests counted by instance, method, route template and status; connections counted per instance."""

from __future__ import annotations

import http.client

from tests.backend.conftest import StartBackend, metric_samples, metric_value


def test_requests_are_counted_by_instance_route_template_and_status(start_backend: StartBackend) -> None:
    backend = start_backend("backend-m")
    for _ in range(3):
        assert backend.get("/api/agents/info")[0] == 200
    for url in ("/no/such/page", "/another/one?x=1"):
        assert backend.get(url)[0] == 404

    labels = {"method": "GET", "instance": "backend-m"}
    assert metric_value(backend, "brain_http_requests_total", path="/api/agents/info", status="200", **labels) == 3
    # Unmatched URLs share one label value: a scanner cannot blow up the number of series.
    assert metric_value(backend, "brain_http_requests_total", path="<unmatched>", status="404", **labels) == 2
    count = metric_value(backend, "brain_http_request_duration_seconds_count", path="/api/agents/info", **labels)
    assert count == 3, f"the latency histogram saw {count} requests, expected 3"


def test_arbitrary_methods_share_one_label_value(start_backend: StartBackend) -> None:
    backend = start_backend("backend-m")
    for method in ("FROB", "XYZZY"):
        connection = http.client.HTTPConnection(backend.host, backend.port, timeout=5)
        connection.request(method, "/api/agents/info")
        assert connection.getresponse().status == 405
        connection.close()

    methods = {labels["method"] for labels, _ in metric_samples(backend, "brain_http_requests_total")}
    assert "OTHER" in methods and not methods & {"FROB", "XYZZY"}, methods


def test_every_series_names_the_instance(start_backend: StartBackend) -> None:
    backend = start_backend("backend-label")
    backend.get("/api/agents/info")
    for name in ("brain_http_requests_total", "brain_http_request_duration_seconds_bucket",
                 "brain_http_requests_in_progress", "brain_http_connections_total"):
        samples = metric_samples(backend, name)
        assert samples, f"/metrics has no {name}"
        assert {labels["instance"] for labels, _ in samples} == {"backend-label"}, (name, samples)
