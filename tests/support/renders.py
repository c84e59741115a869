"""One mock run of the program per distinct (stack, overrides), shared by the unit tests that only read it.

A run is a pure function of the stack file and the overrides (tests/unit/tools/test_render.py proves two
fresh renders byte-identical), so repeating it only costs time: about 0.3 s a run, most of the unit suite.
Every caller gets its own deep copy, so a test that edits what it got cannot change what the next one sees.
Runs that fail (invalid config) are not kept: each caller sees the error raised anew.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable

from tools import program
from tools.program import ProgramRun


@functools.cache
def _shared_run(stack: str, overrides: tuple[str, ...]) -> ProgramRun:
    return program.run_program(stack, overrides)


def run_program(stack: str, overrides: Iterable[str] = ()) -> ProgramRun:
    """What `tools.program.run_program(stack, overrides)` returns, computed once per process."""
    return copy.deepcopy(_shared_run(stack, tuple(overrides)))
