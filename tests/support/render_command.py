"""`python -m tools.render ...` for the tests: as a process of its own, or its `main` in this process."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import unittest.mock

import tools.render
from tests.support import renders
from tools.program import ROOT


def render_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a reviewer runs it, from the repository root: a process of its own (entry point, exit status,
    nothing left on stderr at interpreter exit)."""
    return subprocess.run(
        [sys.executable, "-m", "tools.render", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def render(*args: str, fresh_run: bool = False) -> subprocess.CompletedProcess[str]:
    """The same command's `main`, in this process: what it writes and prints, without a new interpreter's
    2-3 s of imports per call (the subprocess itself is covered by tests/unit/tools/test_render.py's `dev_render`
    and tests/unit/test_quiet_success.py).

    The program's run is the session's shared one for that config (tests/support/renders.py) unless `fresh_run`:
    a test of the run itself (two renders byte-identical) needs its own.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    run = tools.render.run_program if fresh_run else renders.run_program
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            unittest.mock.patch.object(tools.render, "run_program", run):
        try:
            status = tools.render.main(list(args))
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 2
    return subprocess.CompletedProcess(["tools.render", *args], status, stdout.getvalue(), stderr.getvalue())
