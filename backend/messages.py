"""What a client sends to broadcast, `{"broadcast": <JSON value>}`, read within limits every replica can honour.

Python's json module takes more than JSON: `NaN` and `Infinity` (which it would then send to every client as
text no JSON parser accepts), and nesting until the interpreter's recursion limit (a RecursionError, not a
parse error). Both are refused here, with a reason the client can act on.
"""

from __future__ import annotations

import json
import math

MAX_JSON_DEPTH = 64
"""Nested arrays and objects a message may have, counting the message object itself."""

NOT_A_BROADCAST = object()
"""The value of a message that is no JSON at all, or no `{"broadcast": ...}` object: an echo on a WebSocket."""


class RefusedJson(Exception):
    """JSON-like text the contract refuses: the client gets 400 (HTTP) or close code 1007 (WebSocket)."""


def broadcast_value(text: str | bytes) -> object:
    """The value of a `{"broadcast": value}` message, or NOT_A_BROADCAST; RefusedJson for NaN, Infinity, a
    number too large to be finite, or nesting deeper than MAX_JSON_DEPTH."""
    try:
        message = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise RefusedJson(_too_deep()) from None
    except ValueError:  # not JSON (nor UTF-8): an ordinary text message
        return NOT_A_BROADCAST
    if _deeper_than(message, MAX_JSON_DEPTH):
        raise RefusedJson(_too_deep())
    if isinstance(message, dict) and "broadcast" in message:
        return message["broadcast"]
    return NOT_A_BROADCAST


def _refuse_constant(name: str) -> float:
    raise RefusedJson(f"{name} is not a JSON number; send finite numbers only")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RefusedJson(f"{text[:20]} is too large for a finite number; send finite numbers only")
    return value


def _too_deep() -> str:
    return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


def _deeper_than(value: object, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep (iteratively: no recursion to exhaust)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
