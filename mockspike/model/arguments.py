"""Arguments checked against a JSON Schema when they are given, with errors that teach: the
field, why it is wrong, and the nearest valid name for a typo.

The values of this package check themselves this way when made (a `Failure`, a `Fault`,
against `model/values.schema.json`); the script layer checks its answer verbs and rules the
same way against its own schema, which refers to these definitions by the id
`mockspike:values`. (jsonschema is imported on first use: the plugin's import stays light.)
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

VALUES_ID = "mockspike:values"
"""The `$id` of `model/values.schema.json`, as other schemas `$ref` it."""

TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "null": "null",
    "boolean": "true or false",
}


class ScriptValueError(ValueError):
    """A scripted value the fake could not serve; the message says which and why."""


@cache
def values_document() -> dict[str, Any]:
    text = files("mockspike.model").joinpath("values.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resource(
        VALUES_ID, Resource.from_contents(values_document())
    )
    return registry


def validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A validator for `schema`, which may `$ref` `mockspike:values#/$defs/...`."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(dict(schema), registry=_registry())


@cache
def _value_validator(name: str) -> Draft202012Validator:
    return validator({"$ref": f"{VALUES_ID}#/$defs/{name}"})


def check_value(name: str, args: Mapping[str, Any]) -> None:
    """Check the fields of a value of this package (`fail`, `fault`, `timing`)."""
    check(name, _value_validator(name), args)


def check(label: str, checker: Draft202012Validator, args: Mapping[str, Any]) -> None:
    """Refuse arguments the fake could not serve: unknown names (TypeError, with the nearest
    valid one) and wrong values (`ScriptValueError`, a ValueError); `label` starts the
    message."""
    from jsonschema.exceptions import best_match

    instance = {k: plain(v) for k, v in args.items()}
    error = best_match(checker.iter_errors(instance))
    if error is None:
        return
    message = describe(label, error)
    if error.validator == "additionalProperties":
        raise TypeError(message)
    raise ScriptValueError(message)


def nearest(name: str, valid: Iterable[str]) -> str:
    """`did you mean 'x'?` for a typo (or the initials: `tps`) of a valid name, else the
    valid names."""
    valid = list(valid)
    initials = [v for v in valid if "_" in v and "".join(w[0] for w in v.split("_")) == name]
    close = initials or difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid: " + ", ".join(valid)


_BOUNDS = {
    "minimum": "at least",
    "exclusiveMinimum": "more than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}


def describe(label: str, error: ValidationError) -> str:
    """One sentence for a schema error: where, what was given, what is wanted."""
    error = _deepest(error)
    where = ".".join(str(p) for p in error.absolute_path)
    label = f"{label}: {where}" if where else label
    value: Any = error.instance
    kind: Any = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "additionalProperties":
        known = [str(k) for k in schema.get("properties", {})]
        extra = [str(k) for k in value if k not in known]
        return f"{label}: unknown field {extra[0]!r}; {nearest(str(extra[0]), known)}"
    if kind == "required":
        missing = [str(k) for k in schema.get("required", []) if k not in value]
        return f"{label}: {missing[0]!r} is required"
    if kind == "type":
        wanted = schema["type"]
        words = [TYPE_WORDS.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted)]
        return f"{label} must be {' or '.join(w for w in words if w != 'null')}, not {value!r}"
    if kind == "enum":
        choices = ", ".join(str(c) for c in schema["enum"])
        return f"{label} must be one of {choices}, not {value!r}"
    if kind == "minimum" and schema[kind] == 0:
        return f"{label} must not be negative, not {value!r}"
    if kind in _BOUNDS:
        return f"{label} must be {_BOUNDS[kind]} {schema[kind]}, not {value!r}"
    return f"{label}: {error.message}"


def _deepest(error: ValidationError) -> ValidationError:
    """For `anyOf` (a value or null), the alternative that says the most."""
    from jsonschema.exceptions import best_match

    while error.context:
        error = best_match(error.context) or error.context[0]
    return error


def plain(value: Any) -> Any:
    """Dataclass values (`Pacing`, `Failure`) in their JSON form, for the schema."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    return value
