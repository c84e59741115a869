"""Fixtures for the reference backend's tests: real processes on loopback, stopped after each test."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection

from tests.support.processes import BackendProcess, RedisServer, running_backend, running_redis


RECEIVE_TIMEOUT_SECONDS = 5.0


async def receive_json(socket: ClientConnection, timeout: float = RECEIVE_TIMEOUT_SECONDS) -> Any:
    """The next WebSocket message, parsed; fails the test if none arrives in time."""
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


def metric_samples(backend: BackendProcess, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample called `name` in the backend's /metrics, as (labels, value)."""
    status, text = backend.get("/metrics")
    assert status == 200, f"/metrics answered {status}: {text!r}"
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def metric_value(backend: BackendProcess, name: str, **labels: str) -> float:
    """The value of the one sample of `name` with exactly these labels (0 if there is none yet)."""
    values = [value for sample_labels, value in metric_samples(backend, name) if sample_labels == labels]
    assert len(values) <= 1, f"{name}{labels} has {len(values)} samples"
    return values[0] if values else 0.0


class StartBackend(Protocol):
    def __call__(
        self, instance_id: str = "backend-1", env: Mapping[str, str] | None = None, wait_for: str | None = ...
    ) -> BackendProcess: ...


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def start_backend(tmp_path: Path) -> Iterator[StartBackend]:
    """Starts backends (ready by default); all of them are stopped when the test ends."""
    with contextlib.ExitStack() as stack:

        def start(
            instance_id: str = "backend-1", env: Mapping[str, str] | None = None, wait_for: str | None = "/health/ready"
        ) -> BackendProcess:
            return stack.enter_context(running_backend(instance_id, tmp_path, env=env, wait_for=wait_for))

        yield start
