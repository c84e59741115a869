"""/metrics carries the replica's readiness and broadcast subscription, the series the alerts watch."""

from __future__ import annotations

from tests.backend.conftest import StartBackend, metric_samples, metric_value
from tests.support.processes import RedisServer, wait_until

READY = "brain_backend_ready"
SUBSCRIBED = "brain_broadcast_subscribed"


def test_readiness_and_subscription_follow_redis(start_backend: StartBackend, redis_server: RedisServer) -> None:
    backend = start_backend("backend-h", env={"REDIS_URL": redis_server.url})
    assert metric_value(backend, READY, instance="backend-h") == 1
    assert metric_value(backend, SUBSCRIBED, instance="backend-h") == 1

    redis_server.stop()
    wait_until(lambda: metric_value(backend, SUBSCRIBED, instance="backend-h") == 0, 10, "subscribed to turn 0")
    assert metric_value(backend, READY, instance="backend-h") == 0, "a replica without Redis must report not ready"

    redis_server.start()
    wait_until(lambda: metric_value(backend, SUBSCRIBED, instance="backend-h") == 1, 15, "subscribed to return to 1")
    wait_until(lambda: metric_value(backend, READY, instance="backend-h") == 1, 15, "ready to return to 1")


def test_without_redis_there_is_no_subscription_series(start_backend: StartBackend) -> None:
    backend = start_backend("backend-local")
    assert metric_value(backend, READY, instance="backend-local") == 1
    assert metric_samples(backend, SUBSCRIBED) == [], "no Redis means no channel: the alert must not see a 0"
