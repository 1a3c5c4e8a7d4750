"""The table of errors in the README, produced by running the engine on each rule's example.

The rows come from `RULES` and `SCHEMA_CASES` (plus the few cases about headers, paths and
size that no body can show), so the docs always say what the fake really answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import _json
from ..engine import Engine
from ..wire import WireRequest
from .rules import RULES, SCHEMA_CASES

BASE_BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Classify this support ticket: My order is late."}],
}
_HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}


@dataclass(frozen=True)
class _WireCase:
    name: str
    summary: str
    request: Callable[[bytes], WireRequest]


_WIRE_CASES = (
    _WireCase(
        "unknown_model",
        "the model exists",
        lambda b: _post(_json.dumps({**BASE_BODY, "model": "claude-nope"})),
    ),
    _WireCase(
        "api_key",
        "an API key is sent",
        lambda b: WireRequest("POST", "/v1/messages", {"anthropic-version": "2023-06-01"}, b),
    ),
    _WireCase("json_body", "the body is JSON", lambda b: _post(b"{not json")),
    _WireCase("body_size", "the body is at most 32 MiB", lambda b: _post(b" " * (32 * 2**20 + 1))),
    _WireCase(
        "known_path", "the path exists", lambda b: WireRequest("GET", "/v1/nothing", _HEADERS)
    ),
    _WireCase(
        "method", "the method fits the path", lambda b: WireRequest("GET", "/v1/messages", _HEADERS)
    ),
)


def _post(body: bytes) -> WireRequest:
    return WireRequest("POST", "/v1/messages", _HEADERS, body)


def error_rows() -> list[tuple[str, str, str, str, str]]:
    """(rule, what it checks, status on bytespike / anthropic, error type, message)."""
    engines = [Engine("bytespike"), Engine("anthropic")]
    rows = []
    cases: list[tuple[str, str, Callable[[bytes], WireRequest]]] = [
        (r.name, r.summary, lambda b, r=r: _post(_json.dumps(r.breaks(BASE_BODY))))  # type: ignore[misc]
        for r in (*SCHEMA_CASES, *RULES)
    ]
    cases += [(c.name, c.summary, c.request) for c in _WIRE_CASES]
    for name, summary, make in cases:
        answers = [engine.handle(make(_json.dumps(BASE_BODY))) for engine in engines]
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
