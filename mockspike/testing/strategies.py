"""Hypothesis strategies for contract-testing code that calls the Messages API.

`from mockspike import strategies as ms`. Everything drawn is valid for the profile by
construction, and the invalid requests come from the same rule definitions the validator
uses (`mockspike.contract.rules`), so the strategies, the fake and the docs cannot drift.

- requests the gateway accepts: `message_requests()` and its parts `messages()`,
  `content_blocks()`, `tools()`, `tool_choices()`, `system_prompts()`, `cache_controls()`;
- requests it refuses, with the answer: `invalid_message_requests()`;
- what it sends back: `replies()` (every block kind and stop reason; its parts
  `reply_blocks()`, `server_tool_turns()`, `citations()`), `stream_events()`,
  `error_replies()`, `faults()` — which
  drive a fake in one line: `fake.reply(drawn)`, `fake.fail(drawn)`, `fake.fault(drawn)`;
- structured-output schemas the fake answers with valid JSON: `output_schemas()`;
- Claude through the OpenAI SDK: `openai_chat_requests()`, chat-completions bodies the
  compatibility layer accepts.
"""

from __future__ import annotations

import base64
import inspect
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ModuleNotFoundError as exc:  # an optional dependency: say which extra brings it
    if exc.name != "hypothesis":
        raise
    raise ModuleNotFoundError(
        "mockspike.strategies needs hypothesis: pip install 'mockspike[hypothesis]'",
        name="hypothesis",
    ) from None

from mockspike.contract.catalog import Model, Profile, load_profile
from mockspike.contract.rules import RULES, SCHEMA_CASES, ContractRule
from mockspike.contract.validate import _check_schema
from mockspike.model.blocks import REFUSAL_CATEGORIES, STOP_REASONS
from mockspike.model.errors import ERROR_TYPES, ApiError
from mockspike.model.faults import KINDS, Failure, Fault, Kind
from mockspike.model.outcomes import Reply, make_reply
from mockspike.render import sse
from mockspike.render.message import Rendered
from mockspike.synthetic import server_tools as blocks_kit

__all__ = [
    "Invalid",
    "cache_controls",
    "citations",
    "content_blocks",
    "error_replies",
    "faults",
    "invalid_message_requests",
    "message_requests",
    "messages",
    "openai_chat_requests",
    "output_schemas",
    "replies",
    "reply_blocks",
    "sdk_arguments",
    "server_tool_turns",
    "stream_events",
    "system_prompts",
    "tool_choices",
    "tools",
]

_WORDS = st.sampled_from(
    [
        "order",
        "late",
        "refund",
        "Paris",
        "weather",
        "ticket",
        "classify",
        "urgent",
        "hello",
        "ünïcode",
        "数据",
        "🙂",
        "42",
        "why?",
        "line\nbreak",
        "tab\there",
    ]
)
_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_TOOL_NAME = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=24)


def _text(max_words: int = 12) -> SearchStrategy[str]:
    """Non-empty text with something other than whitespace in it."""
    return st.lists(_WORDS, min_size=1, max_size=max_words).map(" ".join)


def cache_controls() -> SearchStrategy[dict[str, Any]]:
    """`{"type": "ephemeral"}`, with or without a `ttl` of 5m or 1h."""
    return st.one_of(
        st.just({"type": "ephemeral"}),
        st.sampled_from(["5m", "1h"]).map(lambda ttl: {"type": "ephemeral", "ttl": ttl}),
    )


def content_blocks(
    *, kinds: tuple[str, ...] = ("text", "image", "document"), cache: bool = False
) -> SearchStrategy[dict[str, Any]]:
    """One request content block of the given kinds; `cache=True` may mark it."""
    makers = {
        "text": st.builds(lambda t: {"type": "text", "text": t}, _text()),
        "image": st.builds(
            lambda m, d: {
                "type": "image",
                "source": {"type": "base64", "media_type": m, "data": base64.b64encode(d).decode()},
            },
            st.sampled_from(_MEDIA_TYPES),
            st.binary(min_size=1, max_size=24),
        ),
        "document": st.builds(
            lambda t: {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": t},
            },
            _text(),
        ),
        "search_result": st.builds(
            lambda title, t: {
                "type": "search_result",
                "source": "https://example.com/" + title.replace(" ", "-"),
                "title": title,
                "content": [{"type": "text", "text": t}],
            },
            _text(3),
            _text(),
        ),
    }
    block = st.one_of(*(makers[k] for k in kinds))
    if not cache:
        return block
    return st.tuples(block, st.none() | cache_controls()).map(
        lambda pair: {**pair[0], "cache_control": pair[1]} if pair[1] else pair[0]
    )


