"""`python -m tools.render ...` for the tests, its `main` in this process."""

from __future__ import annotations

import contextlib
import io
import subprocess
import unittest.mock

import tools.render
from tests.support import renders


def render(*args: str, fresh_run: bool = False) -> subprocess.CompletedProcess[str]:
    """The command's `main`, in this process: what it writes and prints and its exit status, without a new
    interpreter's 1-3 s of imports per call (the command as a process of its own, as `make render` runs it, is
    covered by tests/commands/test_quiet_success.py).

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
