"""What one load generator run measured (wrk or hey), and the runs of several generators merged into one.

Latency is kept as quantiles on a fine grid (every 1 % up to 90 %, then every 0.1 %), so that runs made side by
side against different backends can be merged: each quantile stands for its slice of that run's requests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

REPORTED = (50.0, 75.0, 90.0, 99.0, 99.9)


def quantile_grid() -> list[float]:
    """The percentiles a run keeps (bench/wrk_report.lua prints the same ones)."""
    return [float(p) for p in range(1, 90)] + [p / 10 for p in range(900, 1000)] + [99.95, 99.99]


@dataclass(frozen=True)
class LoadResult:
    """Request count, duration, status counts, errors and latency quantiles (ms) of one run (or merged runs)."""

    requests: int
    seconds: float
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    """Requests lost without a response (wrk: connect, read, write, timeout; hey: lost)."""
    quantiles_ms: dict[float, float]
    """Latency at each percentile of `quantile_grid()`."""
    min_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        """Responses other than 2xx, plus requests lost to connect, read, write errors or timeouts."""
        non_2xx = sum(count for status, count in self.statuses.items() if not status.startswith("2"))
        return non_2xx + sum(self.socket_errors.values())

    @property
    def latency_ms(self) -> dict[str, float]:
        """min, max and the reported percentiles (p50, p75, p90, p99, p99.9)."""
        return {"min": self.min_ms, "max": self.max_ms,
                **{f"p{p:g}": self.quantile(p) for p in REPORTED}}

    def quantile(self, p: float) -> float:
        """The latency at percentile `p` (the nearest one kept at or above it)."""
        return next((self.quantiles_ms[kept] for kept in sorted(self.quantiles_ms) if kept >= p),
                    self.max_ms)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "failed": self.failed,
            "statuses": self.statuses,
            "socket_errors": self.socket_errors,
            "latency_ms": self.latency_ms,
        }


def from_latencies(latencies_ms: Sequence[float], seconds: float, statuses: dict[str, int],
                   socket_errors: dict[str, int]) -> LoadResult:
    """A run from every request's latency (hey's CSV)."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return LoadResult(0, seconds, statuses, socket_errors, {}, math.nan, math.nan)
    quantiles = {p: ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] for p in quantile_grid()}
    return LoadResult(len(ordered), seconds, statuses, socket_errors, quantiles, ordered[0], ordered[-1])


def merged(runs: Sequence[LoadResult]) -> LoadResult:
    """Runs made at the same time against different targets, as one: requests and errors add up, the duration
    is the longest, latency quantiles come from every run's quantiles weighted by its requests."""
    slices: list[tuple[float, float]] = []  # (latency, share of all requests)
    total = sum(run.requests for run in runs) or 1
    for run in runs:
        previous = 0.0
        for p in sorted(run.quantiles_ms):
            slices.append((run.quantiles_ms[p], (p - previous) / 100 * run.requests / total))
            previous = p
    slices.sort()
    quantiles: dict[float, float] = {}
    cumulative, index = 0.0, 0
    for p in quantile_grid():
        while index < len(slices) and cumulative + slices[index][1] < p / 100 - 1e-12:
            cumulative += slices[index][1]
            index += 1
        quantiles[p] = slices[min(index, len(slices) - 1)][0] if slices else math.nan
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for run in runs:
        for status, count in run.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        for kind, count in run.socket_errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(
        requests=sum(run.requests for run in runs), seconds=max(run.seconds for run in runs),
        statuses=dict(sorted(statuses.items())), socket_errors=errors, quantiles_ms=quantiles,
        min_ms=min(run.min_ms for run in runs), max_ms=max(run.max_ms for run in runs),
    )