def system_prompts(*, cache: bool = False) -> SearchStrategy[str | list[dict[str, Any]]]:
    """A system prompt: a string, or one or two text blocks (`cache=True`: the last may
    carry a breakpoint)."""
    blocks = st.lists(content_blocks(kinds=("text",)), min_size=1, max_size=2)
    if cache:
        blocks = st.tuples(blocks, st.none() | cache_controls()).map(
            lambda pair: (
                [*pair[0][:-1], {**pair[0][-1], "cache_control": pair[1]}] if pair[1] else pair[0]
            )
        )
    return st.one_of(_text(), blocks)


_PROPERTY = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 0, "maximum": 100},
        {"type": "boolean"},
        {"type": "number"},
        {"enum": ["low", "high"]},
        {"type": "array", "items": {"type": "string"}},
    ]
)


def tools(*, min_size: int = 1, max_size: int = 3) -> SearchStrategy[list[dict[str, Any]]]:
    """Tool definitions with unique, valid names and small object input schemas."""
    schema = st.dictionaries(
        st.sampled_from(["city", "order_id", "days", "query", "flag"]), _PROPERTY, max_size=3
    ).flatmap(
        lambda props: st.lists(
            st.sampled_from(sorted(props)) if props else st.nothing(),
            unique=True,
            max_size=len(props),
        ).map(
            lambda required: {
                "type": "object",
                "properties": props,
                **({"required": required} if required else {}),
            }
        )
    )
    tool = st.builds(
        lambda name, description, input_schema: {
            "name": name,
            **({"description": description} if description else {}),
            "input_schema": input_schema,
        },
        _TOOL_NAME,
        st.none() | _text(),
        schema,
    )
    return st.lists(tool, min_size=min_size, max_size=max_size, unique_by=lambda t: t["name"])


