"""Compact JSON in and out, through orjson: it is fast, rejects NaN/Infinity and bad UTF-8
like the real API, and caps nesting depth so hostile bodies cannot exhaust the stack."""

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


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
