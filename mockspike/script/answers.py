"""The answer verbs, as one table (like `MATCHERS`): each row is a function that makes a
`Reply`, a `Failure` or a `Fault` from its arguments.

A verb's arguments are its function's parameters (its Python signature: `rule.reply(...)`,
`rule.answer("reply", ...)`, `fake.reply(...)`) and its `$defs` entry in
`script/script.schema.json` (what script files and the admin API may send, and what Python
is checked against too, so all three refuse the same mistakes with the same message).
`Rule.answer` dispatches through this table; so do a script file's `respond`, the admin
API's `/replies`, `/failures`, `/faults` and `/answers/{verb}`, and `fake.queue(...)`.

A new answer verb is one function and one row here, and its arguments' `$defs` entry in
`script.schema.json`. What only the request can tell (a `tool_use` answered to a request
that offered no tools) is checked when answering: `check_answer`.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from mockspike.model.arguments import nearest
from mockspike.model.errors import AnswerError
from mockspike.model.faults import Failure, Fault, describe_kinds
from mockspike.model.outcomes import Reply, Response, make_reply, tool_use_block
from mockspike.script import schema
from mockspike.synthetic import server_tools


def reply(text: str | None = None, **fields: Any) -> Reply:
    """Answer with a message: text, or `content=[blocks]` of any kind the API sends
    (checked now), `stop_reason=` (any of the API's), `stop_details=`, `usage=`,
    `container=`, `context_management=`, `model=`, `timing=Pacing(...)`."""
    return make_reply(text, **fields)


def reply_tool_use(
    name: str,
    input: dict[str, Any] | None = None,
    *,
    text: str | None = None,
    id: str | None = None,
    **fields: Any,
) -> Reply:
    """Answer with one `tool_use` block calling `name` with `input` (and
    `stop_reason: tool_use`), after `text` if given."""
    content = [{"type": "text", "text": text}] if text else []
    content.append(tool_use_block(name, input or {}, id))
    return make_reply(content=content, **fields)


def reply_web_search(
    query: str,
    results: list[str | dict[str, Any]] | None = None,
    text: str | None = None,
    *,
    cite: bool = True,
    error_code: str | None = None,
    **fields: Any,
) -> Reply:
    """Answer with a web-search turn: the search, its results (URLs or
    `{"url", "title", "page_age"}`), then `text` citing the first result (`cite=False`:
    plain text; `error_code=`: the search failed)."""
    content = server_tools.web_search_turn(query, results, text, cite=cite, error_code=error_code)
    return make_reply(content=content, **fields)


def reply_code_execution(
    command: str,
    stdout: str = "",
    stderr: str = "",
    return_code: int = 0,
    text: str | None = None,
    **fields: Any,
) -> Reply:
    """Answer with a code-execution turn: a shell command, its output, then `text` (the
    reply carries its `container`)."""
    content = server_tools.code_execution_turn(command, stdout, stderr, return_code, text)
    return make_reply(content=content, **fields)


def refuse(
    text: str | None = None,
    *,
    category: str | None = None,
    explanation: str | None = None,
    **fields: Any,
) -> Reply:
    """Answer with a refusal (`stop_reason: refusal`): no content, or the `text` written
    before the model stopped, and `stop_details` with the refusal's `category` (cyber, bio,
    frontier_llm, reasoning_extraction, general_harms, or None) and `explanation`."""
    given = [{"type": "text", "text": text}] if text else []
    details = {"category": category, "explanation": explanation}
    return make_reply(content=given, stop_reason="refusal", stop_details=details, **fields)


def fail(
    status: int,
    type: str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    retry_after: float | None = None,
) -> Failure:
    """Answer with an error status in the exact envelope (the profile's headers:
    `retry-after` on 429, the gateway's auto-retry envelope on 5xx)."""
    return Failure(status, type, message, headers, retry_after)


def fault(
    kind: str,
    *,
    seconds: float = 0.0,
    after: int = 0,
    error: Failure | int | dict[str, Any] | None = None,
) -> Fault:
    """Break the transport: a kind of `mockspike.model.faults.KINDS` (below); `stall`
    waits `seconds`, `break` cuts after `after` events (with a mid-stream `error`, if given)."""
    if isinstance(error, int):
        error = Failure(error)
    elif isinstance(error, dict):
        error = Failure(**error)
    return Fault(kind, seconds, after, error)


fault.__doc__ = f"{fault.__doc__}\n\n" + textwrap.indent(describe_kinds(), " " * 4)


def _reply_written(reply: Reply) -> str:
    """`reply('Hello!')`, `reply_tool_use('get_weather')` or `reply(content=[2 block(s)])`."""
    for block in reply.content:
        if block.get("type") == "tool_use":
            return f"reply_tool_use({block.get('name')!r})"
    texts = [b.get("text", "") for b in reply.content if b.get("type") == "text"]
    if len(reply.content) == 1 and texts:
        text = texts[0] if len(texts[0]) <= 40 else texts[0][:39] + "…"
        return f"reply({text!r})"
    return f"reply(content=[{len(reply.content)} block(s)])"


def _fail_written(failure: Failure) -> str:
    return f"fail({failure.status})"


def _fault_written(fault: Fault) -> str:
    extra = [f"seconds={fault.seconds:g}"] if fault.seconds else []
    extra += [f"after={fault.after}"] if fault.after else []
    extra += [f"error={fault.error.status}"] if fault.error else []
    return f"fault({', '.join([repr(fault.kind), *extra])})"


@dataclass(frozen=True)
class Answer:
    """One verb: what it answers, in a line; `make` builds its answer from the checked
    arguments; a ready value of type `makes` (a `Reply`, `Failure`, `Fault` built by hand) is
    taken as it is; `written` says a queued answer as it was scripted, for the journal
    (None: the verb's name, `refuse()`)."""

    summary: str
    make: Callable[..., Response]
    makes: type[Reply] | type[Failure] | type[Fault]
    written: Callable[[Any], str] | None = None


ANSWERS: Mapping[str, Answer] = MappingProxyType(
    {
        "reply": Answer("a message: text or content blocks", reply, Reply, _reply_written),
        "reply_tool_use": Answer(
            "a call of one tool (stop_reason tool_use)", reply_tool_use, Reply, _reply_written
        ),
        "reply_web_search": Answer(
            "a web search, its results and text citing them", reply_web_search, Reply
        ),
        "reply_code_execution": Answer(
            "a shell command run in a container, its output, then text",
            reply_code_execution,
            Reply,
        ),
        "refuse": Answer("a refusal (stop_reason refusal, its stop_details)", refuse, Reply),
        "fail": Answer("an error status in the exact envelope", fail, Failure, _fail_written),
        "fault": Answer("a broken transport (a kind of KINDS)", fault, Fault, _fault_written),
    }
)
"""Read-only: the answer verbs are the same for every fake in the process."""


def verb_method(owner: Any, name: str) -> Callable[..., Any]:
    """`owner.answer` bound to the verb `name`, with that verb's signature and docstring:
    how a rule (`rule.refuse()`) and a fake (`fake.refuse()`) offer every verb of the table.
    Any other name is an `AttributeError`; a near miss of a verb (`fake.refuze`) names the
    verb it was meant to be."""
    if name.startswith("_") or name not in ANSWERS:
        text = f"{type(owner).__name__!r} object has no attribute {name!r}"
        close = difflib.get_close_matches(name, ANSWERS, n=1, cutoff=0.75)
        raise AttributeError(f"{text}; did you mean {close[0]!r}?" if close else text)
    method = functools.partial(owner.answer, name)
    functools.update_wrapper(method, ANSWERS[name].make)
    return method


def make(verb: str, *args: Any, **kwargs: Any) -> Response:
    """The answer `verb` makes of these arguments, checked against its schema first."""
    answer = ANSWERS.get(verb)
    if answer is None:
        raise TypeError(f"unknown answer {verb!r}; {nearest(verb, ANSWERS)}")
    if len(args) == 1 and not kwargs and isinstance(args[0], answer.makes):
        return args[0]
    positional = _positional(verb)
    if len(args) > len(positional):
        raise TypeError(f"{verb}() takes {len(positional)} positional arguments, not {len(args)}")
    given = dict(zip(positional, args, strict=False))
    twice = sorted(set(given) & set(kwargs))
    if twice:
        raise TypeError(f"{verb}() got {twice[0]!r} twice")
    given.update(kwargs)
    schema.check(verb, given)
    return answer.make(**given)


@cache
def _positional(verb: str) -> tuple[str, ...]:
    parameters = inspect.signature(ANSWERS[verb].make).parameters.values()
    return tuple(p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)


def written(verb: str, response: Response) -> str:
    """`response`, the answer of `verb`, as it was scripted: `fail(429)`,
    `fault('stall', seconds=5)`, `reply('Hello!')`, `reply_tool_use('get_weather')`,
    `refuse()`."""
    answer = ANSWERS[verb]
    if answer.written is None or not isinstance(response, answer.makes):
        return f"{verb}()"
    return answer.written(response)


def describe() -> str:
    """One line a verb, for docstrings and help."""
    return "\n".join(f"- `{verb}`: {answer.summary}" for verb, answer in ANSWERS.items())


def check_answer(rule: str, content: list[dict[str, Any]], body: Mapping[str, Any]) -> None:
    """Raise `AnswerError` when the scripted `content` cannot answer `body`."""
    problem = answer_problem(content, body)
    if problem is not None:
        raise AnswerError(f"mockspike: {rule} matched, but {problem}")


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
