"""The table of errors in the README, produced by running the engine on each rule's example.

The rows come from `RULES` and `SCHEMA_CASES` (plus the few cases about headers, paths and
size that no body can show), so the docs always say what the fake really answers."""

from __future__ import annotations

from typing import Any

from .. import _json
from ..core.engine import Engine
from ..core.wire import WireRequest
from .catalog import load_profile
from .rules import RULES, SCHEMA_CASES

BASE_BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Classify this support ticket: My order is late."}],
}
_HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}


def _post(body: bytes) -> WireRequest:
    return WireRequest("POST", "/v1/messages", _HEADERS, body)


def _cases() -> list[tuple[str, str, WireRequest]]:
    """(rule, what it checks, a request that breaks it): each rule's own example on Haiku
    4.5, then what only headers, paths and sizes can show."""
    haiku = load_profile("bytespike").model(BASE_BODY["model"])
    cases = [
        (rule.name, rule.summary, _post(_json.dumps(rule.breaks(BASE_BODY, haiku))))
        for rule in (*SCHEMA_CASES, *RULES)
    ]
    no_key = WireRequest("POST", "/v1/messages", {"anthropic-version": "2023-06-01"}, b"{}")
    cases += [
        ("api_key", "an API key is sent", no_key),
        ("json_body", "the body is JSON", _post(b"{not json")),
        ("body_size", "the body is at most 32 MiB", _post(b" " * (32 * 2**20 + 1))),
        ("known_path", "the path exists", WireRequest("GET", "/v1/nothing", _HEADERS)),
        ("method", "the method fits the path", WireRequest("GET", "/v1/messages", _HEADERS)),
    ]
    return cases


def error_rows() -> list[tuple[str, str, str, str, str]]:
    """(rule, what it checks, status on bytespike / anthropic, error type, message)."""
    engines = [Engine("bytespike"), Engine("anthropic")]
    rows = []
    for name, summary, request in _cases():
        answers = [engine.handle(request) for engine in engines]
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


if __name__ == "__main__":  # python -m mockspike.contract.table README.md
    import sys

    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            original = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(splice(original))
    if not sys.argv[1:]:
        print(markdown(), end="")
