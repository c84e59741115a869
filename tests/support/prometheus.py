"""Debian's Prometheus and nginx exporter on loopback, for the live monitoring test; a missing binary skips
locally and fails under CI=true (tests/support/processes.py)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.processes import (
    LOOPBACK,
    STARTUP_TIMEOUT_SECONDS,
    ManagedProcess,
    free_port,
    require_binary,
    wait_until,
)

QUERY_TIMEOUT_SECONDS = 10


class NginxExporter(ManagedProcess):
    """prometheus-nginx-exporter reading `status_url` (nginx's stub_status)."""

    def __init__(self, work_dir: Path, status_url: str):
        binary = require_binary("prometheus-nginx-exporter", Path("/usr/bin/prometheus-nginx-exporter"))
        self.address = f"{LOOPBACK}:{free_port()}"
        # Go's flag package takes `--flag` as well as `-flag`: the same spelling as the container's newer exporter.
        command = [binary, f"--nginx.scrape-uri={status_url}", f"--web.listen-address={self.address}"]
        super().__init__(f"nginx exporter at {self.address}", command, work_dir / "nginx-exporter.log")

    def start(self) -> None:
        super().start()
        wait_until(lambda: self.check_alive() or _answers(f"http://{self.address}/metrics"), STARTUP_TIMEOUT_SECONDS,
                   f"{self.name} to serve /metrics")


class PrometheusServer(ManagedProcess):
    """prometheus with `config_dir`/prometheus.yml (and the rules file beside it), its data in `work_dir`."""

    def __init__(self, work_dir: Path, config_dir: Path):
        binary = require_binary("prometheus", Path("/usr/bin/prometheus"))
        self.address = f"{LOOPBACK}:{free_port()}"
        command = [
            binary,
            f"--config.file={config_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={work_dir / 'prometheus-data'}",
            f"--web.listen-address={self.address}",
        ]
        super().__init__(f"prometheus at {self.address}", command, work_dir / "prometheus.log")

    def start(self) -> None:
        super().start()
        wait_until(lambda: self.check_alive() or _answers(f"http://{self.address}/-/ready"), STARTUP_TIMEOUT_SECONDS,
                   f"{self.name} to be ready")

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/`path`; returns `data`, failing with Prometheus' own error otherwise."""
        url = f"http://{self.address}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=QUERY_TIMEOUT_SECONDS) as response:
            body = json.load(response)
        assert body["status"] == "success", f"{url}: {body}"
        return body["data"]

    def query(self, expr: str) -> dict[str, float]:
        """An instant query: value by `instance` label (every series must have one, and only one per instance)."""
        data = self.api("query", query=expr)
        values: dict[str, float] = {}
        for series in data["result"]:
            instance = series["metric"].get("instance")
            assert instance is not None, f"{expr}: a series without an instance label: {series['metric']}"
            assert instance not in values, f"{expr}: two series for instance {instance}: {data['result']}"
            values[instance] = float(series["value"][1])
        return values

    def query_range(
        self, expr: str, start: float, end: float, step: float
    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """A range query: (labels, [(time, value)]) per series."""
        data = self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")
        return [
            (series["metric"], [(float(t), float(v)) for t, v in series["values"]]) for series in data["result"]
        ]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
