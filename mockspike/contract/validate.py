"""Parse the body and check it against the JSON Schema, then the semantic rules.

The schema file is the one source of truth. A body is first checked by a compiled validator
(jsonschema-rs: `compiled.py`), whose cost is proportional to the body and small; only a
body it rejects goes through jsonschema, whose detailed errors give the API's exact message
(descending into the first failing item of an array).

Schema errors are rewritten into the API's own wording (it validates with pydantic):
`max_tokens: Field required`, `temperature: Input should be less than or equal to 1`,
`messages.0.content.0.image.source.base64.media_type: Input should be ...`. The location
names the tag of each tagged union it passes through, as pydantic's does.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from mockspike import _json
from mockspike.contract import betas as _betas
from mockspike.contract.catalog import Model, Profile
from mockspike.contract.compiled import Check, compile_schema, explaining_validator
from mockspike.contract.rules import check_rules
from mockspike.model.errors import ApiError

_TYPE_NAMES = {
    "string": "a valid string",
    "integer": "a valid integer",
    "number": "a valid number",
    "boolean": "a valid boolean",
    "array": "a valid list",
    "object": "a valid dictionary",
    "null": "None",
}


@functools.cache
def message_schema() -> dict[str, Any]:
    """The request schema of `POST /v1/messages`, as shipped in `schemas/messages.json`."""
    text = resources.files(__package__).joinpath("schemas/messages.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def count_tokens_schema() -> dict[str, Any]:
    """`count_tokens` takes the prompt half of a Messages request: same definitions."""
    full = message_schema()
    keep = full["x-count-tokens"]
    return {
        **full,
        "$id": "mockspike:count-tokens-request",
        "title": "POST /v1/messages/count_tokens request body",
        "properties": {k: v for k, v in full["properties"].items() if k in keep},
        "required": ["model", "messages"],
    }


@functools.cache
def _validator(kind: str) -> Draft202012Validator:
    return explaining_validator(_schema(kind))


@functools.cache
def _compiled(kind: str) -> Check:
    return compile_schema(_schema(kind))


def _schema(kind: str) -> dict[str, Any]:
    return message_schema() if kind == "messages" else count_tokens_schema()


def parse_body(raw: bytes) -> dict[str, Any]:
    """JSON object or the API's 400: not JSON, or JSON that is not an object."""
    try:
        body = _json.loads(raw)
    except _json.JSONDecodeError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Input should be a valid dictionary or object to extract fields from")
    return body


def check_message_request(
    body: dict[str, Any], profile: Profile, beta_header: str | None = None
) -> Model:
    """Every rule a `/v1/messages` body (and its `anthropic-beta` header) must pass; returns
    the resolved model."""
    betas = _betas.parse(beta_header)
    _check_schema(body, "messages")
    _betas.check_fields(body, betas)
    model = profile.model(body["model"])
    check_rules(body, model, profile, betas)
    return model


def check_shape(body: dict[str, Any], beta_header: str | None = None) -> None:
    """The schema and the beta-gated fields only: what a body must pass before its fields
    are read (a thread continuation, checked whole once the thread supplies the rest)."""
    _check_schema(body, "messages")
    _betas.check_fields(body, _betas.parse(beta_header))


def check_count_tokens(
    body: dict[str, Any], profile: Profile, beta_header: str | None = None
) -> Model:
    betas = _betas.parse(beta_header)
    _check_schema(body, "count_tokens")
    _betas.check_fields(body, betas)
    return profile.model(body["model"])


def _check_schema(body: dict[str, Any], kind: str) -> None:
    if _compiled(kind)(body):
        return
    validator = _validator(kind)
    first: tuple[tuple[int, ...], str] | None = None
    for error in validator.iter_errors(body):
        located = _locate(error, _schema(kind))
        if first is None or located[0] < first[0]:
            first = located
    if first is not None:
        raise ApiError(400, first[1])


def _locate(error: ValidationError, root: dict[str, Any]) -> tuple[tuple[int, ...], str]:
    """Walk the schema path beside the instance path: the pydantic-style location, a sort
    key that orders errors as the schema orders fields, and the rewritten message."""
    loc: list[str] = []
    order: list[int] = []
    schema: Any = root
    instance: Any = error.instance
    path = list(error.absolute_schema_path)
    inst = list(error.absolute_path)
    i = 0
    while i < len(path):
        key = path[i]
        schema = _deref(schema, root, key)
        if key == "properties":
            name = path[i + 1]
            loc.append(str(name))
            order.append(list(schema["properties"]).index(name))
            inst.pop(0)
            schema = schema["properties"][name]
            i += 2
        elif key == "items":
            index = inst.pop(0)
            loc.append(str(index))
            order.append(int(index))
            schema = schema["items"]
            i += 1
        elif key == "allOf" and "x-union" in schema:
            branch = schema["allOf"][path[i + 1]]
            loc.append(branch["if"]["properties"]["type"]["const"])
            schema = branch["then"]
            i += 3
        else:
            schema = schema[key]
            i += 1
    message = _message(error, instance, loc, order, root)
    return tuple(order), message


def _deref(schema: Any, root: dict[str, Any], key: Any) -> Any:
    """Follow local `$ref`s: jsonschema leaves them out of `absolute_schema_path`."""
    while isinstance(schema, dict) and "$ref" in schema and key not in schema:
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _message(
    error: ValidationError, instance: Any, loc: list[str], order: list[int], root: dict[str, Any]
) -> str:
    kind = error.validator
    value: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        missing = next(name for name in value if name not in instance)
        if schema.get("x-union") == missing:
            return _at(loc, f"Unable to extract tag using discriminator '{missing}'")
        props = list(schema.get("properties", {}))
        order.append(props.index(missing) if missing in props else len(props))
        return _at([*loc, missing], "Field required")
    if kind == "additionalProperties":
        extra = next(name for name in instance if name not in schema.get("properties", {}))
        order.append(len(schema.get("properties", {})))
        return _at([*loc, extra], "Extra inputs are not permitted")
    if kind == "type":
        types = [value] if isinstance(value, str) else list(value)
        names = [_TYPE_NAMES[t].removeprefix("a valid ") for t in types]
        return _at(loc, "Input should be a valid " + " or ".join(names))
    if kind in ("enum", "const"):
        options = [o for o in (value if kind == "enum" else [value]) if o is not None]
        if schema.get("x-tag"):
            expected = ", ".join(f"'{o}'" for o in options)
            return _at(
                loc[:-1],
                f"Input tag '{instance}' found using 'type' does not match any of the "
                f"expected tags: {expected}",
            )
        return _at(loc, "Input should be " + _or([f"'{o}'" for o in options]))
    simple = {
        "minimum": "Input should be greater than or equal to {v}",
        "maximum": "Input should be less than or equal to {v}",
        "exclusiveMinimum": "Input should be greater than {v}",
        "exclusiveMaximum": "Input should be less than {v}",
        "pattern": "String should match pattern '{v}'",
        "minLength": "String should have at least {v} character{s}",
        "maxLength": "String should have at most {v} character{s}",
        "minItems": "List should have at least {v} item{s} after validation, not {n}",
        "maxItems": "List should have at most {v} item{s} after validation, not {n}",
    }
    if kind in simple:
        size = len(instance) if isinstance(instance, (list, str)) else 0
        plural = "" if value == 1 else "s"
        return _at(loc, simple[kind].format(v=value, s=plural, n=size))
    return _at(loc, error.message)


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _at(loc: list[str], message: str) -> str:
    return f"{'.'.join(loc)}: {message}" if loc else message
