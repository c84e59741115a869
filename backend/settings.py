"""The backend's settings, read once from the environment and checked.

Service:
- `INSTANCE_ID`: the name this replica reports (default: the hostname, i.e. the pod or container name).
- `INSTANCE_NUMBER`: the replica's number, reported by `/api/agents/info` (optional, a positive integer).
- `HOST` (default `0.0.0.0`) and `PORT` (default 8000): where it listens.

Dependencies (each optional; readiness checks only what is configured; an empty value means "not configured"):
- `DATABASE_URL` (PostgreSQL), `REDIS_URL`, `QDRANT_URL` with `QDRANT_API_KEY`.
- Without `REDIS_URL`, a broadcast reaches only this process's WebSocket clients.

Connections:
- `KEEPALIVE_TIMEOUT_SECONDS` (default 75): how long an idle keep-alive connection stays open. Keep it longer
  than the balancer's upstream `keepalive_timeout` (nginx: 60 s), so the balancer closes idle pooled
  connections, never the backend under a request that is already on its way.

Shutdown:
- `DRAIN_SECONDS` (default 0; the image sets 5): after SIGTERM, keep serving for this long with readiness 503
  so a balancer can notice, then stop accepting and let in-flight requests finish.

Test and benchmark knobs:
- `RESPONSE_DELAY_MS` (default 0): a fixed service time added to `/api/agents/info`, so a replica can be made
  slow (least_conn tests) or given a known capacity (benchmarks).
- `ACCESS_LOG` (default 1): 0 turns uvicorn's per-request log off, which costs CPU under load.
- `MAX_CONCURRENCY` (default: unlimited): at most this many `/api/agents/info` requests are served at once;
  the others wait their turn (queued, never refused). With `RESPONSE_DELAY_MS` it fixes a replica's capacity.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

Number = TypeVar("Number", int, float)
Default = TypeVar("Default")

GRACEFUL_SHUTDOWN_SECONDS = 20
"""How long in-flight requests may take after the drain window; within Docker's and Kubernetes' 30 s grace.
Fixed, not read from the environment; here so the deploy tests can read it without importing the server."""


class SettingsError(ValueError):
    """One or more environment variables have values the backend cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the backend reads from its environment."""

    instance_id: str
    instance_number: int | None
    host: str
    port: int
    # URLs and the key carry credentials: kept out of repr so a logged Settings never shows them.
    database_url: str | None = field(repr=False)
    redis_url: str | None = field(repr=False)
    qdrant_url: str | None
    qdrant_api_key: str | None = field(repr=False)
    response_delay_ms: float
    keepalive_timeout_seconds: int
    drain_seconds: float
    access_log: bool
    max_concurrency: int | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; all problems are reported together, each naming the variable."""
        reader = _EnvReader(os.environ if env is None else env)
        settings = cls(
            instance_id=reader.text("INSTANCE_ID") or socket.gethostname(),
            instance_number=reader.number("INSTANCE_NUMBER", None, int, minimum=1, allowed="a positive integer"),
            host=reader.text("HOST") or "0.0.0.0",
            port=reader.number("PORT", 8000, int, minimum=1, maximum=65535, allowed="an integer from 1 to 65535"),
            database_url=reader.text("DATABASE_URL"),
            redis_url=reader.text("REDIS_URL"),
            qdrant_url=reader.text("QDRANT_URL"),
            qdrant_api_key=reader.text("QDRANT_API_KEY"),
            response_delay_ms=reader.number("RESPONSE_DELAY_MS", 0.0, float, minimum=0, allowed="a number >= 0"),
            keepalive_timeout_seconds=reader.number(
                "KEEPALIVE_TIMEOUT_SECONDS", 75, int, minimum=1, allowed="a whole number of seconds >= 1"
            ),
            drain_seconds=reader.number("DRAIN_SECONDS", 0.0, float, minimum=0, allowed="a number >= 0"),
            access_log=reader.flag("ACCESS_LOG", True),
            max_concurrency=reader.number("MAX_CONCURRENCY", None, int, minimum=1, allowed="a positive integer"),
        )
        if reader.problems:
            raise SettingsError("\n".join(reader.problems))
        return settings


class _EnvReader:
    """Reads typed values from the environment and collects a message per bad value."""

    def __init__(self, env: Mapping[str, str]):
        self._env = env
        self.problems: list[str] = []

    def text(self, key: str) -> str | None:
        value = self._env.get(key, "").strip()
        return value or None

    def number(
        self,
        key: str,
        default: Default,
        parse: Callable[[str], Number],
        *,
        allowed: str,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Number | Default:
        raw = self.text(key)
        if raw is None:
            return default
        try:
            value = parse(raw)
        except ValueError:
            value = None
        if (
            value is None
            or not math.isfinite(value)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            self.problems.append(f"{key}={raw!r} is not valid: expected {allowed}")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.text(key)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{key}={raw!r} is not valid: expected 1/true/yes/on or 0/false/no/off")
        return default
