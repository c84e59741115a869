"""Values computed once per test session and shared by its pytest-xdist workers, as files in a directory the
process that starts the session makes (tests/conftest.py): the first worker to need a value computes it under a
lock of its own, the others wait for it and read it."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

SESSION_DIR = "BRAIN_TEST_SESSION_CACHE"
"""Environment variable naming the session's directory; unset (no session made one), nothing is shared."""


def shared(key: Any, compute: Callable[[], bytes]) -> bytes:
    """The bytes kept for `key` (anything JSON can write) in this session, or `compute()` kept for it. What
    `compute` raises propagates, and nothing is kept."""
    directory = os.environ.get(SESSION_DIR)
    if directory is None:
        return compute()
    path = Path(directory) / hashlib.sha256(json.dumps(key).encode()).hexdigest()
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also when `compute` raises
        if path.exists():
            return path.read_bytes()
        value = compute()
        path.write_bytes(value)
        return value
