"""Real processes on loopback for tests: redis-server, PostgreSQL and reference backends (`python -m backend`).

Every process runs in its own session with its output in a log file (never a pipe that could fill up), and
each `running_*` context manager stops what it started, even when the test fails. A binary that is missing
skips the test with the reason locally and fails it under `CI=true`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 25.0
"""Long enough for a backend's graceful shutdown (in-flight requests get 20 s); then SIGKILL."""
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
BACKEND_ENV_KEYS = (
    "INSTANCE_ID",
    "INSTANCE_NUMBER",
    "HOST",
    "PORT",
    "DATABASE_URL",
    "REDIS_URL",
    "QDRANT_URL",
    "QDRANT_API_KEY",
    "RESPONSE_DELAY_MS",
    "DRAIN_SECONDS",
    "ACCESS_LOG",
    "MAX_CONCURRENCY",
)
"""Variables the backend reads; never inherited from the test runner's own environment."""

T = TypeVar("T")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str, remedy: str) -> NoReturn:
    """Skip with `reason` on a developer's machine; fail under CI, which must provide it (`remedy` says how)."""
    if in_ci():
        pytest.fail(f"{reason}; {remedy}")
    pytest.skip(reason)


def require_binary(name: str, *candidates: Path) -> str:
    """The path of `name` (on PATH or at one of `candidates`); otherwise skip with the reason, or fail in CI."""
    for path in (shutil.which(name), *map(str, candidates)):
        if path and os.access(path, os.X_OK):
            return path
    looked_in = [str(candidate) for candidate in candidates]
    unavailable(f"{name} is not installed (looked on PATH and in {looked_in})", "CI must install it (.ci/run)")


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now at `host` (the kernel's choice, released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05) -> T:
    """Polls `condition` until it returns something other than None/False; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def http_get(host: str, port: int, path: str, timeout: float = 5.0) -> tuple[int, Any]:
    """One GET on a fresh connection: (status, parsed JSON body, or the text if it is not JSON)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, body


class ManagedProcess:
    """A child process in its own session, its stdout and stderr in `log_path`."""

    def __init__(self, name: str, command: list[str], log_path: Path, env: Mapping[str, str] | None = None,
                 user: str | None = None):
        self.name = name
        self.command = command
        self.log_path = log_path
        self._env = dict(env) if env is not None else None
        self._user = user
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self._user,
            )

    @property
    def pid(self) -> int:
        return self._running().pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send_signal(self, sig: signal.Signals) -> None:
        self._running().send_signal(sig)

    def wait(self, timeout: float) -> int:
        """The exit status once the process has ended; TimeoutExpired if it runs on."""
        return self._running().wait(timeout)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """Asks the process to stop with `sig`, kills its whole session after `timeout`; returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self) -> None:
        """Raises with the log's last lines if the process has exited."""
        if not self.alive():
            status = self.process.returncode if self.process is not None else "never started"
            raise RuntimeError(f"{self.name} exited (status {status}); its log ends:\n{self.log_tail()}")

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process


class RedisServer(ManagedProcess):
    """redis-server on loopback without persistence; `stop()` then `start()` restarts it on the same port."""

    def __init__(self, work_dir: Path, host: str = LOOPBACK, port: int | None = None):
        self.host = host
        self.port = port or free_port(host)
        binary = require_binary("redis-server", Path("/usr/bin/redis-server"))
        data_dir = work_dir / f"redis-{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            binary, "--port", str(self.port), "--bind", host, "--dir", str(data_dir),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
        ]
        super().__init__(f"redis-server :{self.port}", command, work_dir / f"redis-{self.port}.log")

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        super().start()
        wait_until(self._answers_ping, STARTUP_TIMEOUT_SECONDS, f"{self.name} to answer PING")

    def _answers_ping(self) -> bool:
        self.check_alive()
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(64).startswith(b"+PONG")
        except OSError:
            return False


