"""promtool (Debian's `prometheus` package) on rendered files: missing, it skips locally and fails under CI."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.processes import require_binary

TIMEOUT_SECONDS = 60


def promtool(*args: str | Path, cwd: Path | None = None) -> str:
    """Runs `promtool ARGS`; returns its output, or fails the test with it when promtool refuses."""
    binary = require_binary("promtool", Path("/usr/bin/promtool"))
    result = subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, cwd=cwd
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))} failed ({result.returncode}):\n{output}"
    return output
