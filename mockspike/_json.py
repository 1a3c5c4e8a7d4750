"""Compact JSON in and out, through orjson: it is fast, rejects NaN/Infinity and bad UTF-8
like the real API, and caps nesting depth so hostile bodies cannot exhaust the stack.

The one home of the JSON helpers: wire dumps, canonical dumps (for hashing and matching),
and `loads_or_text` for bodies that may not be JSON."""

from __future__ import annotations

import json
from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (no spaces), as the API writes them on the wire."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, which orjson does not write
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(value: Any) -> bytes:
    """Compact JSON with sorted keys: equal values give equal bytes (keys, digests)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def loads_or_text(raw: bytes) -> Any:
    """The parsed JSON, the text when it is not JSON, None when empty (recorded bodies)."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def loads_object(raw: bytes) -> dict[str, Any] | None:
    """The body when it is a JSON object, else None (for the journal)."""
    value = loads_or_text(raw)
    return value if isinstance(value, dict) else None