class PostgresServer(ManagedProcess):
    """A throwaway PostgreSQL 15 cluster on loopback with password authentication.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user, in a directory of
    its own outside pytest's root-only temp tree; `cleanup()` removes it.
    """

    USER = "brain"
    PASSWORD = "brain-test-password"
    DATABASE = "postgres"

    def __init__(self, work_dir: Path, host: str = LOOPBACK, port: int | None = None):
        self.host = host
        self.port = port or free_port(host)
        postgres = require_binary("postgres", POSTGRES_BIN / "postgres")
        initdb = require_binary("initdb", POSTGRES_BIN / "initdb")
        run_as = _postgres_run_as()
        self.cluster_dir = Path(tempfile.mkdtemp(prefix="brain-test-postgres-"))
        data_dir = self.cluster_dir / "data"
        password_file = self.cluster_dir / "password"
        password_file.write_text(self.PASSWORD)
        if run_as is not None:
            shutil.chown(self.cluster_dir, run_as, run_as)
            shutil.chown(password_file, run_as, run_as)
        log_path = work_dir / f"postgres-{self.port}.log"
        try:
            with log_path.open("ab") as log:
                subprocess.run(
                    [initdb, "-D", str(data_dir), "-U", self.USER, f"--pwfile={password_file}",
                     "--auth=scram-sha-256", "--no-sync", "--encoding=UTF8"],
                    check=True, stdout=log, stderr=subprocess.STDOUT, user=run_as, timeout=120,
                )
        except BaseException:
            self.cleanup()
            raise
        command = [
            postgres, "-D", str(data_dir), "-h", host, "-p", str(self.port), "-k", str(self.cluster_dir),
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ]
        super().__init__(f"postgres :{self.port}", command, log_path, user=run_as)

    def url(self, password: str | None = None) -> str:
        """The DATABASE_URL for the test user; another `password` makes a URL the server must refuse."""
        return f"postgresql://{self.USER}:{password or self.PASSWORD}@{self.host}:{self.port}/{self.DATABASE}"

    def start(self) -> None:
        super().start()
        wait_until(self._accepts, STARTUP_TIMEOUT_SECONDS * 3, f"{self.name} to accept connections")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """SIGINT is PostgreSQL's fast shutdown: clients are disconnected, nothing waits for them."""
        return super().stop(sig, timeout)

    def cleanup(self) -> None:
        shutil.rmtree(self.cluster_dir, ignore_errors=True)

    def _accepts(self) -> bool:
        self.check_alive()
        ready = subprocess.run(
            [str(POSTGRES_BIN / "pg_isready"), "-h", self.host, "-p", str(self.port), "-t", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )
        return ready.returncode == 0


def _postgres_run_as() -> str | None:
    """Who runs PostgreSQL: None (ourselves) unless we are root, then the `postgres` user, which must exist."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        reason = "running as root and there is no `postgres` user to run PostgreSQL as"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return "postgres"


class BackendProcess(ManagedProcess):
    """`python -m backend` from the repository root, with exactly the backend env given (nothing inherited)."""

    def __init__(self, instance_id: str, work_dir: Path, host: str = LOOPBACK, port: int | None = None,
                 env: Mapping[str, str] | None = None):
        self.instance_id = instance_id
        self.host = host
        self.port = port or free_port(host)
        self.env = {"INSTANCE_ID": instance_id, "HOST": host, "PORT": str(self.port), **(env or {})}
        inherited = {key: value for key, value in os.environ.items() if key not in BACKEND_ENV_KEYS}
        super().__init__(
            f"backend {instance_id} at {host}:{self.port}",
            [sys.executable, "-m", "backend"],
            work_dir / f"backend-{instance_id}-{self.port}.log",
            env={**inherited, "PYTHONUNBUFFERED": "1", **self.env},
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ws_url(self, path: str = "/ws/") -> str:
        return f"ws://{self.host}:{self.port}{path}"

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, Any]:
        """One GET on a fresh connection: (status, JSON body)."""
        return http_get(self.host, self.port, path, timeout)

    def start(self, wait_for: str | None = "/health/ready") -> None:
        """Starts the process and waits until `wait_for` answers 200 (None: do not wait)."""
        super().start()
        if wait_for is not None:
            self.wait_for_status(wait_for, 200)

    def wait_for_status(self, path: str, status: int, timeout: float = STARTUP_TIMEOUT_SECONDS) -> Any:
        """Polls `path` until it answers `status`; returns that answer's body."""

        def answered() -> tuple[Any] | None:
            self.check_alive()
            try:
                got, body = self.get(path, timeout=2)
            except OSError:
                return None
            return (body,) if got == status else None

        return wait_until(answered, timeout, f"{self.name}: GET {path} -> {status}")[0]


@contextlib.contextmanager
def running_redis(work_dir: Path, host: str = LOOPBACK, port: int | None = None) -> Iterator[RedisServer]:
    """A started redis-server, stopped on exit."""
    server = RedisServer(work_dir, host, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_postgres(work_dir: Path, host: str = LOOPBACK, port: int | None = None) -> Iterator[PostgresServer]:
    """A started PostgreSQL cluster, stopped and deleted on exit."""
    server = PostgresServer(work_dir, host, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.cleanup()


@contextlib.contextmanager
def running_backend(
    instance_id: str,
    work_dir: Path,
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    wait_for: str | None = "/health/ready",
) -> Iterator[BackendProcess]:
    """A started backend (ready unless `wait_for` says otherwise), stopped with SIGTERM on exit."""
    backend = BackendProcess(instance_id, work_dir, host, port, env)
    try:
        backend.start(wait_for)
        yield backend
    finally:
        backend.stop()