#: Server tools, one published version each, with their own options (names are fixed).
_SERVER_TOOLS: tuple[dict[str, Any], ...] = (
    {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    {
        "type": "web_search_20250305",
        "name": "web_search",
        "allowed_domains": ["example.com"],
        "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
    },
    {
        "type": "web_fetch_20250910",
        "name": "web_fetch",
        "max_uses": 2,
        "citations": {"enabled": True},
    },
    {"type": "code_execution_20250825", "name": "code_execution"},
    {"type": "bash_20250124", "name": "bash"},
    {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool", "max_characters": 5000},
    {"type": "memory_20250818", "name": "memory"},
    {"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"},
)


def server_tools() -> SearchStrategy[dict[str, Any]]:
    """One server tool definition (web search, web fetch, code execution, bash, text editor,
    memory, tool search), by its versioned type."""
    return st.sampled_from(_SERVER_TOOLS).map(dict)


def _custom_extras(tool: dict[str, Any]) -> SearchStrategy[dict[str, Any]]:
    """The same custom tool, perhaps with `type: "custom"` and `strict`."""
    return st.fixed_dictionaries(
        {}, optional={"type": st.just("custom"), "strict": st.booleans()}
    ).map(lambda extra: {**tool, **extra})


_tool_lists = tools  # message_requests() takes a `tools=` keyword that shadows the name


def tool_choices(tool_list: list[dict[str, Any]]) -> SearchStrategy[dict[str, Any]]:
    """A `tool_choice` valid for `tool_list`: auto, any, none, or one of its tools by name."""
    named = st.sampled_from([t["name"] for t in tool_list]).map(
        lambda name: {"type": "tool", "name": name}
    )
    plain = st.sampled_from(["auto", "any", "none"]).map(lambda kind: {"type": kind})
    return st.one_of(plain, named)


@st.composite
def messages(
    draw: st.DrawFn,
    *,
    min_turns: int = 1,
    max_turns: int = 4,
    tools: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """A conversation the API accepts: alternating turns from the user's, ending with the
    user's; with `tools`, some assistant turns call them and the next user turn answers
    every call with a `tool_result`."""
    turns = draw(st.integers(min_turns, max_turns))
    out: list[dict[str, Any]] = []
    counter = 0
    pending: list[str] = []
    for index in range(turns * 2 - 1):
        role = "user" if index % 2 == 0 else "assistant"
        if role == "user" and pending:
            content: Any = [
                {"type": "tool_result", "tool_use_id": tool_id, "content": draw(_text())}
                for tool_id in pending
            ]
            pending = []
        elif role == "assistant" and tools and draw(st.booleans()):
            calls = draw(st.lists(st.sampled_from(tools), min_size=1, max_size=2))
            content = []
            for tool in calls:
                counter += 1
                tool_id = f"toolu_01{counter:022d}"
                pending.append(tool_id)
                content.append(
                    {"type": "tool_use", "id": tool_id, "name": tool["name"], "input": {}}
                )
        elif role == "assistant" and draw(st.integers(0, 4)) == 0:
            counter += 1
            content = _server_tool_turn(f"srvtoolu_01{counter:022d}", draw(_text(4)))
        else:
            content = draw(
                st.one_of(
                    _text(),
                    st.lists(
                        content_blocks(
                            kinds=("text",)
                            if role == "assistant"
                            else ("text", "image", "document", "search_result")
                        ),
                        min_size=1,
                        max_size=2,
                    ),
                )
            )
        out.append({"role": role, "content": content})
    return out


def _server_tool_turn(tool_id: str, query: str) -> list[dict[str, Any]]:
    """An assistant turn that used web search: the call, its result and a cited answer."""
    url = "https://example.com/result"
    return [
        {"type": "server_tool_use", "id": tool_id, "name": "web_search", "input": {"query": query}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": tool_id,
            "content": [
                {"type": "web_search_result", "url": url, "title": query, "encrypted_content": "Eq"}
            ],
        },
        {
            "type": "text",
            "text": query,
            "citations": [
                {
                    "type": "web_search_result_location",
                    "url": url,
                    "title": query,
                    "encrypted_index": "Eo",
                    "cited_text": query,
                }
            ],
        },
    ]


def _models(profile: Profile) -> SearchStrategy[tuple[Model, str]]:
    """A model of the profile and the name a request uses for it (id or alias)."""
    return st.sampled_from(profile.models).flatmap(
        lambda m: st.sampled_from((m.id, *m.aliases)).map(lambda name: (m, name))
    )


@st.composite
def message_requests(
    draw: st.DrawFn,
    *,
    model: str | None = None,
    stream: bool | None = None,
    tools: bool | list[dict[str, Any] | str] | None = None,
    max_tokens: int | SearchStrategy[int] | None = None,
    profile: str = "bytespike",
) -> dict[str, Any]:
    """A `POST /v1/messages` body the profile accepts. Each keyword narrows the draw:
    `model=` a name, `stream=` True/False, `tools=` True (always some), False (never) or a
    list of tool names (as `replies(tools=...)` takes) or definitions, `max_tokens=` an int
    or a strategy."""
    prof = load_profile(profile)
    resolved, name = (prof.model(model), model) if model else draw(_models(prof))
    tool_list = _tools_for(draw, tools)
    if isinstance(max_tokens, int):
        budget = max_tokens
    else:
        budget = draw(max_tokens or st.integers(1, min(resolved.max_tokens, 4096)))
    body: dict[str, Any] = {
        "model": name,
        "max_tokens": budget,
        "messages": draw(messages(tools=tool_list or None)),
    }
    if draw(st.booleans()):
        body["system"] = draw(system_prompts(cache=True))
    if tool_list:
        _offer_tools(draw, body, tool_list, server=tools is None)
    body["stream"] = draw(st.booleans()) if stream is None else stream
    if not _think(draw, body, budget, resolved):
        _sample(draw, body, resolved)
    _add_options(draw, body, resolved)
    return body


def _offer_tools(
    draw: st.DrawFn, body: dict[str, Any], tool_list: list[dict[str, Any]], *, server: bool
) -> None:
    """The tools (and, unless the caller chose them, perhaps a server tool) and a choice."""
    body["tools"] = [draw(_custom_extras(t)) for t in tool_list]
    if server and draw(st.booleans()):
        body["tools"].append(draw(server_tools()))
    if draw(st.booleans()):
        body["tool_choice"] = draw(tool_choices(tool_list))


def _think(draw: st.DrawFn, body: dict[str, Any], budget: int, model: Model) -> bool:
    """Perhaps turn thinking on (adaptive, or a budget below `max_tokens`); whether it is."""
    thinking = (
        budget > 1024
        and draw(st.booleans())
        and (body.get("tool_choice", {}).get("type") not in ("any", "tool"))
    )
    if not thinking:
        return False
    if "thinking.adaptive" not in model.unsupported and draw(st.booleans()):
        body["thinking"] = {"type": "adaptive"}
    else:
        body["thinking"] = {"type": "enabled", "budget_tokens": draw(st.integers(1024, budget - 1))}
        _lead_tool_loop_with_thinking(body["messages"])
    if draw(st.booleans()):
        body["thinking"]["display"] = draw(st.sampled_from(["summarized", "omitted"]))
    return True


def _sample(draw: st.DrawFn, body: dict[str, Any], model: Model) -> None:
    """Sampling options, as the model allows them together (without thinking)."""
    sampling = draw(st.sampled_from(["none", "temperature", "top_p", "both"]))
    if sampling == "both" and "temperature_top_p_exclusive" in model.quirks:
        sampling = "temperature"
    if sampling in ("temperature", "both"):
        body["temperature"] = draw(st.floats(0, 1))
    if sampling in ("top_p", "both"):
        body["top_p"] = draw(st.floats(0, 1))
    if draw(st.booleans()):
        body["top_k"] = draw(st.integers(0, 500))


def _add_options(draw: st.DrawFn, body: dict[str, Any], model: Model) -> None:
    """Stop sequences, metadata, the output config (effort, a JSON format), service tier."""
    if draw(st.booleans()):
        body["stop_sequences"] = draw(st.lists(_text(2), max_size=3))
    if draw(st.booleans()):
        body["metadata"] = {"user_id": draw(st.text(string.ascii_letters, max_size=20))}
    output_config: dict[str, Any] = {}
    if bool(model.effort) and draw(st.booleans()):
        output_config["effort"] = draw(st.sampled_from(model.effort))
    if draw(st.integers(0, 3)) == 0:
        output_config["format"] = {"type": "json_schema", "schema": _ANSWER_SCHEMA}
    if output_config:
        body["output_config"] = output_config
    if draw(st.integers(0, 3)) == 0:
        body["service_tier"] = draw(st.sampled_from(["auto", "standard_only"]))


_ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


def _lead_tool_loop_with_thinking(turns: list[dict[str, Any]]) -> None:
    """With thinking on, the assistant turn a final tool result answers opens with its
    thinking, as the API requires."""
    if len(turns) < 2 or not isinstance(turns[-1]["content"], list):
        return
    if not any(b["type"] == "tool_result" for b in turns[-1]["content"]):
        return
    thought = {"type": "thinking", "thinking": "I should call the tool.", "signature": "EqQB"}
    turns[-2]["content"] = [thought, *turns[-2]["content"]]


def _tools_for(
    draw: st.DrawFn, tools: bool | list[dict[str, Any] | str] | None
) -> list[dict[str, Any]]:
    if isinstance(tools, (str, dict)):
        tools = [tools]
    if isinstance(tools, (list, tuple)):
        out = []
        for tool in tools:
            if isinstance(tool, str):  # a name: a drawn definition of that name
                tool = {**draw(_tool_lists(min_size=1, max_size=1))[0], "name": tool}
            elif not isinstance(tool, dict):
                raise TypeError(
                    f"message_requests(tools=...) takes tool names or definitions, not {tool!r}"
                )
            out.append(tool)
        return out
    if tools is None:
        tools = draw(st.booleans())
    return draw(_tool_lists()) if tools else []


@dataclass(frozen=True)
class Invalid:
    """A body that breaks exactly one rule, and what the gateway answers to it."""

    rule: str
    body: dict[str, Any]
    status: int
    error_type: str
    message: str


def _plain_requests(model: Model, name: str) -> SearchStrategy[dict[str, Any]]:
    """Valid bodies with nothing a rule's breaker could collide with: text turns only."""
    turns = st.integers(0, 2).flatmap(
        lambda n: st.tuples(
            *(
                [
                    _text().map(lambda t: {"role": "user", "content": t}),
                    _text().map(lambda t: {"role": "assistant", "content": t}),
                ]
                * n
            ),
            _text().map(lambda t: {"role": "user", "content": t}),
        ).map(list)
    )
    return st.fixed_dictionaries(
        {
            "model": st.just(name),
            "max_tokens": st.integers(1, min(model.max_tokens, 4096)),
            "messages": turns,
        },
        optional={"stream": st.booleans(), "system": _text()},
    )


def _answer(rule: ContractRule, body: dict[str, Any], profile: Profile) -> ApiError:
    """What this one rule says of `body`, asked on its own (schema, catalog or check)."""
    try:
        if rule.check is None:
            _check_schema(body, "messages")
            profile.model(body["model"])
        else:
            rule.check(body, profile.model(body["model"]), profile)
    except ApiError as error:
        return error
    raise AssertionError(f"rule {rule.name} was not broken by its own breaker: {body!r}")


@st.composite
def invalid_message_requests(
    draw: st.DrawFn, *, profile: str = "bytespike", rules: list[str] | None = None
) -> Invalid:
    """A body that breaks exactly one contract rule (one of `rules`, by name, if given),
    with the status, error type and message the gateway answers."""
    prof = load_profile(profile)
    chosen = [r for r in (*SCHEMA_CASES, *RULES) if rules is None or r.name in rules]
    pairs = [(rule, model) for rule in chosen for model in prof.models if rule.applies(model)]
    if not pairs:
        raise ValueError(f"none of the rules {rules} can be broken on the {profile} profile")
    rule, model = draw(st.sampled_from(pairs))
    name = draw(st.sampled_from((model.id, *model.aliases)))
    body = rule.breaks(draw(_plain_requests(model, name)), model)
    error = _answer(rule, body, prof)
    return Invalid(rule.name, body, error.status, error.type, error.message)


_URLS = st.sampled_from(
    ["https://example.com/a", "https://news.example.org/paris", "https://docs.example.net/x?q=1"]
)
_ERROR_CODES = st.sampled_from(["unavailable", "too_many_requests", "invalid_tool_input"])


@st.composite
def citations(draw: st.DrawFn) -> dict[str, Any]:
    """A citation of any kind the API sends on text (document, page, block, web search,
    search result)."""
    quote = draw(_text(6))
    start = draw(st.integers(0, 50))
    kind = draw(
        st.sampled_from(
            [
                "char_location",
                "page_location",
                "content_block_location",
                "web_search_result_location",
                "search_result_location",
            ]
        )
    )
    if kind == "web_search_result_location":
        result = blocks_kit.web_search_result(draw(_URLS), draw(_text(4)))
        return blocks_kit.web_search_citation(result, quote)
    unit = {"char_location": "char", "page_location": "page"}.get(kind, "block")
    ends = {
        "char": ("start_char_index", "end_char_index"),
        "page": ("start_page_number", "end_page_number"),
        "block": ("start_block_index", "end_block_index"),
    }[unit]
    citation: dict[str, Any] = {"type": kind, "cited_text": quote}
    if kind == "search_result_location":
        citation.update(source=draw(_URLS), title=draw(_text(3)), search_result_index=0)
    else:
        citation.update(document_index=0, document_title=draw(st.none() | _text(3)))
    citation.update({ends[0]: start, ends[1]: start + draw(st.integers(1, 40))})
    return citation


@st.composite
def server_tool_turns(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One server-side tool turn as the API sends it: the call, then its result (or its
    error): web search, web fetch, code execution (Python, shell, file edits), tool search,
    an MCP tool, or a file put into the container."""
    kind = draw(
        st.sampled_from(
            ["web_search", "web_fetch", "code", "bash", "edit", "tool_search", "mcp", "upload"]
        )
    )
    error = draw(st.none() | _ERROR_CODES) if kind not in ("mcp", "upload") else None
    if kind == "web_search":
        results = draw(st.lists(_URLS, max_size=3))
        return blocks_kit.web_search_turn(draw(_text(4)), list(results), error_code=error)
    if kind == "web_fetch":
        use = blocks_kit.server_tool_use("web_fetch", {"url": draw(_URLS)})
        result = blocks_kit.web_fetch_tool_result(
            use["id"], use["input"]["url"], draw(_text()), title=draw(_text(3)), error_code=error
        )
        return [use, result]
    if kind == "code":
        use = blocks_kit.server_tool_use("code_execution", {"code": "print(6 * 7)"})
        out = blocks_kit.code_execution_tool_result(use["id"], "42\n", error_code=error)
        return [use, out]
    if kind == "bash":
        return blocks_kit.code_execution_turn(
            "ls", draw(_text()), "", draw(st.integers(0, 2)), error_code=error
        )
    if kind == "edit":
        use = blocks_kit.server_tool_use(
            "text_editor_code_execution", {"command": "view", "path": "/tmp/a.txt"}
        )
        content = draw(
            st.sampled_from(
                [
                    blocks_kit.view_result("one\ntwo"),
                    blocks_kit.create_result(),
                    blocks_kit.str_replace_result(1, 1, ["new"]),
                ]
            )
        )
        return [
            use,
            blocks_kit.text_editor_code_execution_tool_result(use["id"], content, error_code=error),
        ]
    if kind == "tool_search":
        use = blocks_kit.server_tool_use("tool_search_tool_regex", {"pattern": "weather"})
        names = draw(st.lists(_TOOL_NAME, max_size=2))
        return [use, blocks_kit.tool_search_tool_result(use["id"], names, error_code=error)]
    if kind == "mcp":
        use = blocks_kit.mcp_tool_use("lookup", {"q": draw(_text(2))}, "crm")
        answer = draw(_text() | st.just([{"type": "text", "text": "found"}]))
        return [use, blocks_kit.mcp_tool_result(use["id"], answer, draw(st.booleans()))]
    return [blocks_kit.container_upload("file_011CNha8iCJcU1wXNR6q4V8w")]


def _compaction(draw: st.DrawFn) -> dict[str, Any]:
    return {"type": "compaction", "content": draw(_text()), "signature": draw(_text(2))}


def _fallback(draw: st.DrawFn) -> dict[str, Any]:
    category = draw(st.none() | st.sampled_from(REFUSAL_CATEGORIES))
    return {
        "type": "fallback",
        "from": {"model": "claude-opus-5-5"},
        "to": {"model": draw(st.sampled_from(["claude-opus-4-8", "claude-sonnet-5-5"]))},
        "trigger": {"type": "refusal", "category": category},
    }


def _tool_listing(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(_TOOL_NAME)
    return {
        "type": "mcp_tool_listing",
        "mcp_server_name": "crm",
        "tools": [{"name": name, "description": None, "input_schema": {"type": "object"}}],
    }


#: Blocks that open a reply of the 2026 beta surface (anthropic 2.17's `BetaCompactionBlock`,
#: `BetaFallbackBlock`, `BetaMCPToolListingBlock`).
_LEAD_BLOCKS = {"compaction": _compaction, "fallback": _fallback, "mcp_tool_listing": _tool_listing}


@st.composite
def advisor_turns(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The advisor tool's turn (anthropic 2.17's `BetaAdvisorToolResultBlock`): its call, then
    its advice, the advice redacted, or its error."""
    use = blocks_kit.server_tool_use("advisor", {})
    result = draw(
        st.sampled_from(
            [
                {"type": "advisor_result", "text": "Check the edge cases first."},
                {"type": "advisor_redacted_result", "encrypted_content": "EqQBCkYIBxgC"},
                {"type": "advisor_tool_result_error", "error_code": "overloaded"},
            ]
        )
    )
    return [use, {"type": "advisor_tool_result", "tool_use_id": use["id"], "content": result}]


@st.composite
def reply_blocks(draw: st.DrawFn, *, server_tools: bool = True) -> list[dict[str, Any]]:
    """Blocks of any kind a reply carries: thinking (or redacted), a server-tool turn, text
    with or without citations (`server_tools=False`: neither turn nor citations)."""
    out: list[dict[str, Any]] = []
    lead = draw(st.sampled_from(["none", "compaction", "fallback", "mcp_tool_listing"]))
    if lead != "none":
        out.append(_LEAD_BLOCKS[lead](draw))
    thinking = draw(st.sampled_from(["none", "thinking", "redacted"]))
    if thinking == "thinking":
        signature = draw(st.text(string.ascii_letters, min_size=8, max_size=32))
        out.append({"type": "thinking", "thinking": draw(_text()), "signature": signature})
    elif thinking == "redacted":
        out.append({"type": "redacted_thinking", "data": base64.b64encode(b"opaque").decode()})
    if server_tools and draw(st.booleans()):
        out.extend(draw(server_tool_turns()))
    if server_tools and draw(st.booleans()):
        out.extend(draw(advisor_turns()))
    text: dict[str, Any] = {"type": "text", "text": draw(_text(30))}
    if server_tools and draw(st.booleans()):
        text["citations"] = draw(st.lists(citations(), min_size=1, max_size=2))
    out.append(text)
    return out


#: Every `stop_reason` the API sends.
_STOP_REASONS = STOP_REASONS


@st.composite
def replies(draw: st.DrawFn, *, tools: list[str] | str | None = None) -> Reply:
    """A reply the API could send: every block kind (text with citations, `tool_use` of
    `tools` by name, thinking, server-tool turns, MCP, container uploads), every stop reason
    (a refusal with its `stop_details`), usage with and without cache fields. A `tool_use`
    turn, which a client sends back with its results, carries thinking, text and its tool
    calls; server-tool turns and citations come with the other stop reasons. Without
    `tools`, no `tool_use` turn is drawn: the API calls only tools a request offers, and the
    fake refuses a `tool_use` reply to a request that offered none."""
    if isinstance(tools, str):
        tools = [tools]
    reasons = _STOP_REASONS if tools else [r for r in _STOP_REASONS if r != "tool_use"]
    stop_reason = draw(st.sampled_from(reasons))
    blocks = draw(reply_blocks(server_tools=stop_reason != "tool_use"))
    if stop_reason == "tool_use":
        names = list(tools or ())
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2)):
            blocks.append(
                {
                    "type": "tool_use",
                    "name": name,
                    "input": draw(
                        st.dictionaries(
                            st.sampled_from(["city", "n"]), st.integers() | _text(3), max_size=2
                        )
                    ),
                }
            )
    usage: dict[str, Any] = {"output_tokens": draw(st.integers(1, 4096))}
    if draw(st.booleans()):
        usage.update(
            cache_read_input_tokens=draw(st.integers(0, 10_000)),
            cache_creation_input_tokens=draw(st.integers(0, 10_000)),
        )
    stop_sequence = draw(_text(2)) if stop_reason == "stop_sequence" else None
    details = None
    if stop_reason == "refusal":
        details = {
            "category": draw(st.none() | st.sampled_from(REFUSAL_CATEGORIES)),
            "explanation": draw(st.none() | _text(8)),
        }
    # A fallback block names the model that served the turn, which the reply's `model` then
    # is (the SDK's stream accumulator relabels the message with it; anthropic 2.17).
    served = [b["to"]["model"] for b in blocks if b["type"] == "fallback"]
    return make_reply(
        content=blocks,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        stop_details=details,
        usage=usage,
        model=served[-1] if served else None,
    )


@st.composite
def output_schemas(draw: st.DrawFn, *, depth: int = 2) -> dict[str, Any]:
    """A structured-output JSON Schema of the subset the API supports: objects with every
    property required and no others, arrays, enums, `const`, `anyOf`, `$defs`/`$ref`,
    `pattern`, `format` and bounds. The fake answers each with a JSON document valid against
    it (`output_config={"format": {"type": "json_schema", "schema": drawn}}`)."""
    defs: dict[str, Any] = {}
    schema = draw(_schema_object(defs, depth))
    if defs:
        schema["$defs"] = defs
    return schema


def _scalar_schemas() -> SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.just({"type": "string"}),
        st.sampled_from(["date-time", "date", "email", "uri", "uuid"]).map(
            lambda f: {"type": "string", "format": f}
        ),
        st.just({"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"}),
        st.integers(-100, 100).map(
            lambda low: {"type": "integer", "minimum": low, "maximum": low + 50}
        ),
        st.just({"type": "number"}),
        st.just({"type": "boolean"}),
        st.lists(_WORDS, min_size=1, max_size=4, unique=True).map(lambda e: {"enum": e}),
        _WORDS.map(lambda c: {"const": c}),
        st.just({"anyOf": [{"type": "string"}, {"type": "null"}]}),
    )


@st.composite
def _schema_object(draw: st.DrawFn, defs: dict[str, Any], depth: int) -> dict[str, Any]:
    names = draw(
        st.lists(st.from_regex(r"\A[a-z][a-z_]{0,10}\Z"), min_size=1, max_size=5, unique=True)
    )
    properties: dict[str, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(["scalar", "array", "object", "ref"] if depth else ["scalar"]))
        if kind == "scalar":
            properties[name] = draw(_scalar_schemas())
        elif kind == "array":
            low = draw(st.integers(0, 2))
            properties[name] = {
                "type": "array",
                "items": draw(_scalar_schemas()),
                "minItems": low,
                "maxItems": low + draw(st.integers(0, 3)),
            }
        elif kind == "object":
            properties[name] = draw(_schema_object(defs, depth - 1))
        else:
            key = f"Def{len(defs)}"
            defs[key] = draw(_schema_object(defs, depth - 1))
            properties[name] = {"$ref": f"#/$defs/{key}"}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@st.composite
def stream_events(
    draw: st.DrawFn, *, pings: bool = True, error: bool | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """A valid Messages event sequence (`(event, data)` pairs), with extra `ping` events
    anywhere after `message_start`, and possibly cut by a mid-stream `error` event."""
    reply = draw(replies())
    rendered = Rendered(
        id="msg_01" + "A" * 22,
        model="claude-haiku-4-5",
        reply=reply,
        input_tokens=draw(st.integers(1, 5000)),
        full_usage=draw(st.booleans()),
    )
    events = list(sse.events(rendered))
    if pings:
        for _ in range(draw(st.integers(0, 3))):
            events.insert(draw(st.integers(1, len(events) - 1)), ("ping", {"type": "ping"}))
    if error if error is not None else draw(st.booleans()):
        failure = draw(st.sampled_from([529, 500, 429]))
        cut = draw(st.integers(1, len(events) - 1))
        envelope = {
            "type": "error",
            "error": {"type": ERROR_TYPES[failure], "message": draw(_text(6))},
        }
        events = [*events[:cut], ("error", envelope)]
    return events


def error_replies(*, profile: str = "bytespike") -> SearchStrategy[Failure]:
    """Every error status the profile sends, with its type, default or drawn message, and
    (for 429) a short `retry_after`."""
    statuses = sorted(load_profile(profile).statuses)
    return st.builds(
        lambda status, message, retry: Failure(
            status, message=message, retry_after=retry if status == 429 else None
        ),
        st.sampled_from(statuses),
        st.none() | _text(8),
        st.floats(0.001, 0.05),
    )


def faults(*, max_stall: float = 0.05) -> SearchStrategy[Fault]:
    """Transport faults, every kind of `KINDS` with the fields it takes: drop, malformed, a
    short stall, a stream cut silently or with a mid-stream error."""
    fields: dict[str, SearchStrategy[Any]] = {
        "seconds": st.floats(0, max_stall),
        "after": st.integers(0, 12),
        "error": st.none() | st.sampled_from([Failure(529), Failure(500)]),
    }

    def of(name: str, kind: Kind) -> SearchStrategy[Fault]:
        taken = st.fixed_dictionaries({field: fields[field] for field in kind.takes})
        return taken.map(lambda given: Fault(name, **given))

    return st.one_of([of(name, kind) for name, kind in KINDS.items()])


def sdk_arguments(body: dict[str, Any], create: Callable[..., Any]) -> dict[str, Any]:
    """A drawn body as keyword arguments for the installed SDK's `create` method: fields its
    signature does not name (sampling options such as `temperature`, which anthropic 2.x no
    longer takes as arguments) go in `extra_body`, where every SDK generation sends them.

    `client.messages.create(**ms.sdk_arguments(body, client.messages.create))`"""
    accepted = inspect.signature(create).parameters
    arguments = {k: v for k, v in body.items() if k in accepted}
    extra = {k: v for k, v in body.items() if k not in accepted}
    if extra:
        arguments["extra_body"] = extra
    return arguments


# -- the OpenAI dialect (`POST /v1/chat/completions`) ---------------------------------------

#: Fields the compatibility layer accepts and ignores, with values the OpenAI SDK sends.
_IGNORED_CHAT_FIELDS: dict[str, SearchStrategy[Any]] = {
    "logprobs": st.booleans(),
    "seed": st.integers(0, 2**31),
    "user": st.text(string.ascii_letters, min_size=1, max_size=12),
    "metadata": st.just({"team": "support"}),
    "presence_penalty": st.floats(-2, 2),
    "frequency_penalty": st.floats(-2, 2),
    "response_format": st.just({"type": "json_object"}),
    "reasoning_effort": st.sampled_from(["low", "medium", "high"]),
    "store": st.booleans(),
}
#: A small valid PNG (1x1), for image parts as data URLs.
_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)


def _chat_user_content() -> SearchStrategy[str | list[dict[str, Any]]]:
    """A user turn's content: text, or parts (text, an image as a data URL or a URL)."""
    text_part = _text().map(lambda t: {"type": "text", "text": t})
    image_part = st.sampled_from(
        [f"data:image/png;base64,{_PNG}", "https://example.com/ticket.png"]
    ).flatmap(
        lambda url: st.fixed_dictionaries(
            {"url": st.just(url)}, optional={"detail": st.sampled_from(["low", "high", "auto"])}
        ).map(lambda image: {"type": "image_url", "image_url": image})
    )
    parts = st.tuples(text_part, st.lists(text_part | image_part, max_size=2)).map(
        lambda drawn: [drawn[0], *drawn[1]]
    )
    return _text() | parts


@st.composite
def openai_chat_requests(
    draw: st.DrawFn,
    *,
    model: str | None = None,
    stream: bool | None = None,
    tools: bool | None = None,
    profile: str = "bytespike",
) -> dict[str, Any]:
    """A `POST /v1/chat/completions` body (Claude through the OpenAI SDK) that the layer
    accepts and the profile answers: system and developer messages anywhere, text and image
    parts, a tool-call round with its results, tools with `strict`, `tool_choice`,
    `max_tokens` or `max_completion_tokens`, sampling, `stop`, `stream_options`, and some of
    the fields the layer ignores. `model=`, `stream=` and `tools=` narrow the draw as they
    do for `message_requests()`."""
    prof = load_profile(profile)
    resolved, name = (prof.model(model), model) if model else draw(_models(prof))
    use_tools = draw(st.booleans()) if tools is None else tools
    functions = draw(_tool_lists()) if use_tools else []
    chat: list[dict[str, Any]] = []

    def instructions() -> None:
        if draw(st.integers(0, 3)) == 0:
            role = draw(st.sampled_from(["system", "developer"]))
            chat.append({"role": role, "content": draw(_text())})

    instructions()
    chat.append({"role": "user", "content": draw(_chat_user_content())})
    answered: bool = draw(st.booleans())
    if functions and answered:  # one tool-call round, answered
        called = draw(st.lists(st.sampled_from(functions), min_size=1, max_size=2))
        calls = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": tool["name"], "arguments": '{"city": "Paris"}'},
            }
            for i, tool in enumerate(called)
        ]
        chat.append(
            {"role": "assistant", "content": draw(st.none() | _text()), "tool_calls": calls}
        )
        chat += [
            {"role": "tool", "tool_call_id": call["id"], "content": draw(_text())} for call in calls
        ]
        instructions()
        chat.append({"role": "user", "content": draw(_text())})
    body: dict[str, Any] = {"model": name, "messages": chat}
    if functions:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    **({"description": tool["description"]} if "description" in tool else {}),
                    "parameters": tool["input_schema"],
                    **({"strict": draw(st.booleans())} if draw(st.booleans()) else {}),
                },
            }
            for tool in functions
        ]
        choice = draw(st.sampled_from(["absent", "auto", "none", "required", "named"]))
        if choice == "named":
            body["tool_choice"] = {
                "type": "function",
                "function": {"name": draw(st.sampled_from(functions))["name"]},
            }
        elif choice != "absent":
            body["tool_choice"] = choice
        if draw(st.booleans()):
            body["parallel_tool_calls"] = draw(st.booleans())
    cap = min(resolved.max_tokens, 4096)
    budget = draw(st.sampled_from(["absent", "max_tokens", "max_completion_tokens"]))
    if budget != "absent":
        body[budget] = draw(st.integers(1, cap))
    sampling = draw(st.sampled_from(["none", "temperature", "top_p"]))
    if sampling == "temperature":
        body["temperature"] = draw(st.floats(0, 2))  # above 1 is capped at 1
    elif sampling == "top_p":
        body["top_p"] = draw(st.floats(0, 1))
    if draw(st.booleans()):
        body["stop"] = draw(_text(2) | st.lists(_text(2), min_size=1, max_size=4))
    body["stream"] = draw(st.booleans()) if stream is None else stream
    if body["stream"] and draw(st.booleans()):
        body["stream_options"] = {"include_usage": draw(st.booleans())}
    for field in draw(
        st.lists(st.sampled_from(sorted(_IGNORED_CHAT_FIELDS)), unique=True, max_size=3)
    ):
        body[field] = draw(_IGNORED_CHAT_FIELDS[field])
    return body
