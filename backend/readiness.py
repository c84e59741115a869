"""Readiness: whether this replica should get traffic. Each configured dependency is checked concurrently
under a short timeout, so a probe never hangs; a draining replica is not ready whatever its dependencies say.

The answer names each check and whether it passed, never why not: /health/ready is reachable through the
public balancer, and an exception's text carries internal addresses. Why goes to the log, once per change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx

from backend.drain import Draining

CHECK_TIMEOUT_SECONDS = 1
OK = "ok"
FAILED = "failed"
TIMED_OUT = "timed out"

logger = logging.getLogger("backend.readiness")


Check = Callable[[], Awaitable[None]]
"""Returns when the dependency is usable; raises otherwise."""


@dataclass
class Readiness:
    """The named checks of the configured dependencies, plus the drain state."""

    draining: Draining
    checks: dict[str, Check] = field(default_factory=dict)
    _logged: dict[str, str] = field(default_factory=dict, init=False)
    """The last detail logged per check, so a dependency that stays down is logged once, not every probe."""

    async def evaluate(self) -> tuple[bool, str, dict[str, str]]:
        """(ready, status, per-check outcome): "ok", "failed" or "timed out"; the details go to the log."""
        if self.draining.active:
            return False, "draining", {}
        names = list(self.checks)
        details = await asyncio.gather(*(_run_bounded(self.checks[name]) for name in names))
        results = {}
        for name, (outcome, detail) in zip(names, details, strict=True):
            results[name] = outcome
            self._log_change(name, detail)
        ready = all(outcome == OK for outcome in results.values())
        return ready, "ready" if ready else "not ready", results

    def _log_change(self, name: str, detail: str) -> None:
        previous = self._logged.get(name, OK)
        if detail != previous:
            if detail == OK:
                logger.info("readiness check %s passes again", name)
            else:
                logger.warning("readiness check %s fails: %s", name, detail)
        self._logged[name] = detail


async def _run_bounded(check: Check) -> tuple[str, str]:
    """(outcome, detail): what the answer shows, and what the log does."""
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return TIMED_OUT, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as error:  # any failure of a dependency means "not ready", never a crash of the probe
        return FAILED, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return OK, OK


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
