"""Readiness: whether this replica should get traffic. Each configured dependency is checked concurrently
under a short timeout, so a probe never hangs; a draining replica is not ready whatever its dependencies say."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx

from backend.drain import Draining

CHECK_TIMEOUT_SECONDS = 1
OK = "ok"


Check = Callable[[], Awaitable[None]]
"""Returns when the dependency is usable; raises otherwise."""


@dataclass
class Readiness:
    """The named checks of the configured dependencies, plus the drain state."""

    draining: Draining
    checks: dict[str, Check] = field(default_factory=dict)

    async def evaluate(self) -> tuple[bool, str, dict[str, str]]:
        """(ready, status, per-check result): every result is "ok" or says what failed."""
        if self.draining.active:
            return False, "draining", {}
        names = list(self.checks)
        outcomes = await asyncio.gather(*(_run_bounded(self.checks[name]) for name in names))
        results = dict(zip(names, outcomes, strict=True))
        ready = all(outcome == OK for outcome in outcomes)
        return ready, "ready" if ready else "not ready", results


async def _run_bounded(check: Check) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"timed out after {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as error:  # any failure of a dependency means "not ready", never a crash of the probe
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return OK


def postgres_check(database_url: str) -> Check:
    """A fresh connection and `SELECT 1`: proves the server accepts our credentials, not just TCP."""

    async def check() -> None:
        connection = await asyncpg.connect(database_url, timeout=CHECK_TIMEOUT_SECONDS)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close(timeout=CHECK_TIMEOUT_SECONDS)

    return check


def qdrant_check(client: httpx.AsyncClient) -> Check:
    """Qdrant's own readiness endpoint; the client carries the base URL and API key."""

    async def check() -> None:
        response = await client.get("/readyz")
        response.raise_for_status()

    return check
