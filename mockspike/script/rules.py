"""Scripted rules: match a request on what users care about, answer with what they chose.

Rules are tried in the order they were added; the first that matches and has uses left
answers. A rule's responses form a sequence (first call A, second B, …); after the last one
it keeps answering with the last unless `times` ran out."""

from __future__ import annotations

import itertools
import textwrap
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from mockspike.model.errors import AnswerError
from mockspike.model.faults import Failure, Fault, describe_kinds
from mockspike.model.outcomes import Reply, Response
from mockspike.script import answers, templates
from mockspike.script.matchers import MATCHERS, check_matchers, check_names
from mockspike.script.regex import RegexError

Predicate = Callable[[dict[str, Any]], bool]
CALLS_KEPT = 1000
"""Journal entries a rule keeps in `calls` (a load test's rule must not hold them all)."""


class CallList(list[Any]):
    """`rule.calls`: journal entries, oldest first, with `.last` as respx has it."""

    @property
    def last(self) -> Any:
        if not self:
            raise IndexError("the rule answered no request yet")
        return self[-1]


Claimed = tuple[int, "str | None"]
"""A claimed use: its position in the rule's sequence, the scenario state it saw."""
RULE_FIELDS = ("times", "name", "scenario", "state", "next_state")
"""A rule's own fields, beside its matchers, in `on()` and script files."""


