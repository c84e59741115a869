"""Settings for the whole suite."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile

import pytest

from tests.support.session_cache import SESSION_DIR

_OWN_SESSION_DIR = pytest.StashKey[str]()
"""The session directory this process made, and so removes at the end."""

YOUNG_GENERATION_THRESHOLD = 100_000
"""Allocations between two collections of the youngest generation (Python's default: 700)."""


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the cyclic garbage collector off what collection imported.

    The provider SDKs are large, live until the end, and hold no garbage, but a full collection walks all of them:
    about 0.1 s, after every second mock run of the program. Frozen, they are no longer walked, and a larger
    young generation makes full collections rarer still: the unit suite on 2 workers, 37 s -> 31 s here.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


def pytest_configure(config: pytest.Config) -> None:
    """The directory the session's workers share values in (tests/support/session_cache.py, e.g. mock runs):
    a new one made by the process that starts the session, whatever its environment held; pytest-xdist's workers
    inherit it."""
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        return
    os.environ[SESSION_DIR] = tempfile.mkdtemp(prefix="brain-test-session-")
    config.stash[_OWN_SESSION_DIR] = os.environ[SESSION_DIR]


def pytest_unconfigure(config: pytest.Config) -> None:
    if directory := config.stash.get(_OWN_SESSION_DIR, None):
        shutil.rmtree(directory, ignore_errors=True)
        del os.environ[SESSION_DIR]
