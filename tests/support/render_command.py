"""`python -m tools.render ...` for the tests: as a process of its own, or its `main` in this process."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from tools.program import ROOT
from tools.render import main as render_main


def render_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a reviewer runs it, from the repository root: a process of its own (entry point, exit status,
    nothing left on stderr at interpreter exit)."""
    return subprocess.run(
        [sys.executable, "-m", "tools.render", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def render(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command's `main`, in this process: what it writes and prints, without a new interpreter's
    2-3 s of imports per call (the subprocess itself is covered by tests/unit/tools/test_render.py's `dev_render`
    and tests/unit/test_quiet_success.py)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = render_main(list(args))
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 2
    return subprocess.CompletedProcess(["tools.render", *args], status, stdout.getvalue(), stderr.getvalue())
