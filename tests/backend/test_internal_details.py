"""Failures answer without internal details (addresses, exception text): /health/ready and a 503 are reachable
through the public balancer. The details are in the replica's log, where the operator looks."""

from __future__ import annotations

import re

import httpx

from tests.backend.conftest import StartBackend
from tests.support.processes import LOOPBACK, free_port, wait_until

LEAKS = re.compile(r"\d+\.\d+\.\d+\.\d+|:\d{2,5}\b|Error|Errno|refused|redis://", re.IGNORECASE)
"""What a dependency failure's text carries: addresses, ports, exception names and messages, URLs."""


def test_unready_and_503_answers_name_no_internal_detail_which_the_log_has(start_backend: StartBackend) -> None:
    nobody = free_port()  # Redis configured where nothing listens
    backend = start_backend("backend-closed-lips", {"REDIS_URL": f"redis://{LOOPBACK}:{nobody}/0"}, wait_for="/health/live")

    status, ready = backend.get("/health/ready")
    assert status == 503 and ready["checks"] == {"redis": "failed", "redis_subscription": "failed"}, ready
    assert not LEAKS.search(str(ready)), f"/health/ready shows internal detail: {ready}"

    published = httpx.post(f"{backend.base_url}/api/broadcast", json={"broadcast": 1}, timeout=5)
    assert published.status_code == 503, published.text
    assert not LEAKS.search(published.text), f"the 503 shows internal detail: {published.text}"

    def logged() -> bool:
        log = backend.log_tail(200)
        return "readiness check redis fails" in log and str(nobody) in log and "broadcast not published" in log

    wait_until(logged, 5, "the failures' details in the backend's log")
