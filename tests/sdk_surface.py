"""The installed SDK's request types, walked: every TypedDict a request can reach, and a valid
example of each (for the drift test). Works under both SDK generations."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import typing_extensions as te

from tools import surface


def classes(roots: list[Any]) -> dict[Any, str]:
    """Every TypedDict reachable from `roots`, with the path it was first reached by (the
    drift report's own walk)."""
    from tools.drift import request_classes

    return request_classes(roots)


def _members(tp: Any) -> Iterator[Any]:
    yield from surface._members(tp)


def example(tp: Any, depth: int = 0) -> Any:
    """A value of type `tp`: every field of a TypedDict filled (to a depth), the richest member
    of a union, the first value of a literal."""
    members = [m for m in _members(tp) if m is not type(None)]
    typed = [m for m in members if te.is_typeddict(m)]
    if typed:
        return typed_example(typed[0], depth)
    lists = [m for m in members if typing.get_origin(m) is not None and typing.get_args(m)]
    lists = [m for m in lists if typing.get_origin(m) not in (typing.Literal, te.Literal)]
    for m in members:
        if typing.get_origin(m) in (typing.Literal, te.Literal):
            return typing.get_args(m)[0]
    if str in members:
        return "x"
    for m in lists:
        if typing.get_origin(m) in (dict, typing.Dict):  # noqa: UP006
            return {}
        return [example(typing.get_args(m)[0], depth + 1)]
    for m in members:
        if m is str:
            return "x"
        if m is bool:
            return True
        if m is int:
            return 1024
        if m is float:
            return 0.5
    return {}


def typed_example(cls: Any, depth: int = 0) -> dict[str, Any]:
    """`cls` with its required fields, and (near the top) its optional ones too; no
    `cache_control` below the top (at most four breakpoints)."""
    out: dict[str, Any] = {}
    for name, (tp, required) in surface.fields(cls).items():
        if name == "cache_control" and depth > 0:
            continue
        if required or depth < 2:
            out[name] = example(tp, depth + 1)
    return out
