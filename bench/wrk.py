"""HTTP load from wrk (Debian's `wrk`: far less CPU per request than a Python client on a small machine).

Every run uses `wrk_report.lua`, which prints status counts and latency percentiles as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from types import TracebackType

from bench.load import LoadResult
from tests.support.processes import ManagedProcess, require_binary

SCRIPT = Path(__file__).with_name("wrk_report.lua")
PACED_SCRIPT = Path(__file__).with_name("wrk_paced.lua")
SOURCE_SHIM = Path(__file__).with_name("bind_sources.c")
REPORT_PREFIX = "WRK_JSON "
REQUEST_TIMEOUT = "5s"
"""A request unanswered this long counts as a failure (wrk's `timeout` error)."""
OPEN_ENDED_SECONDS = 3600
"""The duration wrk is given; every load ends earlier, by SIGINT."""
STOP_TIMEOUT_SECONDS = 15.0


def wrk_binary() -> str:
    return require_binary("wrk", Path("/usr/bin/wrk"))


def source_shim(work_dir: Path) -> Path:
    """bind_sources.c compiled into `work_dir` (once): LD_PRELOAD it to spread wrk's connections over networks."""
    library = work_dir / "bind_sources.so"
    if not library.exists():
        compiler = require_binary("cc", Path("/usr/bin/cc"))
        subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(SOURCE_SHIM), "-ldl"],
                       check=True, capture_output=True, timeout=60)
    return library


def wrk_version() -> str:
    """e.g. "debian/4.1.0-3+b2" (`wrk --version` prints it and exits 1)."""
    output = subprocess.run([wrk_binary(), "--version"], capture_output=True, text=True, timeout=10, check=False)
    words = (output.stdout + output.stderr).split()
    return words[1] if len(words) > 1 else "unknown"


def parse_report(output: str) -> LoadResult:
    """The run's numbers from the `WRK_JSON` line wrk_report.lua printed."""
    lines = [line for line in output.splitlines() if line.startswith(REPORT_PREFIX)]
    if not lines:
        raise RuntimeError(f"wrk printed no {REPORT_PREFIX.strip()} line; its output:\n{output[-2000:]}")
    report = json.loads(lines[-1].removeprefix(REPORT_PREFIX))
    latency = report["latency_us"]
    errors = report["errors"]
    return LoadResult(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        statuses=dict(sorted(report["statuses"].items())),
        socket_errors={kind: errors[kind] for kind in ("connect", "read", "write", "timeout")},
        quantiles_ms={float(p): value / 1000 for p, value in latency["percentiles"].items()},
        min_ms=latency["min"] / 1000,
        max_ms=latency["max"] / 1000,
    )


class WrkLoad:
    """wrk against `url` over `connections` keep-alive connections (one thread), in the background from
    entering the `with` block until `stop()`, which ends it with SIGINT (wrk then reports as usual).
    Leaving the block stops wrk in any case. `source_networks` > 0 spreads the connections over that many
    client networks (127.0.K.1), with `source_shim`; `think_ms` paces each connection (wrk_paced.lua)."""

    def __init__(self, url: str, connections: int, log_path: Path, source_networks: int = 0,
                 think_ms: float | None = None):
        self.url = url
        env = None
        if source_networks:
            env = {**os.environ, "LD_PRELOAD": str(source_shim(log_path.parent)),
                   "BENCH_SOURCE_NETWORKS": str(source_networks)}
        command = [
            wrk_binary(), "--threads", "1", "--connections", str(connections), "--duration", f"{OPEN_ENDED_SECONDS}s",
            "--timeout", REQUEST_TIMEOUT, "--script", str(SCRIPT if think_ms is None else PACED_SCRIPT), url,
        ]
        command += [] if think_ms is None else ["--", f"{think_ms:.3f}"]
        self.process = ManagedProcess(f"wrk {url} ({connections} connections)", command, log_path, env)

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process.alive() else []

    def __enter__(self) -> WrkLoad:
        self.process.log_path.unlink(missing_ok=True)
        self.process.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.process.stop(signal.SIGINT, STOP_TIMEOUT_SECONDS)

    def stop(self) -> LoadResult:
        """Ends the load now and returns what wrk measured."""
        self.process.check_alive()  # a wrk that died early measured nothing useful: say why
        status = self.process.stop(signal.SIGINT, STOP_TIMEOUT_SECONDS)
        if status != 0:
            raise RuntimeError(f"{self.process.name} exited with {status}; its output ends:\n{self.process.log_tail()}")
        return parse_report(self.process.log_path.read_text(errors="replace"))
