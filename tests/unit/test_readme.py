"""The README's config reference lists every key of the stack config, with the default the code uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from components.config import StackConfig

README = Path(__file__).resolve().parents[2] / "README.md"


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _leaf_keys(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field.default


def _documented() -> dict[str, str]:
    rows = re.findall(r"^\| `([\w.]+)` \| ([^|]+) \|", README.read_text(), re.M)
    return {key: default.strip() for key, default in rows}


def _as_documented(default: Any) -> str:
    if default is None:  # no default: the key must be set (for the target it applies to)
        return "(required for eks)"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, list):
        return "`[" + ", ".join(str(item) for item in default) + "]`"
    if isinstance(default, str):
        return f'`{default or chr(34) * 2}`'
    return f"`{default}`"


def test_every_config_key_is_documented_with_its_default() -> None:
    documented = _documented()
    for key, default in _leaf_keys(StackConfig):
        assert key in documented, f"README config reference lacks brain:{key}"
        if key != "target":
            assert documented[key] == _as_documented(default), (
                f"README says brain:{key} defaults to {documented[key]}, the code says {_as_documented(default)}"
            )


def test_readme_documents_no_key_the_config_lacks() -> None:
    known = {key for key, _ in _leaf_keys(StackConfig)}
    assert set(_documented()) <= known, f"README documents unknown keys: {set(_documented()) - known}"
