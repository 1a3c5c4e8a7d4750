"""Scripted answers are checked when they are scripted, not when a request trips on them.

The arguments of `reply`, `reply_tool_use`, `fail` and `fault` (Python keyword arguments,
script files and the admin API alike) and a script rule's fields (each matcher's value by
its `MATCHERS` row's schema) are checked against `script/script.schema.json`; the
message names the field, why it is wrong, and the nearest valid name for a typo. Stop
reasons and content blocks are checked by `blocks.py`, when the reply is made. What
can only be known from the request (a `tool_use` answered to a request that offered no
tools) is checked when answering, by `answer_problem`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from mockspike.model.errors import ApiError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_WORDS = {
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
def _document() -> dict[str, Any]:
    text = files("mockspike.script").joinpath("script.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _validator(verb: str) -> Draft202012Validator:
    """(jsonschema is imported here, on first use: the plugin's import stays light.)"""
    from jsonschema import Draft202012Validator

    defs = _document()["$defs"]
    if verb == "rule":  # each matcher's value schema, from its row of the MATCHERS table
        from mockspike.script.matchers import MATCHERS

        match = {**defs["rule"]["properties"]["match"]}
        match["properties"] = {n: dict(m.schema) for n, m in MATCHERS.items() if m.in_files}
        rule = {**defs["rule"], "properties": {**defs["rule"]["properties"], "match": match}}
        defs = {**defs, "rule": rule}
    return Draft202012Validator({"$ref": f"#/$defs/{verb}", "$defs": defs})


def nearest(name: str, valid: Iterable[str]) -> str:
    """`did you mean 'x'?` for a typo (or the initials: `tps`) of a valid name, else the
    valid names."""
    valid = list(valid)
    initials = [v for v in valid if "_" in v and "".join(w[0] for w in v.split("_")) == name]
    close = initials or difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid: " + ", ".join(valid)


def check(verb: str, args: Mapping[str, Any]) -> None:
    """Refuse arguments of `verb` that the fake could not serve: unknown names (TypeError,
    with the nearest valid one) and wrong values (`ScriptValueError`, a ValueError)."""
    if verb not in _document()["$defs"]:
        raise TypeError(f"unknown answer {verb!r}; {nearest(verb, _ANSWERS)}")
    from jsonschema.exceptions import best_match

    instance = {k: _plain(v) for k, v in args.items()}
    error = best_match(_validator(verb).iter_errors(instance))
    if error is None:
        return
    message = describe(verb, error)
    if error.validator == "additionalProperties":
        raise TypeError(message)
    raise ScriptValueError(message)


@cache
def _matcher_validator(name: str) -> Draft202012Validator | None:
    from jsonschema import Draft202012Validator

    from mockspike.script.matchers import MATCHERS

    schema = MATCHERS[name].schema
    return Draft202012Validator(dict(schema)) if schema else None


def check_matchers(matchers: Mapping[str, Any], models: Iterable[str] | None = None) -> None:
    """Refuse matcher values that could never match (a `ScriptValueError` naming the matcher
    and what it takes), as script files and the admin API do: each value by its `MATCHERS`
    row's schema, `where=` a callable, `model=` one the profile serves (the nearest named)."""
    from jsonschema.exceptions import best_match

    for name, value in matchers.items():
        if name == "where":
            if not callable(value):
                raise ScriptValueError(
                    f"on: where must be a function of the request body that returns true "
                    f"or false (where=lambda body: ...), not {value!r}"
                )
            continue
        validator = _matcher_validator(name)
        if validator is None or hasattr(value, "pattern"):  # a compiled regex is fine
            continue
        error = best_match(validator.iter_errors(value))
        if error is not None and error.validator == "anyOf":
            kinds = [_TYPE_WORDS.get(a.get("type"), "a value") for a in error.schema["anyOf"]]
            kinds = [k if k != "a list" else "a list of strings" for k in kinds]
            raise ScriptValueError(f"on: {name} must be {' or '.join(kinds)}, not {value!r}")
        if error is not None:
            raise ScriptValueError(describe(f"on: {name}", error))
        if name == "model" and models is not None:
            known = sorted(models)
            if value not in known:
                raise ScriptValueError(
                    f"on: model={value!r} can never match: the profile serves no such model "
                    f"(a request for it is answered 404 before any rule); {nearest(value, known)}"
                )


_ANSWERS = ("reply", "reply_tool_use", "reply_web_search", "reply_code_execution", "fail", "fault")


def describe(verb: str, error: ValidationError) -> str:
    """One sentence for a schema error: where, what was given, what is wanted."""
    error = _deepest(error)
    where = ".".join(str(p) for p in error.absolute_path)
    label = f"{verb}: {where}" if where else verb
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
        words = [_TYPE_WORDS.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted)]
        return f"{label} must be {' or '.join(w for w in words if w != 'null')}, not {value!r}"
    if kind == "enum":
        choices = ", ".join(str(c) for c in schema["enum"])
        return f"{label} must be one of {choices}, not {value!r}"
    if kind == "minimum" and schema[kind] == 0:
        return f"{label} must not be negative, not {value!r}"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bounds = {
            "minimum": "at least",
            "exclusiveMinimum": "more than",
            "maximum": "at most",
            "exclusiveMaximum": "less than",
        }
        return f"{label} must be {bounds[kind]} {schema[kind]}, not {value!r}"
    return f"{label}: {error.message}"


def _deepest(error: ValidationError) -> ValidationError:
    """For `anyOf` (a value or null), the alternative that says the most."""
    from jsonschema.exceptions import best_match

    while error.context:
        error = best_match(error.context) or error.context[0]
    return error


def _plain(value: Any) -> Any:
    """Dataclass values (`Pacing`, `Failure`) in their JSON form, for the schema."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    return value


class AnswerError(Exception):
    """A scripted answer that does not fit the request it matched."""


def check_answer(rule: str, content: list[dict[str, Any]], body: Mapping[str, Any]) -> None:
    """Raise `AnswerError` when the scripted `content` cannot answer `body`."""
    problem = answer_problem(content, body)
    if problem is not None:
        raise AnswerError(f"mockspike: {rule} matched, but {problem}")


def fake_error(exc: Exception) -> ApiError:
    """The 500 a client gets when the fake itself failed: says what happened, and tells
    SDKs not to retry (`x-should-retry: false`), so a test sees it at once."""
    if isinstance(exc, AnswerError):
        message = str(exc)
    else:
        message = (
            f"mockspike internal error: {type(exc).__name__}: {exc} (the log has the traceback)"
        )
    return ApiError(500, message, "api_error", {"x-should-retry": "false"})


def answer_problem(content: list[dict[str, Any]], body: Mapping[str, Any]) -> str | None:
    """Why a scripted reply cannot answer this request (None: it can): a `tool_use` block
    when the request offered no tools at all (a client that offered tools may still be
    tested with a call to one it does not know)."""
    if body.get("tools"):
        return None
    for block in content:
        if block.get("type") == "tool_use":
            return (
                f"it answers with a tool_use block calling {block.get('name')!r} and the "
                "request offered no tools; send tools=[...] with the request, or script a "
                "text reply for it"
            )
    return None
