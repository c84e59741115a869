"""One mock run of the program per distinct stack config and test session, shared by the unit tests that only
read it.

A run is a pure function of the stack file and the overrides (tests/unit/tools/test_render.py proves two
fresh renders byte-identical), so repeating it only costs time: about 0.1 s (dev) or 0.2 s (prod) a run, most
of the unit suite. The first worker of a session to need a config runs it, the others read it pickled
(tests/support/session_cache.py).
Every caller gets its own unpickled copy, so a test that edits what it got cannot change what the next one
sees (a copy costs a tenth of a deepcopy).
Runs that fail (invalid config) are not kept; a test that changes what the program meets (a monkeypatch)
must run it itself (`tools.program.run_program`).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping

from tests.support.session_cache import shared
from tools import program
from tools.program import ProgramRun, RegisteredResource

PROTOCOL = pickle.HIGHEST_PROTOCOL
_PICKLED: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}
"""This process's runs, pickled, by stack and config."""


def run_program(
    stack: str,
    overrides: Iterable[str] = (),
    config: Mapping[str, str] | None = None,
    registered: list[RegisteredResource] | None = None,
) -> ProgramRun:
    """What `tools.program.run_program` returns for the same arguments, computed once per session.

    With `registered` it always runs afresh: a caller passes it to see what a failing run registered before the
    error, or changes what the run meets (e.g. monkeypatches a preflight), which a kept run would never see.
    """
    if registered is not None:
        return program.run_program(stack, overrides, config, registered)
    # Keyed by the config the program receives, so overrides in another order, restating the stack file's value,
    # or handing over the same config ready-made (as the render command does) share one run.
    received = dict(config) if config is not None else program.stack_config(stack, overrides)
    key = (stack, tuple(sorted(received.items())))
    if key not in _PICKLED:
        _PICKLED[key] = shared(key, lambda: pickle.dumps(program.run_program(stack, config=received), PROTOCOL))
    return pickle.loads(_PICKLED[key])
