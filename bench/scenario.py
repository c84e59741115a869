"""What every scenario shares: the run profile (how long and how much), targets, and the result it records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Profile:
    """How long and how hard each scenario runs: `FULL` (make bench), `QUICK` (make bench-quick: the targets
    in a minute) and `SMOKE` (every code path for a moment, numbers meaningless: the smoke test)."""

    name: str
    load_seconds: float
    """Each throughput run (wrk, hey) and the steady load of the keepalive count."""
    warm_up_seconds: float
    """Unmeasured load before a comparison: opens nginx's upstream pools, wakes every process up."""
    rounds: int
    """Interleaved rounds of a side-by-side comparison; each configuration's median is reported."""
    latency_seconds: float
    """Each low-load latency run (one connection)."""
    latency_rounds: int
    settle_seconds: float
    """Load before, between and after the kills and restarts of the failover scenarios."""
    websocket_client_counts: tuple[int, ...]
    """Fleet sizes of the broadcast scenario, one after the other."""
    broadcasts: int
    hold_seconds: float
    """How long the WebSockets stay open, idle, before the broadcasts."""
    fail_timeout: str | None
    """The balancer's fail_timeout in the failover scenarios; None: the stack's default."""
    scaling_capacities: int
    """How many of `scaling.CAPACITIES` to measure (the quick run: the seed's only)."""
    hey_requests_per_100_clients: int
    """`hey -n` of the description's commands for every 100 clients (10,000); 0: no hey rows."""


FULL = Profile(
    "full", load_seconds=10, warm_up_seconds=2, rounds=3, latency_seconds=5, latency_rounds=6, settle_seconds=3,
    websocket_client_counts=(250, 1000, 3000), broadcasts=30, hold_seconds=5, fail_timeout=None, scaling_capacities=2,
    hey_requests_per_100_clients=10000,
)
QUICK = Profile(
    "quick", load_seconds=1.5, warm_up_seconds=0.3, rounds=1, latency_seconds=1, latency_rounds=2,
    settle_seconds=0.5, websocket_client_counts=(1000,), broadcasts=10, hold_seconds=0.5, fail_timeout=None, scaling_capacities=1,
    hey_requests_per_100_clients=0,
)
SMOKE = Profile(
    "smoke", load_seconds=0.5, warm_up_seconds=0.2, rounds=1, latency_seconds=0.5, latency_rounds=2,
    settle_seconds=0.3, websocket_client_counts=(30,), broadcasts=3, hold_seconds=0.2, fail_timeout="1s",
    scaling_capacities=2, hey_requests_per_100_clients=300,
)


@dataclass(frozen=True)
class Capacity:
    """A backend of fixed capacity: at most `concurrency` requests at once, each taking `service_ms`."""

    concurrency: int = 10
    service_ms: float = 10.0

    @property
    def nominal_rps(self) -> float:
        return self.concurrency * 1000 / self.service_ms

    @property
    def env(self) -> dict[str, str]:
        return {"MAX_CONCURRENCY": str(self.concurrency), "RESPONSE_DELAY_MS": f"{self.service_ms:g}"}

    @property
    def label(self) -> str:
        return f"{self.nominal_rps:,.0f} req/s per backend"

    def as_json(self) -> dict[str, Any]:
        return {"max_concurrency": self.concurrency, "service_ms": self.service_ms, "nominal_rps": self.nominal_rps}


@dataclass(frozen=True)
class Target:
    """One of DESIGN.md's performance targets, with the value measured against it."""

    name: str
    goal: str
    measured: float
    unit: str
    passed: bool

    @classmethod
    def at_most(cls, name: str, limit: float, measured: float, unit: str = "") -> Target:
        return cls(name, f"<= {limit:g}{unit and ' ' + unit}", measured, unit, measured <= limit)

    @classmethod
    def below(cls, name: str, limit: float, measured: float, unit: str = "") -> Target:
        return cls(name, f"< {limit:g}{unit and ' ' + unit}", measured, unit, measured < limit)

    @classmethod
    def at_least(cls, name: str, limit: float, measured: float, unit: str = "") -> Target:
        return cls(name, f">= {limit:g}{unit and ' ' + unit}", measured, unit, measured >= limit)


@dataclass
class ScenarioResult:
    """Everything one scenario measured; written as `bench/results/<name>.json`."""

    name: str
    title: str
    description: str
    parameters: dict[str, Any]
    measurements: dict[str, Any]
    targets: list[Target]
    cpu: list[dict[str, Any]] = field(default_factory=list)
    """One entry per measured run: what each process group used (see bench/machine.py)."""
    notes: list[str] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    """The headline figures `make bench-quick` collects in quick.json, e.g. `scaling_efficiency`."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank `p`th percentile (p in 0..100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]
