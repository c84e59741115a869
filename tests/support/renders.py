"""One mock run of the program per distinct stack config and test session, shared by the unit tests that only
read it.

A run is a pure function of the stack file and the overrides (tests/unit/tools/test_render.py proves two
fresh renders byte-identical), so repeating it only costs time: about 0.1 s (dev) or 0.2 s (prod) a run, most
of the unit suite. The first worker of a session to need a config runs it and leaves it pickled in the
session's directory (`SHARED_RUNS_DIR`, made by tests/conftest.py); the other workers wait for it and read it.
Every caller gets its own unpickled copy, so a test that edits what it got cannot change what the next one
sees (a copy costs a tenth of a deepcopy).
Runs that fail (invalid config) are not kept; a test that changes what the program meets (a monkeypatch)
must run it itself (`tools.program.run_program`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from tools import program
from tools.program import ProgramRun, RegisteredResource

SHARED_RUNS_DIR = "BRAIN_TEST_SHARED_RUNS"
"""Environment variable naming the directory the session's runs are shared in; unset, each process runs its own."""


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
        _PICKLED[key] = _shared(key, lambda: pickle.dumps(program.run_program(stack, config=received), PROTOCOL))
    return pickle.loads(_PICKLED[key])


def _shared(key: tuple[str, tuple[tuple[str, str], ...]], run: Callable[[], bytes]) -> bytes:
    """The pickled run for `key` from this session's directory, or `run()` (under a lock per key, so two workers
    never both run it) left there; what `run` raises propagates, and nothing is left."""
    directory = os.environ.get(SHARED_RUNS_DIR)
    if directory is None:
        return run()
    path = Path(directory) / f"{hashlib.sha256(json.dumps(key).encode()).hexdigest()}.pickle"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also when the run raises
        if path.exists():
            return path.read_bytes()
        pickled = run()
        path.write_bytes(pickled)
        return pickled
