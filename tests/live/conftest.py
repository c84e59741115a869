"""Fixtures of the live suite: one Redis per session, three backends per test module, an nginx per test.

Every process is stopped at teardown, also when the test failed; a missing nginx or redis-server skips the
suite with the reason locally and fails it under CI=true (see tests/support/processes.py).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from components.config import BalancerConfig
from nginx_conf.render import UpstreamServer
from tests.support.topology import Balancer, BackendFleet, StartBalancer
from tests.support.processes import LOOPBACK, RedisServer, running_redis


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def backends(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendFleet]:
    fleet = BackendFleet(tmp_path_factory.mktemp("backends"), redis.url)
    try:
        fleet.start_all()
        yield fleet
    finally:
        fleet.stop_all()


@pytest.fixture
def start_balancer(backends: BackendFleet, tmp_path: Path) -> Iterator[StartBalancer]:
    """Starts nginx with a config rendered for the fleet (or `servers`); every one started is stopped at teardown."""
    numbers = itertools.count(1)
    with contextlib.ExitStack() as started:

        def start(
            config: BalancerConfig,
            servers: Sequence[UpstreamServer] | None = None,
            listen_address: str = LOOPBACK,
            internal_networks: Sequence[str] = (),
        ) -> Balancer:
            directory = tmp_path / f"nginx-{next(numbers)}"
            fleet = backends.servers if servers is None else servers
            balancer = Balancer(directory, config, fleet, listen_address, internal_networks)
            started.callback(balancer.process.stop)
            balancer.process.start()
            return balancer

        yield start
