"""The request surface the official SDK types, as JSON Schema: the source of messages.json.

The Python SDK's `*Param` TypedDicts are generated from the API's own specification, so they
are the most complete public statement of what `POST /v1/messages` accepts. This module walks
them (the GA `MessageCreateParams` and its beta twin, merged) and writes the schema the
validator reads, adding the constraints the types cannot carry (ranges, patterns, how the API
names its tagged unions) from `OVERLAY`.

Run it when the SDK moves (the drift test, `tests/test_drift.py`, says when):

    python -m tools.surface          # rewrite mockspike/contract/schemas/messages.json

The SDK is a test dependency, imported only here; it is a build-time tool (`tools/`), which
nothing in the package imports.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

import typing_extensions as te

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "mockspike/contract/schemas/messages.json"
UNION_TYPES: tuple[Any, ...] = (typing.Union, getattr(__import__("types"), "UnionType", None))

#: Constraints the SDK's types do not carry, keyed by a path into the generated schema
#: (`/`-separated keys); each value is merged into the schema found there.
OVERLAY: dict[str, dict[str, Any]] = {
    # 0 populates the prompt cache without generating (the SDK's `max_tokens` docstring).
    "properties/max_tokens": {"minimum": 0},
    # Sampling options: current SDKs no longer type them, older ones do, the API takes them.
    "properties/temperature": {"type": "number", "minimum": 0, "maximum": 1},
    "properties/top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "properties/top_k": {"type": "integer", "minimum": 0},
    "$defs/metadata/properties/user_id": {"maxLength": 256},
    "$defs/tool/properties/name": {"pattern": "^[a-zA-Z0-9_-]{1,128}$"},
    "$defs/thinking_enabled/properties/budget_tokens": {"minimum": 1024},
    # User and assistant turns need content (only the beta's system turns may omit it).
    "$defs/message": {"required": ["role", "content"]},
}

#: Shorter names for a few definitions (also the names the OpenAPI description shows).
RENAME = {
    "thinking_config_enabled": "thinking_enabled",
    "thinking_config_disabled": "thinking_disabled",
    "thinking_config_adaptive": "thinking_adaptive",
    "thinking_config_between_tools": "thinking_between_tools",
}

#: SDK parameters sent as headers, not in the body.
HEADER_FIELDS = ("betas",)

#: Top-level fields first in this order (the first error reported is the first in schema order).
FIRST = ("model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k")

#: Objects the API validates as a tagged union even where the SDK has one member: the tag
#: appears in the API's error locations (`system.2.cache_control.ephemeral.scope`).
ONE_MEMBER_UNIONS = {"cache_control_ephemeral": "cache_control"}

#: Replacements for whole definitions whose SDK type is looser than the API.
REPLACE: dict[str, dict[str, Any]] = {
    # A JSON Schema object: the API requires `"type": "object"` and allows any other keyword.
    "input_schema_typed": {
        "required": ["type"],
        "properties": {"type": {"const": "object"}},
    },
}


def _def_name(cls: Any) -> str:
    """`BetaWebSearchTool20250305Param` -> `web_search_tool_20250305`: GA and beta twins share one
    definition."""
    name = cls.__name__.removeprefix("Beta")
    name = re.sub(r"(ParamParam|Params?)$", "", name) or cls.__name__
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    name = re.sub(r"(?<=[A-Za-z])_?(?=\d{6,})", "_", name)
    name = name.lower().replace("__", "_")
    return RENAME.get(name, name)


def _strip(tp: Any) -> Any:
    """Drop `Required`, `NotRequired` and `Annotated` wrappers."""
    while True:
        origin = typing.get_origin(tp)
        wrapper = getattr(origin, "__name__", "") in ("Required", "NotRequired")
        if origin in (typing.Annotated, te.Annotated) or wrapper:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _is_required(tp: Any) -> bool:
    while True:
        origin = typing.get_origin(tp)
        if getattr(origin, "__name__", "") == "Annotated" or origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        return getattr(origin, "__name__", "") == "Required"


def _members(tp: Any) -> list[Any]:
    tp = _strip(tp)
    if typing.get_origin(tp) in UNION_TYPES:
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_members(arg))
        return out
    return [tp]


def fields(cls: Any) -> dict[str, tuple[Any, bool]]:
    """A TypedDict's fields: name -> (type, required)."""
    hints = te.get_type_hints(cls, include_extras=True)
    required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
    return {name: (tp, name in required or _is_required(tp)) for name, tp in hints.items()}


