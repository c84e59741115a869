"""Dev containers' health checks: each asks the real service (not a socket a temporary server answers on),
on a schedule that fits the image's start-up, and the nginx one survives a `balancer.port` change."""

from __future__ import annotations

import re
from typing import Any

from tests.support.renders import run_program
from tools.program import ProgramRun, reveal

PG_USER, PG_DATABASE = "brain", "brain"


def _healthcheck(run: ProgramRun, name: str) -> dict[str, Any]:
    return run.named(name).inputs["healthcheck"]


def test_postgres_is_probed_over_tcp_not_the_socket_the_init_server_answers_on() -> None:
    tests = _healthcheck(run_program("dev"), "brain-postgres")["tests"]
    # docker-library/postgres #880: during initdb the entrypoint's temporary server listens on the socket only.
    assert tests[:2] == ["CMD", "pg_isready"], tests
    assert tests[tests.index("-h") + 1] == "127.0.0.1", f"pg_isready must connect over TCP: {tests}"
    assert tests[tests.index("-p") + 1] == "5432", tests
    assert (tests[tests.index("-U") + 1], tests[tests.index("-d") + 1]) == (PG_USER, PG_DATABASE), tests


def test_redis_and_qdrant_are_asked_for_an_answer() -> None:
    run = run_program("dev")
    # redis-cli reads the password from REDISCLI_AUTH (never on a command line); only a PONG is healthy.
    assert _healthcheck(run, "brain-redis")["tests"] == [
        "CMD-SHELL", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG'
    ]
    # The Qdrant image has no curl or wget (qdrant/qdrant #4250): bash opens the TCP port itself.
    assert _healthcheck(run, "brain-qdrant")["tests"] == ["CMD-SHELL", "bash -c ':> /dev/tcp/127.0.0.1/6333'"]


def test_postgres_check_is_exactly_pg_isready_over_tcp() -> None:
    assert _healthcheck(run_program("dev"), "brain-postgres")["tests"] == [
        "CMD", "pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", PG_USER, "-d", PG_DATABASE, "-t", "3"
    ]


def test_store_checks_give_a_fresh_volume_time_and_never_outlast_their_own_timeout() -> None:
    run = run_program("dev")
    for name in ("brain-postgres", "brain-redis", "brain-qdrant"):
        check = _healthcheck(run, name)
        # 10 s grace, then 10 failures 5 s apart: about a minute for initdb on a fresh volume before "unhealthy".
        assert (check["interval"], check["timeout"], check["retries"], check["startPeriod"]) == ("5s", "3s", 10, "10s"), (
            name, check)
    pg = _healthcheck(run, "brain-postgres")["tests"]
    assert int(pg[pg.index("-t") + 1]) <= 3, f"pg_isready's own timeout must end before Docker's 3 s: {pg}"


def test_replica_and_balancer_checks_react_within_seconds() -> None:
    run = run_program("dev")
    backend = _healthcheck(run, "brain-backend-1")
    # The image has Python, not curl: urlopen raises (exit 1) on a 503 while draining or a dependency is down.
    assert backend["tests"] == [
        "CMD", "python", "-c",
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)",
    ]
    assert (backend["interval"], backend["timeout"], backend["retries"], backend["startPeriod"]) == ("5s", "3s", 3, "10s")
    nginx = _healthcheck(run, "brain-nginx")
    # busybox wget in nginx:alpine; the loopback listener no config key moves (test below).
    assert nginx["tests"] == ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8099/nginx_status"]
    assert (nginx["interval"], nginx["timeout"], nginx["retries"]) == ("5s", "3s", 3), nginx
    assert "startPeriod" not in nginx, "nginx starts in well under a second: no grace needed"


def test_a_new_balancer_port_leaves_the_nginx_health_check_and_its_listener_alone() -> None:
    """A new port replaces the container, which starts with its previous nginx.conf (uploads are ignored after
    creation): it must be healthy on that conf, and the reload it triggers must bring the new one."""
    before, after = run_program("dev"), run_program("dev", ["balancer.port=9000"])
    old_check, new_check = _healthcheck(before, "brain-nginx"), _healthcheck(after, "brain-nginx")
    assert old_check == new_check, "the health check must not follow balancer.port"
    probed = next(part for part in new_check["tests"] if part.startswith("http://"))
    listener = probed.removeprefix("http://").split("/")[0]
    old_conf = reveal(before.named("brain-nginx").inputs["uploads"])[0]["content"]
    new_conf = reveal(after.named("brain-nginx-reload").inputs["stdin"])
    for conf in (old_conf, new_conf):
        assert f"listen {listener};" in conf, f"the probed listener {listener} must be in every nginx.conf"
    assert "listen 0.0.0.0:9000;" in new_conf and "listen 0.0.0.0:9000;" not in old_conf
    container = after.named("brain-nginx")
    assert "uploads" in container.ignore_changes
    assert container.urn in after.named("brain-nginx-reload").input_dependencies, (
        "a new container must trigger the reload that loads the current nginx.conf"
    )


def test_every_local_command_runs_under_a_posix_shell() -> None:
    run = run_program("dev")
    commands = run.of_type("command:local:Command")
    assert commands, "the dev stack has reload and rejoin commands"
    for resource in commands:
        assert resource.inputs.get("interpreter") == ["/bin/sh", "-c"], (
            f"{resource.name}: without an explicit interpreter pulumi-command uses cmd /C on Windows"
        )


def _go_duration(seconds: int) -> str:
    """Go's time.Duration.String() for whole seconds: what the provider reads back from `docker inspect`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def test_durations_are_written_as_docker_reads_them_back() -> None:
    """The provider records a container's health check as `docker inspect` reports it, durations as Go prints
    them ("1m0s", not "1m" or "60s"; kreuzwerker/docker's container read, run at the end of create too), and
    diffs the next `pulumi up` against that record: any other spelling would be a change on every `make up`,
    one its update cannot even apply (it changes only restart and resource limits in place)."""
    for container in run_program("dev").of_type("docker:index/container:Container"):
        check = container.inputs.get("healthcheck") or {}
        for key in ("interval", "timeout", "startPeriod"):
            if key in check:
                value = check[key]
                parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value)
                assert parts and value, f"{container.name} healthcheck {key} = {value!r}: not whole h/m/s"
                hours, minutes, secs = (int(part or 0) for part in parts.groups())
                assert value == _go_duration(hours * 3600 + minutes * 60 + secs), (
                    f"{container.name} healthcheck {key} = {value!r}, Docker reads it back differently")
