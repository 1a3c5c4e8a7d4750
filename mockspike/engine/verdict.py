"""The resilience verdict: how the client behaved after the fake answered with failures,
judged from the journal alone (pure: no clock reads, no I/O).

**The same request.** Two journal entries are the same request when their method, path and
JSON body are equal once canonicalised (keys sorted; `sha256` of that is the key). Headers
are left out, so a retry that changes a header (a new idempotency key, a trace id) is still a
retry. Entries of one key are taken in time order (the engine's clock, then arrival number):
each entry after a failed one is a retry of it; after a success, a new call.

**Time** is the engine's clock (`Entry.at`). With a `FakeClock`, let the client's sleep move
it (`clock.sleep` in place of `time.sleep`), or every retry looks instant.

The rules are the rows of `VERDICT_RULES`; each finding names its rule, a severity, a sentence, and
the journal entry numbers it is about.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from mockspike import _json
from mockspike.model.faults import Failure, Fault
from mockspike.state.journal import Entry

Severity = Literal["error", "warning"]

RETRYABLE_STATUSES = frozenset({408, 409, 429})
"""Retryable besides every 5xx (529 included), as the official SDKs decide."""
MIN_BACKOFF = 0.375
"""Seconds: the official SDK's shortest first wait (0.5 s less its 25 % jitter). A retry
sooner than this, unasked by `retry-after`, is a storm."""
MAX_JUDGED_RETRY_AFTER = 60.0
"""A longer `retry-after` is not judged: clients may cap it (the 0.x SDK ignores it)."""
SLACK = 0.005
"""Seconds of timing slack (header values are rounded to milliseconds)."""
COMPLETE = ("message_stop", "[DONE]")
"""How a whole stream ends: a Messages stream, and a chat-completions one."""


@dataclass(frozen=True)
class VerdictRule:
    """A way a client can mishandle failures: how bad it is, and one line saying what."""

    severity: Severity
    summary: str


VERDICT_RULES: Mapping[str, VerdictRule] = MappingProxyType(
    {
        "gave-up": VerdictRule("warning", "a retryable failure was never retried"),
        "retry-storm": VerdictRule(
            "error", f"retried sooner than {MIN_BACKOFF} s, with no retry-after"
        ),
        "ignored-retry-after": VerdictRule("error", "retried before retry-after / retry-after-ms"),
        "ignored-should-retry": VerdictRule(
            "error", "retried an answer marked x-should-retry: false"
        ),
        "retried-non-retryable": VerdictRule("error", "retried a 4xx that is not 408, 409 or 429"),
        "accepted-cut-stream": VerdictRule(
            "error", "continued the conversation with a stream cut before message_stop"
        ),
        "waited-out-stall": VerdictRule(
            "warning", "waited out a stall: the read timeout is too long"
        ),
    }
)


@dataclass(frozen=True)
class Finding:
    """One thing the client did wrong: `rule` (a key of `VERDICT_RULES`), how bad, what happened,
    and the journal entry numbers (`Entry.number`) it is about."""

    rule: str
    severity: Severity
    message: str
    entries: tuple[int, ...]

    def __str__(self) -> str:
        numbers = ", ".join(f"#{n}" for n in self.entries)
        return f"[{self.severity}] {self.rule}: {self.message} (requests {numbers})"

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "entries": list(self.entries),
        }


def request_key(entry: Entry) -> str:
    """What makes two entries the same request: method, path and canonical JSON body."""
    return hashlib.sha256(_json.canonical([entry.method, entry.path, entry.body])).hexdigest()


def injected(entries: Iterable[Entry]) -> bool:
    """True when a scripted failure or fault answered any of `entries`."""
    return any(isinstance(e.response, (Failure, Fault)) for e in entries)


def verdict(entries: Iterable[Entry]) -> list[Finding]:
    """Every finding about the client, in journal order."""
    ordered = sorted(entries, key=lambda e: (e.at, e.number))
    chains: dict[str, list[Entry]] = defaultdict(list)
    for entry in ordered:
        chains[request_key(entry)].append(entry)
    findings: list[Finding] = []
    for attempts in chains.values():
        for i, entry in enumerate(attempts):
            retry = attempts[i + 1] if i + 1 < len(attempts) else None
            first = i == 0 or _failure(attempts[i - 1]) is None
            findings += _judge(entry, retry, first)
            if _failure(entry) == "cut":
                findings += _continued(entry, retry, ordered)
    return sorted(findings, key=lambda f: f.entries)


def _finding(rule: str, message: str, *entries: Entry) -> Finding:
    return Finding(rule, VERDICT_RULES[rule].severity, message, tuple(e.number for e in entries))


def _failure(entry: Entry) -> str | None:
    """How the answer failed the client: `status`, `drop`, `cut`, `stall`, or None."""
    if entry.status >= 400:
        return "status"
    if entry.status == 0:
        return "drop"
    reply = entry.reply
    if (
        reply is not None
        and reply.end is not None
        and reply.end not in (*COMPLETE, "closed", "open")
    ):
        return "cut"
    if isinstance(entry.response, Fault) and entry.response.kind == "stall":
        return "stall"
    return None


def _judge(entry: Entry, retry: Entry | None, first: bool) -> list[Finding]:
    failure = _failure(entry)
    if failure in ("status", "drop"):
        return _after_error(entry, retry, first)
    if failure == "stall":
        return _after_stall(entry, retry)
    return []


def _after_error(entry: Entry, retry: Entry | None, first: bool) -> list[Finding]:
    headers = entry.reply.headers if entry.reply else {}
    what = f"the {entry.status}" if entry.status else "the dropped connection"
    should = headers.get("x-should-retry")
    retryable = (
        should == "true"
        or entry.status == 0
        or entry.status in RETRYABLE_STATUSES
        or entry.status >= 500
    ) and should != "false"
    if retry is None:
        if retryable and first:
            return [_finding("gave-up", f"{what} of #{entry.number} is retryable", entry)]
        return []
    if should == "false":
        message = f"#{retry.number} repeats #{entry.number}, answered x-should-retry: false"
        return [_finding("ignored-should-retry", message, entry, retry)]
    if not retryable:
        message = f"#{retry.number} repeats #{entry.number} after {what}, which no retry fixes"
        return [_finding("retried-non-retryable", message, entry, retry)]
    wait = retry.at - entry.at
    asked = retry_after(headers)
    if asked is not None and 0 < asked <= MAX_JUDGED_RETRY_AFTER:
        if wait < asked - SLACK:
            message = (
                f"#{retry.number} came {wait:.3f} s after {what} of #{entry.number}, "
                f"which asked for {asked:g} s"
            )
            return [_finding("ignored-retry-after", message, entry, retry)]
        return []
    if wait < MIN_BACKOFF - SLACK:
        message = (
            f"#{retry.number} came {wait:.3f} s after {what} of #{entry.number} "
            f"(at least {MIN_BACKOFF} s expected)"
        )
        return [_finding("retry-storm", message, entry, retry)]
    return []


def _after_stall(entry: Entry, retry: Entry | None) -> list[Finding]:
    assert isinstance(entry.response, Fault)
    seconds = entry.response.seconds
    if entry.reply is not None and entry.reply.client_left_after is not None:
        return []
    if retry is not None and retry.at - entry.at < seconds - SLACK:
        return []  # it was back before the stall ended, so it had left
    message = f"#{entry.number} stalled {seconds:g} s and the client waited it out"
    return [_finding("waited-out-stall", message, entry)]


def _continued(entry: Entry, retry: Entry | None, ordered: list[Entry]) -> list[Finding]:
    """A later request that carries on `entry`'s conversation, with an assistant turn, before
    any retry of `entry`: the client took the cut stream as a whole answer."""
    sent = (entry.body or {}).get("messages")
    if not isinstance(sent, list):
        return []
    for later in ordered:
        if later.number <= entry.number or later.path != entry.path:
            continue
        if retry is not None and later.number >= retry.number:
            return []
        messages = (later.body or {}).get("messages")
        if (
            isinstance(messages, list)
            and len(messages) > len(sent)
            and messages[: len(sent)] == sent
            and isinstance(messages[len(sent)], dict)
            and messages[len(sent)].get("role") == "assistant"
        ):
            message = (
                f"the stream of #{entry.number} ended without message_stop "
                f"({entry.reply.end if entry.reply else 'cut'}), and #{later.number} "
                "continues the conversation from it"
            )
            return [_finding("accepted-cut-stream", message, entry, later)]
    return []


def retry_after(headers: dict[str, str]) -> float | None:
    """Seconds the answer asked the client to wait: `retry-after-ms`, else `retry-after`."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return float(headers[name]) / scale
        except (KeyError, ValueError):
            continue
    return None


def report(findings: list[Finding]) -> str:
    """The findings as a readable list (for `assert_resilient` and the pytest option)."""
    if not findings:
        return "mockspike verdict: the client handled every failure well"
    lines = [f"mockspike verdict: {len(findings)} finding(s)"]
    lines += [f"  {f}" for f in findings]
    return "\n".join(lines)