def tag_values(cls: Any) -> tuple[list[str], bool]:
    """The `type` literal(s) of a TypedDict, and whether `type` is required."""
    found = fields(cls).get("type")
    if found is None:
        return [], False
    values: list[str] = []
    for member in _members(found[0]):
        if typing.get_origin(member) in (typing.Literal, te.Literal):
            values.extend(str(v) for v in typing.get_args(member))
    return values, found[1]


class Builder:
    """Turns SDK types into JSON Schema, one `$defs` entry per TypedDict (twins merged).

    Where a field holds objects, the classes every root puts there are collected first (the
    GA type and its beta twin may list different members), then written once: a plain
    reference for one class, a tagged union for several."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.slots: dict[str, list[Any]] = {}
        self.merged: dict[str, str] = {}
        """Definitions folded into another one that has the same tag."""
        self._done: set[Any] = set()

    def schema(self, tp: Any, where: str) -> dict[str, Any]:
        members = _members(tp)
        kinds: list[str] = []
        out: dict[str, Any] = {}
        enum: list[Any] = []
        objects: list[Any] = []
        free_object = False
        items: list[Any] = []
        for m in members:
            origin = typing.get_origin(m)
            if m is type(None):
                kinds.append("null")
                enum.append(None)
            elif origin in (typing.Literal, te.Literal):
                enum.extend(typing.get_args(m))
            elif (
                m is str or m is bytes or getattr(origin or m, "__name__", "") in ("IO", "PathLike")
            ):
                kinds.append("string")  # files the SDK base64-encodes into a string
            elif m is bool:
                kinds.append("boolean")
            elif m is int:
                kinds.append("integer")
            elif m is float:
                kinds.append("number")
            elif m is object or m is Any:
                return {}
            elif hasattr(m, "model_fields") or hasattr(m, "__fields__"):
                continue  # a response model the SDK also takes: it serialises to a param shape
            elif te.is_typeddict(m):
                objects.append(m)
            elif (
                origin is dict
                or m is dict
                or getattr(origin, "__name__", "") in ("Dict", "Mapping")
            ):
                values = typing.get_args(m)[1:]
                if values and te.is_typeddict(values[0]):
                    out["additionalProperties"] = self.schema(values[0], where)
                free_object = True
            elif origin is not None:
                items.append(typing.get_args(m)[0] if typing.get_args(m) else str)
            elif getattr(m, "__name__", "") == "SequenceNotStr":
                items.append(str)
            else:
                raise TypeError(f"cannot describe {m!r} at {where}")
        only_enum = all(k == "null" for k in kinds) and not (objects or items or free_object)
        if enum and only_enum:
            return {"enum": list(dict.fromkeys(enum))}
        kinds.extend(_json_type(v) for v in enum if v is not None)
        if items:
            kinds.append("array")
            item_schemas = [self.schema(i, where) for i in items]
            out["items"] = item_schemas[0]
            for extra in item_schemas[1:]:
                out["items"] = merge(out["items"], extra)
        if objects or free_object:
            kinds.append("object")
        if objects:
            slot = self.slots.setdefault(where, [])
            slot.extend(c for c in objects if c not in slot)
            for cls in objects:
                self.typeddict(cls)
            out["allOf"] = [{"$ref": "#/$defs/@" + where}]
        kinds = list(dict.fromkeys(kinds))
        return {"type": kinds[0] if len(kinds) == 1 else kinds, **out}

    def typeddict(self, cls: Any) -> str:
        name = _def_name(cls)
        if cls in self._done:
            return name
        self._done.add(cls)
        if name in REPLACE:
            self.defs[name] = copy.deepcopy(REPLACE[name])
            return name
        owner = "message" if "role" in fields(cls) else name
        self._add(name, self.object(cls, owner))
        return name

    def object(self, cls: Any, owner: str) -> dict[str, Any]:
        props = {}
        required = []
        for field, (tp, req) in fields(cls).items():
            if field in HEADER_FIELDS:
                continue
            props[field] = self.schema(tp, f"{owner}.{field}")
            if req:
                required.append(field)
            else:
                props[field] = _nullable(props[field])
        extra = (getattr(cls, "__pydantic_config__", None) or {}).get("extra") == "allow"
        return {"properties": props, "required": required, "additionalProperties": extra}

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        old = self.defs.get(name)
        self.defs[name] = schema if old is None else merge(old, schema)

    def finish(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Write each slot's definition and point its references at it."""
        targets = {where: self.slot(where, classes) for where, classes in self.slots.items()}
        text = json.dumps({**schema, "$defs": self.defs})
        for where, target in sorted(targets.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(f'"#/$defs/@{where}"', f'"#/$defs/{target}"')
        out: dict[str, Any] = json.loads(text)
        used = set(re.findall(r'"#/\$defs/([^"]+)"', text))
        out["$defs"] = {k: v for k, v in sorted(out["$defs"].items()) if k in used}
        out["x-merged"] = dict(sorted(self.merged.items()))
        return out

    def slot(self, where: str, classes: list[Any]) -> str:
        names = list(dict.fromkeys(_def_name(c) for c in classes))
        if len(names) == 1 and names[0] not in ONE_MEMBER_UNIONS:
            return names[0]
        name = ONE_MEMBER_UNIONS.get(names[0], where.replace(".", "_"))
        tags: dict[str, tuple[str, bool]] = {}
        for cls in classes:
            values, required = tag_values(cls)
            if not values:
                return self._merged(names)
            for value in values:
                target, was_required = tags.get(value, (_def_name(cls), True))
                if target != _def_name(cls):  # two types for one tag (GA and beta): merged
                    self.defs[target] = merge(self.defs[target], self.defs[_def_name(cls)])
                    self.merged[_def_name(cls)] = target
                tags[value] = (target, required and was_required)
        branches = []
        for value, (target, required) in tags.items():
            cond: dict[str, Any] = {"properties": {"type": {"const": value}}}
            if required:
                cond["required"] = ["type"]
            branches.append({"if": cond, "then": {"$ref": "#/$defs/" + target}})
        union: dict[str, Any] = {
            "x-union": "type",
            "properties": {"type": {"x-tag": True, "enum": list(tags)}},
            "allOf": branches,
        }
        if all(required for _, required in tags.values()):
            union["required"] = ["type"]
        for existing, schema in self.defs.items():
            if schema == union:
                return existing  # the same union in another place: one definition
        self.defs[name] = union
        return name

    def _merged(self, names: list[str]) -> str:
        """Unions told apart by `role` (messages): the API names no tag in their locations,
        so one definition accepts what any member does."""
        merged: dict[str, Any] = {}
        for name in names:
            if "role" not in self.defs[name]["properties"]:
                raise TypeError(f"untagged union of {names}")
            merged = merge(merged, self.defs[name]) if merged else copy.deepcopy(self.defs[name])
        self.defs["message"] = merged
        return "message"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field also takes `null`: the SDK sends `null` for unset fields of the
    response blocks it sends back (`"caller": null` on a `tool_use`), and the API takes it."""
    if "enum" in schema and None not in schema["enum"]:
        return {**schema, "enum": [*schema["enum"], None]}
    kinds = schema.get("type")
    if kinds is None or "null" in _list(kinds):
        return schema
    return {**schema, "type": [*_list(kinds), "null"]}


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}[type(value)]


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """One schema that accepts what either accepts (for GA and beta twins): fields united,
    required fields intersected, enums joined."""
    if a == b:
        return a
    if not a or not b:
        return {}
    out = dict(a)
    if "enum" in a and "enum" in b:
        out["enum"] = list(dict.fromkeys([*a["enum"], *b["enum"]]))
        return out
    if "type" in a or "type" in b:
        ta = a.get("type", [])
        tb = b.get("type", [])
        kinds = list(dict.fromkeys([*_list(ta), *_list(tb)]))
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "properties" in a or "properties" in b:
        pa, pb = a.get("properties", {}), b.get("properties", {})
        out["properties"] = {
            k: merge(pa[k], pb[k]) if k in pa and k in pb else (pa.get(k) or pb[k])
            for k in dict.fromkeys([*pa, *pb])
        }
    if "required" in a or "required" in b:
        out["required"] = [r for r in a.get("required", []) if r in b.get("required", [])]
    if "additionalProperties" in a or "additionalProperties" in b:
        out["additionalProperties"] = bool(
            a.get("additionalProperties") or b.get("additionalProperties")
        )
    if "items" in a and "items" in b:
        out["items"] = merge(a["items"], b["items"])
    elif "items" in b:
        out["items"] = b["items"]
    if "allOf" in a and "allOf" in b:
        seen = {json.dumps(x, sort_keys=True): x for x in [*a["allOf"], *b["allOf"]]}
        out["allOf"] = list(seen.values())
        if "x-union" in out:
            tags = [x["if"]["properties"]["type"]["const"] for x in out["allOf"]]
            out["properties"] = {"type": {"x-tag": True, "enum": list(dict.fromkeys(tags))}}
    elif "allOf" in b:
        out["allOf"] = b["allOf"]
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def sdk_roots() -> dict[str, list[Any]]:
    """The installed SDK's request types: `messages` and `count_tokens`, GA and beta."""
    from anthropic.types import message_count_tokens_params as ga_count
    from anthropic.types import message_create_params as ga

    roots: dict[str, list[Any]] = {
        "messages": [ga.MessageCreateParamsNonStreaming, ga.MessageCreateParamsStreaming],
        "count_tokens": [ga_count.MessageCountTokensParams],
    }
    try:
        from anthropic.types.beta import message_count_tokens_params as beta_count
        from anthropic.types.beta import message_create_params as beta
    except ImportError:  # pragma: no cover - every supported SDK has a beta namespace
        return roots
    roots["messages"] += [beta.MessageCreateParamsNonStreaming, beta.MessageCreateParamsStreaming]
    roots["count_tokens"].append(beta_count.MessageCountTokensParams)
    return roots


def build() -> dict[str, Any]:
    """The whole request schema, from the installed SDK plus `OVERLAY`."""
    builder = Builder()
    roots = sdk_roots()
    top: dict[str, Any] = {}
    for cls in roots["messages"]:
        part = builder.object(cls, "request")
        top = merge(top, part) if top else part
    counted: list[str] = []
    for cls in roots["count_tokens"]:
        part = builder.object(cls, "request")
        counted.extend(part["properties"])
    top["properties"]["stream"] = {"type": "boolean"}
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "mockspike:messages-request",
        "title": "POST /v1/messages request body",
        "x-generated": "python -m tools.surface (from the anthropic SDK's types)",
        "x-count-tokens": sorted(dict.fromkeys(counted)),
        "type": "object",
        **top,
    }
    schema = builder.finish(schema)
    schema["required"] = ["model", "messages", "max_tokens"]
    overlay(schema)
    props = schema["properties"]
    schema["properties"] = {k: props[k] for k in (*FIRST, *props) if k in props}
    return schema


