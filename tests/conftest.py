"""Settings for the whole suite."""

from __future__ import annotations

import gc

import pytest

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