@dataclass
class Rule:
    """One scripted rule. Build with `fake.on(...)` and chain `.reply()`, `.fail()`,
    `.fault()` to make a sequence."""

    matchers: dict[str, Any]
    times: int | None = None
    name: str | None = None
    responses: list[Response | templates.Templated] = field(default_factory=list)
    call_count: int = 0
    """Requests this rule answered (in every process sharing the state), as respx counts."""
    unanswered: int = 0
    """Requests this rule matched but could not answer: no reply was chained to it."""
    number: int = 0
    queued: bool = False
    """A one-shot (`fake.reply(...)`, admin `/replies`): answers before the standing rules."""
    statuses: frozenset[int] | None = field(default=None, repr=False)
    """The statuses the profile can send; `fail()` refuses others."""
    models: frozenset[str] | None = field(default=None, repr=False)
    """The model ids and aliases the profile serves; `model=` refuses others."""
    _answered: deque[Any] = field(
        default_factory=lambda: deque(maxlen=CALLS_KEPT), repr=False, compare=False
    )
    _first_verb: str | None = field(default=None, repr=False, compare=False)
    """The verb of its first answer (a queued rule is described as it was written)."""
    scenario: str | None = None
    """The scenario this rule belongs to (its state starts as "started")."""
    state: str | None = None
    """The scenario state this rule answers in (None: any)."""
    next_state: str | None = None
    """The state the scenario moves to when this rule answers (None: it stays)."""

    @classmethod
    def of(cls, given: Mapping[str, Any], **extra: Any) -> Rule:
        """A rule from `on()`'s keywords: the rule's own fields by name, matchers the rest."""
        own = {k: v for k, v in given.items() if k in RULE_FIELDS}
        return cls({k: v for k, v in given.items() if k not in RULE_FIELDS}, **own, **extra)

    def __post_init__(self) -> None:
        for name in ("scenario", "state", "next_state"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        if self.scenario is None and (self.state or self.next_state):
            raise ValueError("state and next_state need a scenario=")
        check_names(self.matchers)
        check_matchers(self.matchers, self.models)
        try:
            self.matchers = {k: MATCHERS[k].prepare(v) for k, v in self.matchers.items()}
        except RegexError as exc:  # say which rule
            raise RegexError(f"rule {self.name!r}: {exc}" if self.name else str(exc)) from None
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError(f"times must be a whole number of at least 1, not {self.times!r}")

    # -- building ----------------------------------------------------------------------

    def answer(self, verb: str, /, *args: Any, **kwargs: Any) -> Rule:
        """Answer with `verb` of the `ANSWERS` table (`script/answers.py`) and its arguments,
        checked now. Each verb is also a method of its own name: `rule.refuse(...)`."""
        response = answers.make(verb, *args, **kwargs)
        failure = response.error if isinstance(response, Fault) else response
        statuses = self.statuses
        if isinstance(failure, Failure) and statuses is not None and failure.status not in statuses:
            allowed = ", ".join(str(s) for s in sorted(statuses))
            raise ValueError(f"status {failure.status} is not one this profile sends ({allowed})")
        if not self.responses:
            self._first_verb = verb
        self.responses.append(response)
        return self

    answer.__doc__ = f"{answer.__doc__}\n\n" + textwrap.indent(answers.describe(), " " * 8)

    def reply(self, text: str | Reply | None = None, **kwargs: Any) -> Rule:
        """Answer with a message: text, or `content=[blocks]`; see `make_reply`."""
        return self.answer("reply", text, **kwargs)

    def reply_tool_use(self, name: str, input: dict[str, Any] | None = None, **kwargs: Any) -> Rule:
        """Answer with one `tool_use` block (and `stop_reason: tool_use`)."""
        return self.answer("reply_tool_use", name, input, **kwargs)

    def reply_web_search(
        self,
        query: str,
        results: list[str | dict[str, Any]] | None = None,
        text: str | None = None,
        *,
        cite: bool = True,
        error_code: str | None = None,
        **kwargs: Any,
    ) -> Rule:
        """Answer with a web-search turn: the search, its results (URLs or
        `{"url", "title", "page_age"}`), then `text` citing the first result."""
        given = {"cite": cite, "error_code": error_code, **kwargs}
        return self.answer("reply_web_search", query, results, text, **given)

    def reply_code_execution(
        self,
        command: str,
        stdout: str = "",
        stderr: str = "",
        return_code: int = 0,
        text: str | None = None,
        **kwargs: Any,
    ) -> Rule:
        """Answer with a code-execution turn (a shell command and its output; the reply
        carries its `container`)."""
        return self.answer(
            "reply_code_execution", command, stdout, stderr, return_code, text, **kwargs
        )

    def fail(
        self,
        status: int | Failure,
        type: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> Rule:
        """Answer with an error status in the exact envelope."""
        if isinstance(status, Failure):
            return self.answer("fail", status)
        return self.answer("fail", status, type, message, headers, retry_after)

    def fault(
        self,
        kind: str | Fault,
        *,
        seconds: float = 0.0,
        after: int = 0,
        error: Failure | int | None = None,
    ) -> Rule:
        """Break the transport: a kind of `mockspike.model.faults.KINDS` (below); `stall`
        waits `seconds`, `break` cuts after `after` events (with a mid-stream `error`, if
        given)."""
        if isinstance(kind, Fault):
            return self.answer("fault", kind)
        return self.answer("fault", kind, seconds=seconds, after=after, error=error)

    fault.__doc__ = f"{fault.__doc__}\n\n" + textwrap.indent(describe_kinds(), " " * 8)

    if not TYPE_CHECKING:  # (hidden from type checkers, so a typo stays an error there)

        def __getattr__(self, name: str) -> Callable[..., Rule]:
            """Every verb of `ANSWERS` as a method: `rule.refuse(category="cyber")`."""
            method: Callable[..., Rule] = answers.verb_method(self, name)
            return method

    # -- what it answered (respx's names) -----------------------------------------------

    @property
    def called(self) -> bool:
        """True once the rule answered a request."""
        return self.call_count > 0

    @property
    def calls(self) -> CallList:
        """The journal entries of the requests it answered in this process, oldest first
        (`.last` the newest; the last `CALLS_KEPT`), as respx's `route.calls`."""
        return CallList(self._answered)

    def answered(self, entry: Any) -> None:
        """Note a request this rule answered (its journal entry)."""
        self._answered.append(entry)

    # -- matching ----------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.call_count >= self.times

    @property
    def used(self) -> bool:
        return self.call_count > 0

    def mismatches(self, body: dict[str, Any]) -> list[str]:
        """Why this rule does not match `body`: one line a failed matcher (empty: match)."""
        try:
            found = [MATCHERS[name].check(body, value) for name, value in self.matchers.items()]
        except Exception as exc:  # a where= predicate that raised
            raise self._raised(exc) from exc
        return [line for line in found if line is not None]

    def matches(self, body: dict[str, Any]) -> bool:
        """`not mismatches(body)`, stopping at the first matcher that fails (the script
        asks this of every rule before the one that answers, for every request)."""
        try:
            for name, value in self.matchers.items():
                if MATCHERS[name].check(body, value) is not None:
                    return False
        except Exception as exc:  # a where= predicate that raised
            raise self._raised(exc) from exc
        return True

    def _raised(self, exc: Exception) -> AnswerError:
        return AnswerError(
            f"mockspike: {self.describe()} raised {type(exc).__name__}: {exc} while "
            "matching a request"
        )

    def response_at(self, position: int) -> Response | templates.Templated:
        """The response for the `position`-th use (0 first; the last one repeats)."""
        if not self.responses:
            raise ValueError(f"{self.describe()} has no reply; chain .reply(), .fail() or .fault()")
        return self.responses[min(position, len(self.responses) - 1)]

    def describe(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        if self.queued and self.responses and not self.matchers:  # what the user wrote
            first = self.responses[0]
            if isinstance(first, templates.Templated):
                first = first.response
            written = answers.written(self._first_verb or "reply", first)[:-1]
            if self.times and self.times > 1:
                written += f"{'' if written.endswith('(') else ', '}times={self.times}"
            return f"rule #{self.number}{label} {written})"
        shown = ", ".join(
            f"{k}={'<predicate>' if k == 'where' else getattr(v, 'pattern', v)!r}"
            for k, v in self.matchers.items()
        )
        described = f"rule #{self.number}{label} on({shown})"
        if self.scenario is not None:
            described += f" in scenario {self.scenario!r}"
            described += f" at {self.state!r}" if self.state else ""
            described += f" -> {self.next_state!r}" if self.next_state else ""
        return described


class Decision(NamedTuple):
    """What the script decided: the rule that answers, its answer, and for a rule in a
    scenario `{"name", "state" (as it found it), "next_state"}` (for the journal)."""

    rule: Rule | None
    response: Response | None
    scenario: dict[str, str | None] | None = None


def _scenario(rule: Rule, seen: str | None) -> dict[str, str | None] | None:
    if rule.scenario is None:
        return None
    return {"name": rule.scenario, "state": seen, "next_state": rule.next_state or seen}


def _rendered(
    rule: Rule, position: int, body: dict[str, Any], headers: Mapping[str, str]
) -> Response:
    response = rule.response_at(position)
    if not isinstance(response, templates.Templated):
        return response
    values = templates.context(body, headers, count=position + 1, state=None)
    try:
        return response.render(values)
    except templates.TemplateError as exc:
        raise AnswerError(f"mockspike: {rule.describe()}: {exc}") from None


def _claim_here(rule: Rule) -> Claimed | None:
    """One use of `rule` counted in this process (scenarios: the rules store claims)."""
    rule.call_count += 1
    return rule.call_count - 1, None


class Script:
    """The ordered rules of one fake; safe to use from several threads."""

    def __init__(self, claim: Callable[[Rule], Claimed | None] | None = None) -> None:
        self.rules: list[Rule] = []
        self._claim = claim or _claim_here
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            rule.number = next(self._numbers)
            self.rules.append(rule)
        return rule

    def decide(
        self,
        body: dict[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        behind: Rule | None = None,
    ) -> Decision:
        """The first rule that matches `body`, has a use left and (in a scenario) finds it
        in its state, and its answer (templates rendered from the request and `headers`).
        `behind`: a rule whose fault (a stall, a cut) wraps the answer; the standing rules
        other than it answer, as they would without the fault (queued one-shots stay for
        the next requests)."""
        with self._lock:
            for queued in (True, False) if behind is None else (False,):
                for rule in self.rules:
                    if rule.queued is not queued or rule.exhausted or not rule.matches(body):
                        continue
                    if rule is behind:
                        continue
                    if not rule.responses:
                        rule.unanswered += 1
                        continue
                    claimed = self._claim(rule)
                    if claimed is not None:
                        position, seen = claimed
                        response = _rendered(rule, position, body, headers or {})
                        return Decision(rule, response, _scenario(rule, seen))
        return Decision(None, None)

    def explain_miss(self, body: dict[str, Any]) -> str:
        """Name the closest rule and why it did not match (for strict mode)."""
        live = [r for r in self.rules if not r.exhausted]
        if not live:
            used = f" ({len(self.rules)} used up)" if self.rules else ""
            return f"no rule is left to answer it{used}"
        closest = min(live, key=lambda r: len(r.mismatches(body)))
        why = closest.mismatches(body)
        if not why and closest.state is not None:  # it matched; its scenario was elsewhere
            why = [f"scenario {closest.scenario!r} was not in state {closest.state!r}"]
        return f"the closest is {closest.describe()}: " + "; ".join(why)

    def swap(self, old: list[Rule], new: list[Rule]) -> None:
        """Put `new` rules where `old` ones stood (at the front when none is left), in one
        step: a request sees the old rules or the new, never some of each."""
        with self._lock:
            for rule in new:
                rule.number = next(self._numbers)
            gone = {id(r) for r in old}
            at = next((i for i, r in enumerate(self.rules) if id(r) in gone), 0)
            kept = [r for r in self.rules if id(r) not in gone]  # none of `old` is before `at`
            self.rules = kept[:at] + list(new) + kept[at:]

    def remove(self, rules: list[Rule]) -> None:
        """Take rules back out (a script that failed half-way; an admin DELETE)."""
        with self._lock:
            self.rules = [r for r in self.rules if all(r is not x for x in rules)]

    def unused(self) -> list[Rule]:
        return [r for r in self.rules if not r.used]

    def replace(self, rules: list[Rule]) -> None:
        """Swap in rules numbered elsewhere (rebuilt from a shared state)."""
        with self._lock:
            self.rules = list(rules)

    def clear(self) -> None:
        """Forget every rule; numbering starts again at 1."""
        with self._lock:
            self.rules.clear()
            self._numbers = itertools.count(1)
