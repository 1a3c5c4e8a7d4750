"""A JSON value valid against a JSON Schema, drawn deterministically from a `Random`.

The one generator behind structured outputs (`output_config.format`), forced `tool_use`
inputs and `strict` tools. It covers what the API accepts for structured outputs (types and
type lists, `enum`, `const`, `anyOf`/`oneOf`/`allOf`, local `$ref` into `$defs` or
`definitions`, `required`, `additionalProperties`, `minItems`, string `format` and
`pattern`) and more that hand-written schemas use (numeric bounds and `multipleOf`, string
and array lengths, `uniqueItems`, `prefixItems`, recursive `$ref`).

Constraints that the Anthropic SDK moves out of a schema into its `description` (as
`{minimum: 1, maxLength: 5}`, see `anthropic.lib._parse._transform.transform_schema`) are
honoured too, so `messages.parse` with a constrained Pydantic model gets a value its model
accepts.

Every draw runs under a work budget (values, characters, nesting): a schema that needs
unbounded work (`minItems: 10000000`, deep `$ref` fan-out) fails fast with `SchemaError`
naming the schema path, and every value is checked against the schema with `jsonschema`
before it is returned, so the fake never answers with a value the schema refuses.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import jsonschema
import orjson

from mockspike.synthetic.strings import (
    FORMATS,
    PatternError,
    WorkExceeded,
    from_pattern,
    parse_pattern,
    words,
)

Path = tuple[str | int, ...]
_NUMERIC = ("integer", "number")
_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
#: A `{key: value, ...}` trailer the SDK appends to a description for constraints it strips.
_HINT_TRAILER = re.compile(r"(?:\A|\n\n)\{(?P<body>[^\n]*)\}\Z")
_HINT_KEY = re.compile(r"(?:\A|, )(?P<key>[A-Za-z]+): ")
_HINT_NUMBERS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_HINT_COUNTS = ("minLength", "maxLength", "minItems", "maxItems")


class SchemaError(ValueError):
    """No value can be drawn for this schema: unsatisfiable, unsupported, or over budget.

    `path` locates the offending keyword inside the schema (JSON Schema keys and indexes).
    """

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def where(self, prefix: str) -> str:
        """`prefix.path.to.keyword: message`, as the API words a location."""
        return ".".join([prefix, *map(str, self.path)]) + ": " + self.message


class SchemaTooLarge(SchemaError):
    """The value would take more work than the budget allows."""


@dataclass(frozen=True)
class Limits:
    """The work one draw may do. Plenty for any real schema; tiny next to a freeze."""

    values: int = 20_000
    """JSON values drawn (abandoned attempts count too)."""
    chars: int = 200_000
    """Characters in all drawn strings."""
    depth: int = 48
    """Nesting depth past which a draw gives up (a recursive `$ref` with no way out)."""
    lean_depth: int = 12
    """Nesting depth past which optional parts are left out."""
    lean_refs: int = 4
    """`$ref`s followed on one path past which optional parts are left out (recursion)."""


LIMITS = Limits()


def generate(
    schema: Any, rng: random.Random, *, limits: Limits = LIMITS, hints: bool = True
) -> Any:
    """A value valid against `schema`, the same for the same `rng` state.

    Raises `SchemaError` (with the schema path) when the schema is malformed, cannot be
    satisfied, or would need more work than `limits` allow.
    """
    try:
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
        validator = _validator(key)
    except TypeError:  # nesting orjson refuses, or integers beyond 64 bits
        try:
            validator = _validator(json.dumps(schema, sort_keys=True).encode())
        except RecursionError:
            raise SchemaTooLarge((), "the schema nests too deeply") from None
    error: SchemaError | None = None
    for attempt, use_hints in enumerate((hints, hints, False)):
        draw_rng = rng if attempt == 0 else random.Random(rng.getrandbits(64))
        draw = _Draw(schema, validator, draw_rng, limits, use_hints)
        try:
            value = draw.value(schema, (), 0, 0)
        except RecursionError:
            raise SchemaTooLarge((), "the schema nests too deeply") from None
        except SchemaTooLarge:
            raise
        except SchemaError as failure:
            error = failure
            continue
        problem = next(iter(validator.iter_errors(value)), None)
        if problem is None:
            return value
        error = SchemaError(
            tuple(problem.schema_path),
            f"mockspike could not draw a value valid against this schema ({problem.message})",
        )
    assert error is not None
    raise error


@functools.lru_cache(maxsize=256)
def _validator(key: bytes) -> Any:
    """A format-checking validator for the schema serialised as `key` (compiled once)."""
    schema = json.loads(key)
    if not isinstance(schema, (dict, bool)):
        raise SchemaError((), "a schema must be a JSON object")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)  # type: ignore[arg-type]
    except jsonschema.SchemaError as error:
        raise SchemaError(tuple(error.path), f"invalid JSON Schema: {error.message}") from None
    except RecursionError:
        raise SchemaTooLarge((), "the schema nests too deeply") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class _Draw:
    """One draw: the root (for `$ref`), the generator and the remaining budget."""

    def __init__(
        self, root: Any, validator: Any, rng: random.Random, limits: Limits, hints: bool
    ) -> None:
        self.root = root
        self.validator = validator
        self.rng = rng
        self.limits = limits
        self.hints = hints
        self.values = limits.values
        self.chars = limits.chars

    # -- budget --------------------------------------------------------------------------

    def spend(self, path: Path, values: int = 1, chars: int = 0) -> None:
        self.values -= values
        self.chars -= chars
        if self.values < 0:
            raise SchemaTooLarge(
                path,
                f"the schema needs more than {self.limits.values} values; mockspike stops "
                "there (a large minItems, or $refs that fan out?)",
            )
        if self.chars < 0:
            raise SchemaTooLarge(
                path, f"the schema needs more than {self.limits.chars} characters of strings"
            )

    # -- dispatch ------------------------------------------------------------------------

    def value(self, schema: Any, path: Path, depth: int, refs: int) -> Any:
        self.spend(path)
        if depth > self.limits.depth:
            raise SchemaError(
                path,
                f"the value would nest deeper than {self.limits.depth} levels (a $ref that "
                "recurses with no way out?)",
            )
        if schema is True or schema == {}:
            return self.rng.choice(("sample", 1, True))
        if schema is False:
            raise SchemaError(path, "the schema `false` admits no value")
        if not isinstance(schema, dict):
            raise SchemaError(path, "a schema must be a JSON object or a boolean")
        if self.hints and isinstance(schema.get("description"), str):
            schema = _with_hints(schema)
        if "$ref" in schema:
            target, target_path = self.resolve(schema["$ref"], path)
            rest = {k: v for k, v in schema.items() if k not in ("$ref", "$defs", "definitions")}
            merged = _merge(target, rest, target_path) if rest else target
            return self.value(merged, target_path, depth + 1, refs + 1)
        if "allOf" in schema:
            return self.value(self.all_of(schema, path), path, depth + 1, refs)
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if "enum" in schema:
            return copy.deepcopy(self.enum(schema, path))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.union(schema, key, path, depth, refs)
        return self.typed(schema, self.pick_type(schema, path, depth, refs), path, depth, refs)

    def lean(self, depth: int, refs: int) -> bool:
        """Past these, leave optional parts out, so recursive schemas end."""
        return depth > self.limits.lean_depth or refs > self.limits.lean_refs

    def resolve(self, ref: Any, path: Path) -> tuple[Any, Path]:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaError((*path, "$ref"), f"only local $refs are supported: {ref!r}")
        target: Any = self.root
        target_path: Path = ()
        for raw in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise SchemaError((*path, "$ref"), f"$ref {ref!r} points at nothing")
            target_path = (*target_path, part)
        return target, target_path

    def all_of(self, schema: dict[str, Any], path: Path) -> dict[str, Any]:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for i, part in enumerate(schema["allOf"]):
            part_path: Path = (*path, "allOf", i)
            while isinstance(part, dict) and "$ref" in part:
                target, part_path = self.resolve(part["$ref"], part_path)
                rest = {k: v for k, v in part.items() if k != "$ref"}
                part = _merge(target, rest, part_path) if rest else target
            if part is False:
                raise SchemaError(part_path, "the schema `false` admits no value")
            if isinstance(part, dict):
                merged = _merge(merged, part, part_path)
        return merged

    def enum(self, schema: dict[str, Any], path: Path) -> Any:
        options = schema["enum"]
        if not isinstance(options, list) or not options:
            raise SchemaError((*path, "enum"), "enum must be a non-empty array")
        kinds = schema.get("type")
        if kinds is not None:
            allowed = {kinds} if isinstance(kinds, str) else set(kinds)
            options = [o for o in options if _json_type(o) & allowed] or options
        return self.rng.choice(options)

    def union(self, schema: dict[str, Any], key: str, path: Path, depth: int, refs: int) -> Any:
        branches = schema[key]
        if not isinstance(branches, list) or not branches:
            raise SchemaError((*path, key), f"{key} must be a non-empty array")
        rest = {k: v for k, v in schema.items() if k != key}
        order = list(range(len(branches)))
        if self.lean(depth, refs):  # the simplest branch first, so recursion ends
            order.sort(key=lambda i: _weight(branches[i]))
        else:
            self.rng.shuffle(order)
        error: SchemaError | None = None
        for i in order:
            branch_path: Path = (*path, key, i)
            branch = branches[i]
            if rest and isinstance(branch, dict):
                branch = _merge(rest, branch, branch_path)
            try:
                value = self.value(branch, branch_path, depth + 1, refs)
            except SchemaTooLarge:
                raise
            except SchemaError as failure:
                error = failure
                continue
            if key == "oneOf" and not self.only_one(branches, i, value):
                error = SchemaError(branch_path, "the value matched more than one oneOf branch")
                continue
            return value
        assert error is not None
        raise error

    def only_one(self, branches: list[Any], chosen: int, value: Any) -> bool:
        """True when no other `oneOf` branch also accepts `value`."""
        return not any(
            self.validator.evolve(schema=branch).is_valid(value)
            for i, branch in enumerate(branches)
            if i != chosen
        )

    def pick_type(self, schema: dict[str, Any], path: Path, depth: int, refs: int) -> str:
        kinds = schema.get("type")
        if kinds is None:
            kinds = [_implied_type(schema)]
        elif isinstance(kinds, str):
            kinds = [kinds]
        kinds = list(kinds)
        unknown = [k for k in kinds if k not in _TYPES]
        if unknown or not kinds:
            raise SchemaError((*path, "type"), f"unknown type {unknown or kinds!r}")
        if len(kinds) == 1:
            return str(kinds[0])
        if self.lean(depth, refs) and "null" in kinds:
            return "null"
        non_null = [k for k in kinds if k != "null"]
        if non_null and self.rng.random() < 0.8:
            return str(self.rng.choice(non_null))
        return str(self.rng.choice(kinds))

    def typed(self, schema: dict[str, Any], kind: str, path: Path, depth: int, refs: int) -> Any:
        if kind == "object":
            return self.object(schema, path, depth, refs)
        if kind == "array":
            return self.array(schema, path, depth, refs)
        if kind == "string":
            return self.string(schema, path)
        if kind in _NUMERIC:
            return self.number(schema, kind, path)
        if kind == "boolean":
            return self.rng.random() < 0.5
        return None

    # -- kinds ---------------------------------------------------------------------------

    def object(self, schema: dict[str, Any], path: Path, depth: int, refs: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties") or {}
        required = list(dict.fromkeys(schema.get("required") or []))
        extra = schema.get("additionalProperties", True)
        low = int(schema.get("minProperties", 0))
        high = schema.get("maxProperties")
        if low > self.values:
            raise SchemaTooLarge(
                (*path, "minProperties"),
                f"minProperties {low} takes the value past mockspike's budget of "
                f"{self.limits.values} values per reply",
            )
        if high is not None and len(required) > high:
            raise SchemaError((*path, "maxProperties"), "more required properties than allowed")
        optional = [name for name in props if name not in required]
        chosen = set(required)
        lean = self.lean(depth, refs)
        for name in optional:
            if not lean and self.rng.random() < 0.5:
                chosen.add(name)
        for name in optional:  # minProperties: add optional ones first
            if len(chosen) >= low:
                break
            chosen.add(name)
        if high is not None:
            for name in reversed(optional):
                if len(chosen) <= high:
                    break
                chosen.discard(name)
        out: dict[str, Any] = {}
        for name in [*props, *required]:
            if name not in chosen or name in out:
                continue
            if name in props:
                out[name] = self.value(props[name], (*path, "properties", name), depth + 1, refs)
            elif extra is False:
                raise SchemaError(
                    (*path, "required"),
                    f"{name!r} is required but additionalProperties is false and it is not "
                    "among the properties",
                )
            else:
                sub = extra if isinstance(extra, dict) else {}
                out[name] = self.value(sub, (*path, "additionalProperties"), depth + 1, refs)
        count = 0
        while len(out) < low:
            if extra is False:
                raise SchemaError((*path, "minProperties"), "not enough properties allowed")
            name = f"extra_{count}"
            count += 1
            if name not in out:
                sub = extra if isinstance(extra, dict) else {}
                out[name] = self.value(sub, (*path, "additionalProperties"), depth + 1, refs)
        return out

    def array(self, schema: dict[str, Any], path: Path, depth: int, refs: int) -> list[Any]:
        low, high = self.sizes(schema, path, "Items", self.values, self.limits.values, "values")
        prefix = schema.get("prefixItems")
        items = schema.get("items", {})
        if isinstance(items, list):  # draft 4-7 tuples
            prefix, items = items, schema.get("additionalItems", {})
        prefix = prefix if isinstance(prefix, list) else []
        if self.lean(depth, refs):
            extra = 0
        else:
            extra = self.rng.randint(0 if low else 1, max(1, 3 - depth // 3))
        size = low + extra if high is None else min(high, low + extra)
        size = max(size, min(len(prefix), high if high is not None else len(prefix)))
        if items is False:
            size = min(size, len(prefix))
            if size < low:
                raise SchemaError((*path, "minItems"), "more items required than allowed")
        unique = schema.get("uniqueItems") is True
        out: list[Any] = []
        seen: set[bytes] = set()
        tries = 0
        while len(out) < size:
            i = len(out)
            sub, sub_path = (
                (prefix[i], (*path, "prefixItems", i))
                if i < len(prefix)
                else (items, (*path, "items"))
            )
            item = self.value(sub, sub_path, depth + 1, refs)
            if unique:
                key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
                if key in seen:
                    tries += 1
                    if tries > 8 + 4 * size:
                        if len(out) >= low:
                            break
                        raise SchemaError((*path, "uniqueItems"), f"cannot draw {low} unique items")
                    continue
                seen.add(key)
            out.append(item)
        return out

    def sizes(
        self, schema: dict[str, Any], path: Path, noun: str, left: int, budget: int, unit: str
    ) -> tuple[int, int | None]:
        """`min{noun}` and `max{noun}` (`Items`, `Length`): in order, and the minimum within
        what is `left` of the reply's `budget` of `unit`."""
        low: int = _count(schema, f"min{noun}", path, 0)
        high: int | None = _count(schema, f"max{noun}", path, None)
        if high is not None and high < low:
            raise SchemaError((*path, f"max{noun}"), f"max{noun} {high} is below min{noun} {low}")
        if low > left:
            raise SchemaTooLarge(
                (*path, f"min{noun}"),
                f"min{noun} {low} takes the value past mockspike's budget of "
                f"{budget} {unit} per reply",
            )
        return low, high

    def string(self, schema: dict[str, Any], path: Path) -> str:
        low, high = self.sizes(schema, path, "Length", self.chars, self.limits.chars, "characters")
        pattern = schema.get("pattern")
        make = FORMATS.get(str(schema.get("format")))
        for _ in range(16):
            if make is not None:
                text = make(self.rng)
            elif isinstance(pattern, str):
                try:
                    text = from_pattern(pattern, self.rng, max(self.chars, 0))
                except WorkExceeded as error:
                    raise SchemaTooLarge((*path, "pattern"), str(error)) from None
                except PatternError as error:
                    raise SchemaError((*path, "pattern"), str(error)) from None
            else:
                text = words(self.rng, low, high)
            self.spend(path, 0, len(text))
            fits = low <= len(text) and (high is None or len(text) <= high)
            if fits and (not isinstance(pattern, str) or _search(pattern, text)):
                return text
        what = "format" if make is not None else "pattern"
        raise SchemaError((*path, what), f"cannot draw a {what} match within the length bounds")

    def number(self, schema: dict[str, Any], kind: str, path: Path) -> int | float:
        span = _Span.of(schema, path)
        step = schema.get("multipleOf")
        if step is not None and (not isinstance(step, (int, float)) or step <= 0):
            raise SchemaError((*path, "multipleOf"), "multipleOf must be a positive number")
        if kind == "integer" or step is not None:
            return self.on_grid(span, kind, step, path)
        return self.real(span, path)

    def on_grid(self, span: _Span, kind: str, step: Any, path: Path) -> int | float:
        """A whole number, or a multiple of `step`, within `span`."""
        unit = _unit(kind, step)
        first, last = span.grid(unit)
        if last < first:
            of = f" is a multiple of {step}" if step is not None else ""
            raise SchemaError(path, f"no {kind} within the bounds{of}")
        for k in self.multiples(first, last):
            value = _grid_value(k, unit, kind)
            if value is not None and span.admits(value) and _multiple(value, step):
                return value
        raise SchemaError(path, f"no {kind} fits the bounds and multipleOf")

    def real(self, span: _Span, path: Path) -> float:
        """A number with two decimals within `span` (its middle when none is drawn)."""
        if span.empty:
            raise SchemaError(path, "the numeric bounds admit no value")
        for _ in range(8):
            value = round(self.rng.uniform(span.low, span.high), 2)
            if span.admits(value):
                return value
        middle: float = (span.low + span.high) / 2
        if span.admits(middle):
            return middle
        raise SchemaError(path, "the numeric bounds admit no value mockspike can write")

    def multiples(self, first: int, last: int) -> Iterator[int]:
        picks = [self.rng.randint(first, last) for _ in range(4)]
        yield from picks
        yield from range(first, min(last, first + 16) + 1)


