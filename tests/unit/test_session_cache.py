"""tests/support/session_cache: what the unit suite's workers share is computed once per session, never kept
when computing it fails, and kept apart by key."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support import session_cache


@pytest.fixture
def session_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(session_cache.SESSION_DIR, str(tmp_path))
    return tmp_path


def test_two_workers_asking_at_once_compute_once(session_dir: Path) -> None:
    computed: list[int] = []

    def compute() -> bytes:
        computed.append(1)
        time.sleep(0.2)  # long enough for the second caller to arrive while the first still computes
        return b"run"

    results: list[bytes] = []
    callers = [threading.Thread(target=lambda: results.append(session_cache.shared(["dev", []], compute))) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=10)
    assert results == [b"run", b"run"] and computed == [1]


def test_a_failed_computation_is_not_kept(session_dir: Path) -> None:
    def fail() -> bytes:
        raise ValueError("invalid config")

    with pytest.raises(ValueError, match="invalid config"):
        session_cache.shared("prod", fail)
    assert session_cache.shared("prod", lambda: b"second try") == b"second try"


def test_keys_are_kept_apart(session_dir: Path) -> None:
    assert session_cache.shared(["dev", [["a", "1"]]], lambda: b"one") == b"one"
    assert session_cache.shared(["dev", [["a", "2"]]], lambda: b"two") == b"two"
    assert session_cache.shared(["dev", [["a", "1"]]], lambda: b"not computed again") == b"one"


def test_without_a_session_directory_each_call_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(session_cache.SESSION_DIR, raising=False)
    assert session_cache.shared("k", lambda: b"1") == b"1"
    assert session_cache.shared("k", lambda: b"2") == b"2"
