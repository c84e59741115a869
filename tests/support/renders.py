"""One mock run of the program per distinct stack config, shared by the unit tests that only read it.

A run is a pure function of the stack file and the overrides (tests/unit/tools/test_render.py proves two
fresh renders byte-identical), so repeating it only costs time: about 0.1 s (dev) or 0.2 s (prod) a run, most
of the unit suite.
Every caller gets its own deep copy, so a test that edits what it got cannot change what the next one sees.
Runs that fail (invalid config) are not kept, and runs with explicit `config` or `registered` always run afresh.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping

from tools import program
from tools.program import ProgramRun, RegisteredResource


@functools.cache
def _shared_run(stack: str, config: tuple[tuple[str, str], ...]) -> ProgramRun:
    return program.run_program(stack, config=dict(config))


def run_program(
    stack: str,
    overrides: Iterable[str] = (),
    config: Mapping[str, str] | None = None,
    registered: list[RegisteredResource] | None = None,
) -> ProgramRun:
    """What `tools.program.run_program` returns for the same arguments, computed once per process."""
    if config is not None or registered is not None:
        return program.run_program(stack, overrides, config, registered)
    # Keyed by the config the program receives, so overrides in another order, or restating the stack file's
    # value, share one run.
    return copy.deepcopy(_shared_run(stack, tuple(sorted(program.stack_config(stack, overrides).items()))))
