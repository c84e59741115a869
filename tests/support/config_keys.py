"""Every key of the stack config, walked from the pydantic model (so a new key is covered without a list to edit)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from components.config import StackConfig


@dataclass(frozen=True)
class ConfigKey:
    """One key under `brain:`: its dotted path, its default, whether it holds further keys, and its pydantic field."""

    path: str
    default: Any
    section: bool
    field: FieldInfo


def config_keys(model: type[BaseModel] = StackConfig, prefix: str = "") -> Iterator[ConfigKey]:
    """Every key, a section before the keys inside it."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield ConfigKey(f"{prefix}{name}", field.default, section=True, field=field)
            yield from config_keys(annotation, f"{prefix}{name}.")
        else:
            yield ConfigKey(f"{prefix}{name}", field.default, section=False, field=field)
