"""The table of docs/reference/errors.md: the engine run on each rule's own example.

The rows come from `RULES` and `SCHEMA_CASES` (plus the few cases about headers, paths and
size that no body can show), so the docs always say what the fake really answers."""

from __future__ import annotations

from typing import Any

from mockspike import _json
from mockspike.contract.catalog import load_profile
from mockspike.contract.rules import RULES, SCHEMA_CASES
from mockspike.engine.engine import Engine
from mockspike.model.wire import WireRequest

BASE_BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Classify this support ticket: My order is late."}],
}
_HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}


def _post(body: bytes) -> WireRequest:
    return WireRequest("POST", "/v1/messages", _HEADERS, body)


def _beta(value: str, body: dict[str, Any] = BASE_BODY) -> WireRequest:
    headers = {**_HEADERS, "anthropic-beta": value}
    return WireRequest("POST", "/v1/messages", headers, _json.dumps(body))


def _gated() -> WireRequest:
    edits = {"edits": [{"type": "clear_tool_uses_20250919"}]}
    return _beta("files-api-2025-04-14", {**BASE_BODY, "context_management": edits})


def _cases(profile_name: str) -> list[tuple[str, str, WireRequest]]:
    """(rule, what it checks, a request that breaks it): each rule's own example on Haiku
    4.5 as `profile_name` serves it, then what only headers, paths and sizes can show."""
    profile = load_profile(profile_name)
    haiku = profile.model(BASE_BODY["model"])
    cases = []
    for rule in (*SCHEMA_CASES, *RULES):
        # on Haiku 4.5 where the rule can be broken there, else on the first model where it can
        model = next((m for m in (haiku, *profile.models) if rule.applies(m)), haiku)
        body = {**BASE_BODY, "model": BASE_BODY["model"] if model is haiku else model.id}
        cases.append((rule.name, rule.summary, _post(_json.dumps(rule.breaks(body, model)))))
    no_key = WireRequest("POST", "/v1/messages", {"anthropic-version": "2023-06-01"}, b"{}")
    cases += [
        ("api_key", "an API key is sent", no_key),
        ("json_body", "the body is JSON", _post(b"{not json")),
        ("beta_header", "anthropic-beta values are known", _beta("fast-mode-2099-01-01")),
        ("beta_field", "beta-only fields come with their beta", _gated()),
        ("body_size", "the body is at most 32 MiB", _post(b" " * (32 * 2**20 + 1))),
        ("known_path", "the path exists", WireRequest("GET", "/v1/nothing", _HEADERS)),
        ("method", "the method fits the path", WireRequest("GET", "/v1/messages", _HEADERS)),
    ]
    return cases


def error_rows() -> list[tuple[str, str, str, str, str]]:
    """(rule, what it checks, status on bytespike / anthropic, error type, message)."""
    engines = [Engine("bytespike"), Engine("anthropic")]
    rows = []
    for case, other in zip(_cases("bytespike"), _cases("anthropic"), strict=True):
        name, summary, request = case
        answers = [engines[0].handle(request), engines[1].handle(other[2])]
        status = " / ".join(str(a.status) for a in answers)
        if answers[0].status == answers[1].status:
            status = str(answers[0].status)
        error = _json.loads(answers[0].body)["error"]
        rows.append((name, summary, status, error["type"], error["message"]))
    return rows


def markdown() -> str:
    lines = [
        "| rule | checks that | status | error.type | message |",
        "|---|---|---|---|---|",
    ]
    for name, summary, status, kind, message in error_rows():
        cell = message.replace("|", "\\|")
        lines.append(f"| `{name}` | {summary} | {status} | `{kind}` | {cell} |")
    return "\n".join(lines) + "\n"


START, END = "<!-- errors:start -->", "<!-- errors:end -->"


def splice(text: str) -> str:
    """`text` with the table between the START and END markers replaced by a fresh one."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{markdown()}{END}{tail}"


if __name__ == "__main__":  # python -m mockspike.contract.table docs/reference/errors.md
    import sys

    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            original = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(splice(original))
    if not sys.argv[1:]:
        print(markdown(), end="")
