"""Liveness, readiness (with a real Redis going down and coming back) and the agent info endpoint."""

from __future__ import annotations

from typing import Any

from tests.backend.conftest import StartBackend
from tests.support.processes import RedisServer, wait_until


def test_live_and_ready_without_dependencies_check_nothing(start_backend: StartBackend) -> None:
    backend = start_backend("solo")
    assert backend.get("/health/live") == (200, {"status": "alive", "instance": "solo"})
    assert backend.get("/health/ready") == (200, {"status": "ready", "instance": "solo", "checks": {}})


def test_agents_info_names_the_instance_and_its_number(start_backend: StartBackend) -> None:
    backend = start_backend("backend-7", {"INSTANCE_NUMBER": "7"})
    status, body = backend.get("/api/agents/info")
    assert status == 200, body
    assert body["instance"] == "backend-7" and body["instance_number"] == 7, body
    assert body["broadcast_delivery"] == "local", f"no REDIS_URL, yet delivery is {body['broadcast_delivery']!r}"


def test_ready_checks_redis_and_the_broadcast_subscription(
    start_backend: StartBackend, redis_server: RedisServer
) -> None:
    backend = start_backend(env={"REDIS_URL": redis_server.url})
    status, body = backend.get("/health/ready")
    assert (status, body["checks"]) == (200, {"redis": "ok", "redis_subscription": "ok"}), body
    assert "subscribed to brain:websocket:broadcast" in backend.log_tail(), "the backend's own log lines are lost"


def test_ready_is_503_while_configured_redis_is_down_and_recovers(
    start_backend: StartBackend, redis_server: RedisServer
) -> None:
    backend = start_backend(env={"REDIS_URL": redis_server.url})
    redis_server.stop()

    def both_checks_fail() -> dict[str, Any] | None:
        status, body = backend.get("/health/ready")
        checks = body["checks"]
        return body if status == 503 and checks["redis"] != "ok" and checks["redis_subscription"] != "ok" else None

    body = wait_until(both_checks_fail, 10, "readiness 503 with both Redis checks failing")
    assert body["status"] == "not ready", body
    assert backend.get("/health/live")[0] == 200, "liveness must not depend on Redis"

    redis_server.start()
    body = backend.wait_for_status("/health/ready", 200, timeout=15)
    assert body["checks"] == {"redis": "ok", "redis_subscription": "ok"}, body


def test_ready_answers_within_its_timeout_when_redis_never_was_there(start_backend: StartBackend) -> None:
    # Port 9 on loopback: nothing listens there, the connection is refused.
    backend = start_backend(env={"REDIS_URL": "redis://127.0.0.1:9/0"}, wait_for="/health/live")
    status, body = backend.get("/health/ready", timeout=5)
    assert status == 503, body
    assert set(body["checks"]) == {"redis", "redis_subscription"}, body
