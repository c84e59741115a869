"""Fixtures for the reference backend's tests: real processes on loopback, stopped after each test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import pytest

from tests.support.processes import BackendProcess, RedisServer, running_backend, running_redis


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
