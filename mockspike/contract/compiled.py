"""The fast acceptance check, and the slow path that explains a rejection.

Acceptance is decided by jsonschema-rs (the schema compiled in Rust): its cost is
proportional to the body and small (a 13-turn agent history in ~25 us, where jsonschema in
Python spends milliseconds on its union branches), and it compiles the 2026 request schema
in milliseconds. Only a body it rejects goes through jsonschema, whose detailed errors give
the API's exact message; that walk descends into an array's first failing item only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.validators import extend

Check = Callable[[Any], bool]

__all__ = ["Check", "compile_schema", "explaining_validator"]


def compile_schema(schema: dict[str, Any]) -> Check:
    """True for a value the schema accepts. A value JSON cannot hold (bytes, a set) is
    refused here and left to jsonschema to explain."""
    is_valid = jsonschema_rs.validator_for(_chained(schema)).is_valid

    def check(value: Any) -> bool:
        try:
            return bool(is_valid(value))
        except ValueError:
            return False

    return check


def _chained(node: Any) -> Any:
    """The same schema, each tagged union (`x-union`: an `allOf` of "if the tag is X, then
    branch X") checked as one `if`/`then`/`else` chain. On an object the tags are distinct
    constants that each `if` requires, so at most one `if` holds and the chain accepts what
    the `allOf` accepts; but the `allOf` evaluates every `if` (some 40 for a content block)
    where the chain stops at the first that holds, `COMMON_TAGS` tried first. A value that
    is not an object keeps the `allOf` (every `if` holds on it). Agent body: 24 -> 8 us."""
    if isinstance(node, list):
        return [_chained(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _chained(value) for key, value in node.items()}
    tag, branches = out.get("x-union"), out.get("allOf")
    if not isinstance(branches, list) or "if" in out or not _tagged(tag, branches):
        return out  # not that shape: kept as written
    chain: dict[str, Any] = {}
    for branch in reversed(sorted(branches, key=lambda b: _rank(b["if"]["properties"][tag]))):
        chain = {**branch, "else": chain} if chain else dict(branch)
    del out["allOf"]
    return {**out, "if": {"type": "object"}, "then": chain, "else": {"allOf": branches}}


#: Tags most requests carry, tried first in every union (the rest keep the schema's order).
COMMON_TAGS = ("text", "tool_use", "tool_result")


def _rank(tag_schema: dict[str, Any]) -> int:
    const = tag_schema["const"]
    return COMMON_TAGS.index(const) if const in COMMON_TAGS else len(COMMON_TAGS)


def _tagged(tag: Any, branches: list[Any]) -> bool:
    """True when each branch is `if` (`tag` is a constant, required) `then` (anything), and
    no two constants are equal."""
    consts = []
    for branch in branches:
        condition = branch.get("if") if isinstance(branch, dict) else None
        if set(branch) != {"if", "then"} or not isinstance(condition, dict):
            return False
        if condition.get("required") != [tag] or set(condition) != {"properties", "required"}:
            return False
        properties = condition["properties"]
        if set(properties) != {tag} or set(properties[tag]) != {"const"}:
            return False
        consts.append(properties[tag]["const"])
    return len(set(map(repr, consts))) == len(consts)


def explaining_validator(root: dict[str, Any]) -> Draft202012Validator:
    """jsonschema's validator for `root`, for the rejection path's exact messages, that
    descends into an array's first failing item only (found by compiled checks of the item
    schema). The caller reports the error that comes first in schema and index order, and
    every error inside item `i` comes before any inside a later item, so the answer is the
    same; but a body of a million blocks with one bad block costs one compiled pass, not a
    million jsonschema descents."""
    checks: dict[int, Check] = {}
    definitions: dict[str, Any] = {
        k: root[k] for k in ("$schema", "$defs", "definitions") if k in root
    }
    stock_items = Draft202012Validator.VALIDATORS["items"]

    def item_check(items: dict[str, Any]) -> Check:
        check = checks.get(id(items))
        if check is None:
            check = checks[id(items)] = compile_schema({**items, **definitions})
        return check

    def items(
        validator: Draft202012Validator, items: Any, instance: Any, schema: dict[str, Any]
    ) -> Any:
        if not (isinstance(items, dict) and isinstance(instance, list)) or "prefixItems" in schema:
            yield from stock_items(validator, items, instance, schema)
            return
        check = item_check(items)
        for index, item in enumerate(instance):
            if not check(item):
                yield from validator.descend(instance=item, schema=items, path=index)
                return

    cls = extend(Draft202012Validator, {"items": items})  # type: ignore[no-untyped-call]
    validator: Draft202012Validator = cls(root)
    return validator