def overlay(schema: dict[str, Any]) -> None:
    """Write `OVERLAY`'s constraints into `schema` (they win over what it had)."""
    for path, extra in OVERLAY.items():
        node: Any = schema
        *parents, last = path.split("/")
        for key in parents:
            node = node[key]
        node.setdefault(last, {}).update(extra)


def combine(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The schema only grows: what an earlier run (another SDK generation) knew is kept."""
    out = dict(new)
    out["properties"] = merge({"properties": old["properties"]}, {"properties": new["properties"]})[
        "properties"
    ]
    out["properties"] = {
        k: out["properties"][k] for k in (*FIRST, *out["properties"]) if k in out["properties"]
    }
    defs_old, defs_new = old["$defs"], new["$defs"]
    out["$defs"] = {
        k: merge(defs_old[k], defs_new[k])
        if k in defs_old and k in defs_new
        else defs_old.get(k) or defs_new[k]
        for k in sorted({*defs_old, *defs_new})
    }
    out["x-count-tokens"] = sorted({*old.get("x-count-tokens", []), *new["x-count-tokens"]})
    out["x-merged"] = dict(sorted({**old.get("x-merged", {}), **new["x-merged"]}.items()))
    overlay(out)
    return out


def main() -> None:
    """Regenerate the schema from the installed SDK, keeping what it already had (run it under
    each SDK generation); `--fresh` starts from the installed SDK alone."""
    schema = build()
    if SCHEMA_PATH.exists() and "--fresh" not in sys.argv:
        schema = combine(json.loads(SCHEMA_PATH.read_text("utf-8")), schema)
    SCHEMA_PATH.write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SCHEMA_PATH} ({len(schema['$defs'])} definitions)", file=sys.stderr)


if __name__ == "__main__":
    main()
