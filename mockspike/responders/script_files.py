"""Scripts as data: the JSON/YAML form of rules, shared by `--script FILE` and the admin
API, so both mean exactly what the Python calls mean.

```yaml
rules:
  - match: {model: claude-haiku-4-5, text: weather}   # optional; all must hold
    times: 2                                          # optional; uses before it retires
    name: weather                                     # optional; shown in the journal
    respond:                                          # one item, or a sequence
      - reply: {text: "Sunny, 21C"}
      - reply_tool_use: {name: get_weather, input: {city: Paris}}
      - reply_web_search: {query: weather, results: [https://meteo.example], text: "Sunny."}
      - fail: {status: 429, retry_after: 0.01}
      - fault: {kind: break, after: 3, error: {status: 529}}
```
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from .._files import load_data
from ..core.outcomes import Failure
from ..render.pacing import Pacing
from .matchers import MATCHERS, check_names
from .scripted import Rule

_ACTIONS = ("reply", "reply_tool_use", "reply_web_search", "reply_code_execution", "fail", "fault")


class SpecError(ValueError):
    """A script that does not fit the format; the message says where."""


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML script file."""
    try:
        return load_data(path)
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def build_rules(spec: dict[str, Any], make_rule: Any) -> list[Rule]:
    """Rules from `{"rules": [...]}` or one rule object, made with `make_rule(**on_args)`."""
    items = spec.get("rules", [spec])
    if not isinstance(items, list):
        raise SpecError("'rules' must be a list")
    return [_rule(item, make_rule, f"rules[{i}]") for i, item in enumerate(items)]


def _rule(item: Any, make_rule: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise SpecError(f"{where}: a rule must be an object")
    unknown = set(item) - {"match", "times", "name", "respond"}
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    match = item.get("match") or {}
    if not isinstance(match, dict):
        raise SpecError(f"{where}.match: an object of matchers")
    try:
        check_names(match, in_files=True)
    except TypeError as exc:
        raise SpecError(f"{where}.match: {exc}") from None
    respond = item.get("respond")
    if respond is None:
        raise SpecError(f"{where}: 'respond' is required")
    _check_types(item, where)
    actions = respond if isinstance(respond, list) else [respond]
    try:
        rule: Rule = make_rule(times=item.get("times"), name=item.get("name"), **match)
        for j, action in enumerate(actions):
            _apply(rule, action, f"{where}.respond[{j}]")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(f"{where}: {exc}") from None
    return rule


@functools.cache
def _validator() -> Draft202012Validator:
    text = resources.files(__package__).joinpath("script.schema.json").read_text("utf-8")
    schema = json.loads(text)
    schema["properties"]["match"]["properties"] = {
        name: dict(m.schema) for name, m in MATCHERS.items() if m.in_files
    }
    return Draft202012Validator(schema, format_checker=FormatChecker(["regex"]))


def _check_types(item: dict[str, Any], where: str) -> None:
    """Every field of the right type and range (`script.schema.json`), checked when the rule
    is made: a wrong one is a clear error naming it, never a failure at request time."""
    error = best_match(_validator().iter_errors(item))
    if error is not None:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise SpecError(f"{where}{field}: {error.message}")


def _apply(rule: Rule, action: Any, where: str) -> None:
    if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in _ACTIONS:
        raise SpecError(f"{where}: one of {', '.join(_ACTIONS)} with its arguments")
    ((verb, args),) = action.items()
    args = dict(args or {})
    if verb == "reply":
        if "timing" in args:
            args["timing"] = Pacing(**args["timing"])
        rule.reply(args.pop("text", None), **args)
    elif verb == "reply_tool_use":
        rule.reply_tool_use(args.pop("name"), args.pop("input", {}), **args)
    elif verb == "reply_web_search":
        rule.reply_web_search(**args)
    elif verb == "reply_code_execution":
        rule.reply_code_execution(**args)
    elif verb == "fail":
        rule.fail(args.pop("status"), **args)
    else:
        if isinstance(args.get("error"), dict):
            args["error"] = Failure(**args["error"])
        rule.fault(args.pop("kind"), **args)
