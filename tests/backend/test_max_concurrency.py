"""MAX_CONCURRENCY: requests over the cap wait their turn and are all answered, so a replica has a fixed capacity."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.backend.conftest import StartBackend

DELAY_MS = 400
CAP = 2
REQUESTS = 6


def test_requests_over_the_cap_are_queued_not_refused(start_backend: StartBackend) -> None:
    backend = start_backend("backend-capped", {"RESPONSE_DELAY_MS": str(DELAY_MS), "MAX_CONCURRENCY": str(CAP)})
    started = time.monotonic()
    with ThreadPoolExecutor(REQUESTS) as pool:
        answers = list(pool.map(lambda _: backend.get("/api/agents/info", timeout=30), range(REQUESTS)))
    elapsed = time.monotonic() - started
    assert [status for status, _ in answers] == [200] * REQUESTS, f"every request must be answered: {answers}"
    # A lower bound, whatever the machine's speed: 6 requests through 2 slots take at least 3 service times.
    waves = REQUESTS // CAP
    assert elapsed >= waves * DELAY_MS / 1000, (
        f"{REQUESTS} requests with MAX_CONCURRENCY={CAP} took {elapsed:.2f} s, expected at least {waves} waves "
        f"of {DELAY_MS} ms: more than {CAP} were served at once"
    )
