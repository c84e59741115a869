"""SIGTERM: readiness turns 503 at once, the drain window keeps serving, in-flight work finishes, exit 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.backend.conftest import StartBackend, metric_value, receive_json
from tests.support.processes import BackendProcess, wait_until

EXIT_BOUND_SECONDS = 15.0
"""Generous: drain window + the slow request + interpreter exit, on a loaded CI machine."""


def exit_status(backend: BackendProcess) -> int:
    try:
        return backend.wait(EXIT_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{backend.name} still runs {EXIT_BOUND_SECONDS:g} s after SIGTERM; log:\n{backend.log_tail()}")


def start_slow_request(backend: BackendProcess, pool: ThreadPoolExecutor) -> Future[httpx.Response]:
    """A GET of /api/agents/info that is being served (counted in progress) when this returns."""
    before = metric_value(backend, "brain_http_requests_in_progress", instance=backend.instance_id)
    slow = pool.submit(httpx.get, f"{backend.base_url}/api/agents/info", timeout=EXIT_BOUND_SECONDS)
    wait_until(
        lambda: metric_value(backend, "brain_http_requests_in_progress", instance=backend.instance_id) > before,
        5,
        "the slow request to be in progress",
    )
    return slow


def test_an_in_flight_request_completes_and_the_process_exits_0(start_backend: StartBackend) -> None:
    backend = start_backend("backend-slow", {"RESPONSE_DELAY_MS": "1500"})
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = start_slow_request(backend, pool)
        backend.send_signal(signal.SIGTERM)
        response = slow.result(EXIT_BOUND_SECONDS)
    assert response.status_code == 200 and response.json()["instance"] == "backend-slow", response.text
    assert exit_status(backend) == 0, backend.log_tail()


def test_the_drain_window_answers_503_to_readiness_but_keeps_serving(start_backend: StartBackend) -> None:
    backend = start_backend("backend-drain", {"DRAIN_SECONDS": "2", "RESPONSE_DELAY_MS": "500"})
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = start_slow_request(backend, pool)
        backend.send_signal(signal.SIGTERM)

        ready = httpx.get(f"{backend.base_url}/health/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["status"] == "draining", ready.text
        served = httpx.get(f"{backend.base_url}/api/agents/info", timeout=5)
        assert served.status_code == 200, f"a draining backend must keep serving: {served.status_code}"
        # Pooled keep-alive connections are released so none is idle when the listener closes.
        assert served.headers.get("connection") == "close", dict(served.headers)
        assert backend.alive(), "the backend stopped before its drain window ended"

        assert slow.result(EXIT_BOUND_SECONDS).status_code == 200
    assert exit_status(backend) == 0, backend.log_tail()


def test_websockets_are_closed_with_1001_on_shutdown(start_backend: StartBackend) -> None:
    backend = start_backend("backend-ws")

    async def scenario() -> Any:
        async with connect(backend.ws_url()) as socket:
            await receive_json(socket)
            backend.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), EXIT_BOUND_SECONDS)
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert asyncio.run(scenario()) == 1001
    assert exit_status(backend) == 0, backend.log_tail()


def test_a_second_sigterm_ends_the_drain_window_early(start_backend: StartBackend) -> None:
    backend = start_backend("backend-impatient", {"DRAIN_SECONDS": "600"})
    backend.send_signal(signal.SIGTERM)
    backend.wait_for_status("/health/ready", 503, timeout=5)
    backend.send_signal(signal.SIGTERM)
    assert exit_status(backend) == 0, backend.log_tail()
