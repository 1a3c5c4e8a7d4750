"""Compact JSON in and out, through orjson: it is fast, rejects NaN/Infinity and bad UTF-8
like the real API. Every JSON the fake reads (request bodies, admin input, cassettes) may
nest at most `MAX_DEPTH` arrays and objects: deeper is a `JSONDecodeError`, so the parse
error answers it (a 400 envelope) and every later stage (hashing, the journal, cassettes)
can write what it was given.

The one home of the JSON helpers: wire dumps, canonical dumps (for hashing and matching),
and `loads_or_text` for bodies that may not be JSON."""

from __future__ import annotations

import json
from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError
MAX_DEPTH = 128
"""Levels of nested arrays and objects any JSON read may have."""
_WRITE_DEPTH = 254
"""orjson writes at most this many levels (pinned by a unit test)."""


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (no spaces), as the API writes them on the wire."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, which orjson does not write
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def pretty(value: Any) -> bytes:
    """Indented JSON (two spaces, UTF-8, a final newline) for files people diff (cassettes)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:  # integers beyond 64 bits
        return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def canonical(value: Any) -> bytes:
    """Compact JSON with sorted keys: equal values give equal bytes (keys, digests)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def loads(data: bytes | str) -> Any:
    """The parsed value; a `JSONDecodeError` when invalid or nested over `MAX_DEPTH`."""
    try:
        value = orjson.loads(data)
    except JSONDecodeError as exc:
        if exc.msg.startswith("depth limit"):  # orjson's own, past 1024 levels
            raise _too_deep() from None
        raise
    if _may_be_deep(data) and not _shallow(value):
        raise _too_deep()
    return value


def _too_deep() -> JSONDecodeError:
    message = f"depth limit exceeded: more than {MAX_DEPTH} levels of nested arrays and objects"
    return JSONDecodeError(message, "", 0)


def _may_be_deep(data: bytes | str) -> bool:
    """Cheap: a value needs more than MAX_DEPTH brackets to nest deeper than that."""
    opening = (b"[", b"{") if isinstance(data, bytes) else ("[", "{")
    return data.count(opening[0]) + data.count(opening[1]) > MAX_DEPTH  # type: ignore[arg-type]


def _shallow(value: Any) -> bool:
    """True when `value` nests at most MAX_DEPTH levels: orjson, which refuses to write past
    `_WRITE_DEPTH` levels, is asked to write it under the difference (C speed, no walk)."""
    for _ in range(_WRITE_DEPTH - MAX_DEPTH):
        value = [value]
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        return "Recursion" not in str(exc)
    return True


def loads_or_text(raw: bytes) -> Any:
    """The parsed JSON, the text when it is not JSON (or nests deeper than `MAX_DEPTH`:
    kept as text, every later stage can write it), None when empty (recorded bodies)."""
    if not raw:
        return None
    try:
        return loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def loads_object(raw: bytes) -> dict[str, Any] | None:
    """The body when it is a JSON object, else None (for the journal)."""
    value = loads_or_text(raw)
    return value if isinstance(value, dict) else None
