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
      - refuse: {category: cyber}
```

The answer verbs are the rows of `ANSWERS` (`script/answers.py`), the same for Python and
the admin API.

Reply text, tool input and failure messages may be templates built from the request
(`{{ text }}`, `{{ body.metadata.user_id }}`: `script/templates.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockspike._files import load_data
from mockspike.model.faults import Failure
from mockspike.model.outcomes import Reply
from mockspike.script import schema, templates
from mockspike.script.answers import ANSWERS
from mockspike.script.matchers import check_names
from mockspike.script.rules import RULE_FIELDS, Rule


class SpecError(ValueError):
    """A script that does not fit the format; the message says where."""


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML script file."""
    try:
        return load_data(path)
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def build_rules(spec: dict[str, Any], make_rule: Any, discard: Any = None) -> list[Rule]:
    """Rules from `{"rules": [...]}` or one rule object, made with `make_rule(**on_args)`.
    All or nothing: if one fails, `discard(rules)` takes back those already made."""
    items = spec.get("rules", [spec])
    if not isinstance(items, list):
        raise SpecError("'rules' must be a list")
    made: list[Rule] = []
    try:
        for i, item in enumerate(items):
            _rule(item, make_rule, f"rules[{i}]", made)
    except BaseException:
        if discard is not None:
            discard(made)
        raise
    return made


def _rule(item: Any, make_rule: Any, where: str, made: list[Rule]) -> None:
    if not isinstance(item, dict):
        raise SpecError(f"{where}: a rule must be an object")
    if item.get("name"):
        where += f" ({item['name']!r})"
    _checked(where, schema.check, "rule", item)
    match = item.get("match") or {}
    if not isinstance(match, dict):
        raise SpecError(f"{where}.match: an object of matchers")
    _checked(f"{where}.match", check_names, match, in_files=True)
    respond = item["respond"]
    actions = respond if isinstance(respond, list) else [respond]
    own = {k: item[k] for k in RULE_FIELDS if item.get(k) is not None}
    rule: Rule = _checked(where, make_rule, **own, **match)
    made.append(rule)
    for j, action in enumerate(actions):
        _apply(rule, action, f"{where}.respond[{j}]")


def _checked(where: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """`call(...)`, its TypeError / ValueError as a SpecError that says where."""
    try:
        return call(*args, **kwargs)
    except SpecError:
        raise
    except (TypeError, ValueError) as exc:
        text = str(exc).removeprefix("rule: ")
        raise SpecError(f"{where}: {text}") from None


def _apply(rule: Rule, action: Any, where: str) -> None:
    if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in ANSWERS:
        raise SpecError(f"{where}: one of {', '.join(ANSWERS)} with its arguments")
    ((verb, args),) = action.items()
    if args is not None and not isinstance(args, dict):
        raise SpecError(f"{where}: {verb} takes an object of arguments, not {args!r}")
    args = dict(args or {})
    _checked(where, rule.answer, verb, **args)
    tokens_given = "output_tokens" in (args.get("usage") or {})
    _checked(where, _templated, rule, tokens_given)


def _templated(rule: Rule, tokens_given: bool) -> None:
    """The answer just added, with its `{{ … }}` templates found and checked (a reply's
    content, a failure's message), rendered for each request it answers."""
    response = rule.responses[-1]
    if isinstance(response, Reply):
        found = templates.find(response.content)
    elif isinstance(response, Failure) and response.message:
        found = templates.find(response.message, ("message",))
    else:
        return
    if found:
        rule.responses[-1] = templates.Templated(response, tuple(found), tokens_given)
