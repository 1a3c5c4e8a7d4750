"""The scripted matchers, as a table of small functions (like respx's patterns and vcrpy's
matchers). Each takes the request body and the rule's value and returns None when the
request matches, else one line saying why not. The `on(...)` docstring, the check of the values
(`check_matchers`: Python, script files and the admin API alike), the script-file schema and
strict mode's explanation of a miss all read this table.

A new matcher is one function and one row here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mockspike.model.arguments import TYPE_WORDS, ScriptValueError, nearest
from mockspike.model.arguments import describe as describe_error
from mockspike.script.regex import compile_regex

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

Check = Callable[[dict[str, Any], Any], "str | None"]


@dataclass(frozen=True)
class Matcher:
    summary: str
    check: Check
    prepare: Callable[[Any], Any] = lambda value: value
    """Turns the value a user gives into the one `check` takes (a regex is compiled)."""
    in_files: bool = True
    """Usable in JSON/YAML script files (a Python predicate is not)."""
    schema: Mapping[str, Any] = field(default_factory=dict)
    """The JSON Schema of the value in script files and the admin API (checked when the
    rule is made, so a wrong type is a clear error, never a failure at request time)."""


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user turn (string content or its text blocks)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def _has_tool_result(body: dict[str, Any]) -> bool:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content") if last.get("role") == "user" else None
    return isinstance(content, list) and any(b.get("type") == "tool_result" for b in content)


def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _model(body: dict[str, Any], want: Any) -> str | None:
    if body.get("model") != want:
        return f"model is {body.get('model')!r}, not {want!r}"
    return None


def _stream(body: dict[str, Any], want: Any) -> str | None:
    if bool(body.get("stream")) != want:
        return f"stream is {bool(body.get('stream'))}, not {want}"
    return None


def _contains(body: dict[str, Any], want: Any) -> str | None:
    text = last_user_text(body)
    if want not in text:
        return f"last user text {_short(text)!r} does not contain {want!r}"
    return None


def _regex(body: dict[str, Any], want: Any) -> str | None:
    text = last_user_text(body)
    if not want.search(text):
        return f"last user text {_short(text)!r} does not match /{want.pattern}/"
    return None


def _system(body: dict[str, Any], want: Any) -> str | None:
    system = _text(body.get("system"))
    if want not in system:
        return f"system {_short(system)!r} does not contain {want!r}"
    return None


def _tools(body: dict[str, Any], want: Any) -> str | None:
    wanted = {want} if isinstance(want, str) else set(want)
    offered = {t.get("name") for t in body.get("tools") or []}
    if not wanted <= offered:
        return f"tools offered {sorted(offered)} lack {sorted(wanted - offered)}"
    return None


def _tool_result(body: dict[str, Any], want: Any) -> str | None:
    if _has_tool_result(body) != want:
        return f"a tool_result is {'absent' if want else 'present'}"
    return None


def _thinking(body: dict[str, Any], want: Any) -> str | None:
    thinking = body.get("thinking")
    on = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    if on != want:
        return f"extended thinking is {'on' if on else 'off'}"
    return None


def _where(body: dict[str, Any], want: Any) -> str | None:
    return None if want(body) else "the predicate returned false"


_STRING = MappingProxyType({"type": "string"})
_BOOLEAN = MappingProxyType({"type": "boolean"})
_REGEX = MappingProxyType({"type": "string", "format": "regex"})
_NAMES = MappingProxyType(
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)

MATCHERS: Mapping[str, Matcher] = MappingProxyType(
    {
        "model": Matcher("the model name, exactly", _model, schema=_STRING),
        "stream": Matcher("streaming or not", _stream, schema=_BOOLEAN),
        "text": Matcher("the last user text contains it", _contains, schema=_STRING),
        "regex": Matcher(
            "the last user text matches it", _regex, prepare=compile_regex, schema=_REGEX
        ),
        "system": Matcher("the system prompt contains it", _system, schema=_STRING),
        "tools": Matcher("these tool names are offered", _tools, schema=_NAMES),
        "tool_result": Matcher(
            "the last user turn has a tool_result", _tool_result, schema=_BOOLEAN
        ),
        "thinking": Matcher("extended thinking is on (or off)", _thinking, schema=_BOOLEAN),
        "where": Matcher("a predicate on the body returns true", _where, in_files=False),
    }
)
"""Read-only: the matchers are the same for every fake in the process."""


def check_names(names: Any, *, in_files: bool = False) -> None:
    """A `TypeError` naming the unknown matchers (or, in files, the Python-only ones)."""
    allowed = [n for n, m in MATCHERS.items() if m.in_files or not in_files]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise TypeError(f"unknown matcher {unknown[0]!r}; {nearest(unknown[0], allowed)}")


@cache
def _validator(name: str) -> Draft202012Validator | None:
    from jsonschema import Draft202012Validator

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
        validator = _validator(name)
        if validator is None or hasattr(value, "pattern"):  # a compiled regex is fine
            continue
        error = best_match(validator.iter_errors(value))
        if error is not None and error.validator == "anyOf":
            kinds = [TYPE_WORDS.get(a.get("type"), "a value") for a in error.schema["anyOf"]]
            kinds = [k if k != "a list" else "a list of strings" for k in kinds]
            raise ScriptValueError(f"on: {name} must be {' or '.join(kinds)}, not {value!r}")
        if error is not None:
            raise ScriptValueError(describe_error(f"on: {name}", error))
        if name == "model" and models is not None:
            known = sorted(models)
            if value not in known:
                raise ScriptValueError(
                    f"on: model={value!r} can never match: the profile serves no such model "
                    f"(a request for it is answered 404 before any rule); {nearest(value, known)}"
                )


def describe() -> str:
    """One line a matcher, for docstrings and help."""
    return "\n".join(f"- `{name}=`: {m.summary}" for name, m in MATCHERS.items())
