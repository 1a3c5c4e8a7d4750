"""Dotted body paths, as the near-miss diff prints them: `metadata.user_id`,
`messages.0.content` (a number steps into a list). Used to leave parts of a request out of
matching and to redact them."""

from __future__ import annotations

from typing import Any


def _step(value: Any, part: str) -> str | int | None:
    """The key or index `part` names in `value`, if it is there."""
    if isinstance(value, dict):
        return part if part in value else None
    if isinstance(value, list) and part.isdigit() and int(part) < len(value):
        return int(part)
    return None


def delete(value: Any, dotted: str) -> Any:
    """`value` without what `dotted` names (a copy along the path; unchanged if absent)."""
    return _delete(value, dotted.split("."))


def _delete(value: Any, path: list[str]) -> Any:
    key = _step(value, path[0]) if path else None
    if key is None:
        return value
    if len(path) == 1:
        if isinstance(key, int):
            return value[:key] + value[key + 1 :]
        return {k: v for k, v in value.items() if k != key}
    return _put(value, key, _delete(value[key], path[1:]))


def replace(value: Any, dotted: str, new: Any) -> tuple[Any, int, int]:
    """`value` with what `dotted` names set to `new` (a copy along the path), how many
    values the path found (0 or 1), and how many it changed."""
    return _replace(value, dotted.split("."), new)


def _replace(value: Any, path: list[str], new: Any) -> tuple[Any, int, int]:
    key = _step(value, path[0]) if path else None
    if key is None:
        return value, 0, 0
    if len(path) == 1:
        return _put(value, key, new), 1, int(value[key] != new)
    inner, found, changed = _replace(value[key], path[1:], new)
    return _put(value, key, inner), found, changed


def _put(value: Any, key: str | int, item: Any) -> Any:
    if isinstance(key, int):
        return [*value[:key], item, *value[key + 1 :]]
    return {**value, key: item}
