"""The in-cluster stores' health commands, exactly as the prod StatefulSets run them, against a real PostgreSQL
15 and redis-server on loopback (only the port is the test server's). PostgreSQL's must not pass while the
server listens on its Unix socket only, as the image's init-time server does (docker-library/postgres#880)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import (
    LOOPBACK,
    POSTGRES_BIN,
    ManagedProcess,
    STARTUP_TIMEOUT_SECONDS,
    PostgresServer,
    RedisServer,
    free_port,
    require_binary,
    running_postgres,
    running_redis,
    wait_until,
)
from components.eks.in_cluster_stores import credential_file
from tests.support.renders import run_program

pytestmark = pytest.mark.live
COMMAND_TIMEOUT_SECONDS = 10


def _health_command(store: str) -> list[str]:
    (statefulset,) = [
        item
        for item in run_program("prod", ["data.mode=in_cluster"]).of_type("kubernetes:apps/v1:StatefulSet")
        if item.inputs["metadata"]["name"] == store
    ]
    (container,) = statefulset.inputs["spec"]["template"]["spec"]["containers"]
    return list(container["readinessProbe"]["exec"]["command"])


def _run(command: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    ).returncode


def _pg_isready_at(port: int) -> list[str]:
    """The prod probe, with this machine's pg_isready and the test server's port."""
    command = _health_command("postgres")
    command[0] = require_binary("pg_isready", POSTGRES_BIN / "pg_isready")
    command[command.index("-p") + 1] = str(port)
    return command


@contextlib.contextmanager
def _socket_only_postgres(work_dir: Path) -> Iterator[PostgresServer]:
    """PostgreSQL listening on no TCP address (`-h ''`), as the image runs it for its init scripts."""
    server = PostgresServer(work_dir, host="", port=free_port())
    socket_check = [str(POSTGRES_BIN / "pg_isready"), "-h", str(server.cluster_dir), "-p", str(server.port)]
    try:
        ManagedProcess.start(server)  # not PostgresServer.start, which waits for TCP
        wait_until(lambda: _run(socket_check) == 0, STARTUP_TIMEOUT_SECONDS * 3, "PostgreSQL on its socket")
        yield server
    finally:
        server.stop()
        server.cleanup()


def test_postgres_probe_fails_while_only_the_socket_answers(tmp_path: Path) -> None:
    with _socket_only_postgres(tmp_path) as server:
        socket_check = [str(POSTGRES_BIN / "pg_isready"), "-h", str(server.cluster_dir), "-p", str(server.port)]
        assert _run(socket_check) == 0, "a check over the socket passes here: the old probe would have"
        assert _run(_pg_isready_at(server.port)) != 0, "the probe passed with no TCP listener"


def test_postgres_probe_passes_once_the_server_listens_on_tcp(tmp_path: Path) -> None:
    with running_postgres(tmp_path, LOOPBACK) as server:
        assert _run(_pg_isready_at(server.port)) == 0, server.log_tail()


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[tuple[RedisServer, str]]:
    password = "probe-test-password"
    with running_redis(tmp_path, LOOPBACK) as server:
        with socket.create_connection((server.host, server.port), timeout=5) as connection:
            connection.sendall(f"CONFIG SET requirepass {password}\r\n".encode())
            assert connection.recv(64).startswith(b"+OK")
        yield server, password


def _redis_check_at(port: int, password_file: Path) -> list[str]:
    """The prod probe (a shell line), with the test server's port and a password file of the test's."""
    shell, flag, line = _health_command("redis")
    for prod, local in (("-p 6379", f"-p {port}"), (credential_file("redis-password"), str(password_file))):
        assert prod in line, f"expected {prod!r} in {line!r}"
        line = line.replace(prod, local)
    return [shell, flag, line]


@pytest.mark.parametrize(
    ("written", "passes"), [("right", True), ("wrong", False), (None, False)], ids=["password", "wrong", "no-file"]
)
def test_redis_probe_needs_the_password_and_an_answer(
    redis_with_password: tuple[RedisServer, str], tmp_path: Path, written: str | None, passes: bool
) -> None:
    require_binary("redis-cli", Path("/usr/bin/redis-cli"))
    server, password = redis_with_password
    password_file = tmp_path / "redis-password"
    if written is not None:
        password_file.write_text(password if written == "right" else "not-the-password")
    env = {"PATH": os.environ["PATH"]}
    assert (_run(_redis_check_at(server.port, password_file), env) == 0) is passes