# -- schema helpers ------------------------------------------------------------------------


def _with_hints(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema plus constraints the SDK moved into its description, where not set."""
    match = _HINT_TRAILER.search(schema["description"])
    if match is None:
        return schema
    body = match.group("body")
    keys = list(_HINT_KEY.finditer(body))
    found: dict[str, Any] = {}
    for i, key in enumerate(keys):
        name = key.group("key")
        if name in schema or name not in _HINTS:
            continue
        raw = body[key.end() : keys[i + 1].start() if i + 1 < len(keys) else len(body)]
        value = _literal(raw) if name != "pattern" else raw
        if _HINTS[name](value):
            found[name] = value
    return {**schema, **found} if found else schema


def _literal(raw: str) -> Any:
    """A Python literal as the SDK wrote it (`str()` of a JSON value), or None."""
    if len(raw) > 10_000:
        return None
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None


def _valid_pattern(value: Any) -> bool:
    try:
        parse_pattern(value)
    except PatternError:
        return False
    return True


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


#: The keywords honoured from a description, and what a usable value looks like.
_HINTS: dict[str, Callable[[Any], bool]] = {
    **dict.fromkeys(_HINT_NUMBERS, lambda v: _is_number(v)),
    **dict.fromkeys(_HINT_COUNTS, _is_count),
    "pattern": _valid_pattern,
    "format": lambda v: v in FORMATS,
    "uniqueItems": lambda v: isinstance(v, bool),
    "prefixItems": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}


def _merge(base: dict[str, Any], extra: dict[str, Any], path: Path) -> dict[str, Any]:
    """Both schemas at once (allOf, or keywords beside a $ref or a union), as one schema."""
    out = dict(base)
    for key, value in extra.items():
        if key not in out:
            out[key] = value
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            out[key] = props
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            mine = {out[key]} if isinstance(out[key], str) else set(out[key])
            theirs = {value} if isinstance(value, str) else set(value)
            both = mine & theirs
            if ("integer" in mine and "number" in theirs) or (
                "number" in mine and "integer" in theirs
            ):
                both.add("integer")
            if not both:
                raise SchemaError((*path, "type"), "allOf parts require different types")
            out[key] = sorted(both)
        elif key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"):
            out[key] = max(out[key], value)
        elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"):
            out[key] = min(out[key], value)
        elif key == "enum":
            out[key] = [v for v in out[key] if v in value]
            if not out[key]:
                raise SchemaError((*path, "enum"), "allOf parts allow no common enum value")
        elif key == "additionalProperties" and value is False:
            out[key] = False
        elif key in ("anyOf", "oneOf"):
            out[key] = _cross(out[key], value, (*path, key))
        elif key == "allOf":
            out[key] = [*out[key], *value]
        elif key not in ("description", "title", "default", "examples", "$comment"):
            out[key] = value
    return out


def _cross(mine: list[Any], theirs: list[Any], path: Path) -> list[Any]:
    """One union for two (`anyOf` in two `allOf` parts): every compatible pair, merged."""
    if len(mine) * len(theirs) > 64:
        raise SchemaTooLarge(path, "two unions together have too many combinations")
    out = []
    for a in mine:
        for b in theirs:
            if isinstance(a, dict) and isinstance(b, dict):
                try:
                    out.append(_merge(a, b, path))
                except SchemaError:
                    continue
    if not out:
        raise SchemaError(path, "no branch fits both unions")
    return out


def _implied_type(schema: dict[str, Any]) -> str:
    if {"properties", "required", "additionalProperties", "minProperties"} & schema.keys():
        return "object"
    if {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"} & schema.keys():
        return "array"
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} & schema.keys():
        return "number"
    return "string"


def _json_type(value: Any) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number", "integer"} if value.is_integer() else {"number"}
    if isinstance(value, str):
        return {"string"}
    return {"array"} if isinstance(value, list) else {"object"}


def _weight(branch: Any) -> int:
    """How much a union branch tends to draw: simple, ref-free branches first."""
    if not isinstance(branch, dict):
        return 0
    if branch.get("type") == "null" or "const" in branch or "enum" in branch:
        return 0
    text = orjson.dumps(branch)
    return 1 + text.count(b"$ref") * 100 + len(text) // 64


def _count(schema: dict[str, Any], key: str, path: Path, default: int | None) -> Any:
    value = schema.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SchemaError((*path, key), f"{key} must be a non-negative integer")
    return int(value)


def _bounds(schema: dict[str, Any], path: Path) -> tuple[Any, Any, bool, bool]:
    """(low, high, low exclusive, high exclusive), from draft 4 booleans or 6+ numbers."""
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = high_open = False
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        value = schema.get(key)
        if value is not None and not isinstance(value, (bool, int, float)):
            raise SchemaError((*path, key), f"{key} must be a number")
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if exclusive_low is True:
        low_open = True
    elif _is_number(exclusive_low) and (low is None or exclusive_low >= low):
        low, low_open = exclusive_low, True
    if exclusive_high is True:
        high_open = True
    elif _is_number(exclusive_high) and (high is None or exclusive_high <= high):
        high, high_open = exclusive_high, True
    return low, high, low_open, high_open


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Span(NamedTuple):
    """The numbers a schema admits: `low` to `high`, each end open or closed (the span a
    schema without bounds gets is 0 to 100; with one bound, 100 beyond it)."""

    low: float
    high: float
    low_open: bool
    high_open: bool

    @classmethod
    def of(cls, schema: dict[str, Any], path: Path) -> _Span:
        low, high, low_open, high_open = _bounds(schema, path)
        if low is None and high is None:
            low, high = 0, 100
        elif low is None:
            low = math.floor(high) - 100
        elif high is None:
            high = math.ceil(low) + 100
        return cls(low, high, low_open, high_open)

    @property
    def empty(self) -> bool:
        return self.high < self.low or (self.high == self.low and (self.low_open or self.high_open))

    def admits(self, value: float) -> bool:
        return _within(value, self.low, self.high, self.low_open, self.high_open)

    def grid(self, unit: float) -> tuple[int, int]:
        """The first and last `k` with `k * unit` inside (before the multipleOf check)."""
        first = math.ceil(self.low / unit) if not self.low_open else math.floor(self.low / unit) + 1
        last = (
            math.floor(self.high / unit) if not self.high_open else math.ceil(self.high / unit) - 1
        )
        return first, last


def _unit(kind: str, step: Any) -> int | float:
    """The grid's spacing: 1 for integers, else `multipleOf` (an int when it is whole)."""
    unit: int | float = 1 if step is None else step
    if kind == "integer" and step is not None and float(step).is_integer():
        unit = int(step)
    return unit


def _grid_value(k: int, unit: float, kind: str) -> int | float | None:
    """`k * unit` as the schema's kind writes it; None when an integer cannot be one."""
    value = k * unit
    if kind == "integer":
        return int(value) if float(value).is_integer() else None
    return _tidy(value, unit)


def _within(value: float, low: float, high: float, low_open: bool, high_open: bool) -> bool:
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    return above and below


def _multiple(value: float, step: Any) -> bool:
    """The check `jsonschema` makes for `multipleOf` (floats divide exactly or not at all)."""
    if step is None:
        return True
    if isinstance(step, float) or isinstance(value, float):
        quotient = value / step
        return math.isfinite(quotient) and int(quotient) == quotient
    return value % step == 0


def _tidy(value: float, unit: float) -> float:
    """`k * 0.1` written as 0.3, not 0.30000000000000004, when that is still a multiple."""
    decimals = max(0, -math.floor(math.log10(unit))) + 2 if unit < 1 else 0
    tidy = round(value, decimals)
    return float(tidy) if _multiple(tidy, unit) else float(value)


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
