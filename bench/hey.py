"""HTTP load from hey (Debian's `hey`), the load generator of the system description's own test commands.

hey's CSV output (`-o csv`) has one row per answered request, so runs made side by side can be merged exactly;
requests without an answer (connection errors, timeouts) are missing from it and counted as lost.
"""

from __future__ import annotations

import csv
import subprocess
from collections import Counter
from pathlib import Path

from bench.load import LoadResult, from_latencies
from tests.support.processes import ManagedProcess, require_binary

REQUEST_TIMEOUT_SECONDS = 5
"""As wrk's: a request unanswered this long counts as failed."""
FINISH_TIMEOUT_SECONDS = 600.0


def hey_binary() -> str:
    return require_binary("hey", Path("/usr/bin/hey"))


class HeyLoad:
    """One hey run against `url`: `requests` in all over `workers` keep-alive connections (hey's `-n`, `-c`), or,
    with `seconds`, for that long; `rate_per_worker` limits each worker to that many requests a second (`-q`)."""

    def __init__(self, url: str, workers: int, log_path: Path, requests: int | None = None,
                 seconds: float | None = None, rate_per_worker: float | None = None):
        assert (requests is None) != (seconds is None), "give requests or seconds"
        self.requests = requests
        command = [hey_binary(), "-c", str(workers), "-t", str(REQUEST_TIMEOUT_SECONDS), "-o", "csv"]
        command += ["-n", str(requests)] if requests is not None else ["-z", f"{seconds:g}s"]
        command += ["-q", f"{rate_per_worker:g}"] if rate_per_worker is not None else []
        self.process = ManagedProcess(f"hey {url} ({workers} workers)", [*command, url], log_path)

    def start(self) -> None:
        self.process.log_path.unlink(missing_ok=True)
        self.process.start()

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process.alive() else []

    def finish(self) -> LoadResult:
        """Waits for the run to end and returns what hey measured."""
        try:
            status = self.process.wait(FINISH_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.stop()
            raise
        if status != 0:
            raise RuntimeError(f"{self.process.name} exited with {status}; its output ends:\n{self.process.log_tail()}")
        return parse_csv(self.process.log_path.read_text(errors="replace"), self.requests)


def parse_csv(output: str, requests: int | None) -> LoadResult:
    """hey's CSV rows (response-time and offset in seconds, status code); `requests`: how many were asked for,
    so the missing rows are the lost ones (None: a timed run, lost requests cannot be known)."""
    rows = list(csv.DictReader(line for line in output.splitlines() if "," in line))
    statuses = Counter(row["status-code"] for row in rows)
    seconds = max((float(row["offset"]) + float(row["response-time"]) for row in rows), default=0.0)
    lost = {"lost": requests - len(rows)} if requests is not None else {}
    return from_latencies([1000 * float(row["response-time"]) for row in rows], seconds,
                          dict(sorted(statuses.items())), lost)
