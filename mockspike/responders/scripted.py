"""Scripted rules: match a request on what users care about, answer with what they chose.

Rules are tried in the order they were added; the first that matches and has uses left
answers. A rule's responses form a sequence (first call A, second B, …); after the last one
it keeps answering with the last unless `times` ran out."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.faults import Fault
from ..core.outcomes import Failure, Reply, Response, make_reply, tool_use_block
from .matchers import MATCHERS, check_names

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Rule:
    """One scripted rule. Build with `fake.on(...)` and chain `.reply()`, `.fail()`,
    `.fault()` to make a sequence."""

    matchers: dict[str, Any]
    times: int | None = None
    name: str | None = None
    responses: list[Response] = field(default_factory=list)
    calls: int = 0
    number: int = 0
    statuses: frozenset[int] | None = field(default=None, repr=False)
    """The statuses the profile can send; `fail()` refuses others."""

    def __post_init__(self) -> None:
        check_names(self.matchers)
        self.matchers = {k: MATCHERS[k].prepare(v) for k, v in self.matchers.items()}
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")

    # -- building ----------------------------------------------------------------------

    def reply(self, text: str | Reply | None = None, **kwargs: Any) -> Rule:
        """Answer with a message: text, or `content=[blocks]`; see `make_reply`."""
        self.responses.append(make_reply(text, **kwargs))
        return self

    def reply_tool_use(self, name: str, input: dict[str, Any], **kwargs: Any) -> Rule:
        """Answer with one `tool_use` block (and `stop_reason: tool_use`)."""
        text = kwargs.pop("text", None)
        blocks = [{"type": "text", "text": text}] if text else []
        blocks.append(tool_use_block(name, input, kwargs.pop("id", None)))
        return self.reply(content=blocks, **kwargs)

    def fail(
        self,
        status: int | Failure,
        type: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> Rule:
        """Answer with an error status in the exact envelope."""
        failure = (
            status
            if isinstance(status, Failure)
            else Failure(status, type, message, headers, retry_after)
        )
        if self.statuses is not None and failure.status not in self.statuses:
            allowed = ", ".join(str(s) for s in sorted(self.statuses))
            raise ValueError(f"status {failure.status} is not one this profile sends ({allowed})")
        self.responses.append(failure)
        return self

    def fault(
        self,
        kind: str | Fault,
        *,
        seconds: float = 0.0,
        after: int = 0,
        error: Failure | int | None = None,
    ) -> Rule:
        """Break the transport: `drop`, `malformed`, `stall` (seconds) or `break` (after N
        events, optionally with a mid-stream `error`)."""
        if isinstance(kind, Fault):
            self.responses.append(kind)
            return self
        failure = Failure(error) if isinstance(error, int) else error
        if failure is not None:
            self.fail(failure)  # checks the status like fail() does
            self.responses.pop()
        self.responses.append(Fault(kind, seconds, after, failure))  # type: ignore[arg-type]
        return self

    # -- matching ----------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.calls >= self.times

    @property
    def used(self) -> bool:
        return self.calls > 0

    def mismatches(self, body: dict[str, Any]) -> list[str]:
        """Why this rule does not match `body`: one line a failed matcher (empty: match)."""
        found = (MATCHERS[name].check(body, value) for name, value in self.matchers.items())
        return [line for line in found if line is not None]

    def take(self) -> Response:
        """The next response of the sequence (the last one repeats)."""
        if not self.responses:
            raise ValueError(f"{self.describe()} has no reply; chain .reply(), .fail() or .fault()")
        response = self.responses[min(self.calls, len(self.responses) - 1)]
        self.calls += 1
        return response

    def describe(self) -> str:
        shown = ", ".join(
            f"{k}={'<predicate>' if k == 'where' else getattr(v, 'pattern', v)!r}"
            for k, v in self.matchers.items()
        )
        label = f" {self.name!r}" if self.name else ""
        return f"rule #{self.number}{label} on({shown})"


class Script:
    """The ordered rules of one fake; safe to use from several threads."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            rule.number = next(self._numbers)
            self.rules.append(rule)
        return rule

    def decide(self, body: dict[str, Any]) -> tuple[Rule | None, Response | None]:
        with self._lock:
            for rule in self.rules:
                if not rule.exhausted and rule.responses and not rule.mismatches(body):
                    return rule, rule.take()
        return None, None

    def explain_miss(self, body: dict[str, Any]) -> str:
        """Name the closest rule and why it did not match (for strict mode)."""
        live = [r for r in self.rules if not r.exhausted]
        if not live:
            used = f" ({len(self.rules)} used up)" if self.rules else ""
            return f"no rule is left to answer it{used}"
        closest = min(live, key=lambda r: len(r.mismatches(body)))
        return f"the closest is {closest.describe()}: " + "; ".join(closest.mismatches(body))

    def unused(self) -> list[Rule]:
        return [r for r in self.rules if not r.used]

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
