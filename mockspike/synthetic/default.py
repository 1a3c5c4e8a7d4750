"""The synthetic default: a plausible, deterministic reply when nothing else answers.

Seeded by the request (its canonical JSON, without `stream`), so the same request always gets
the same reply, streamed or not. It honours `max_tokens` (stops with `max_tokens`),
`stop_sequences` (stops at the first one), extended thinking (a `thinking` block first),
forced tools (a `tool_use` whose input is valid against the tool's `input_schema`, or a
server-tool turn for Anthropic's own tools) and structured outputs (with
`output_config.format` or the beta `output_format` of type `json_schema`, the text is one
JSON document valid against the schema).

A schema no value can be drawn for (unsatisfiable, unsupported, or needing unbounded work) is
answered with a 400 `invalid_request_error` whose message names the schema path, e.g.
`output_config.format.schema.properties.items.minItems: ...`.

`agent_reply` is the agent mode: offered tools are called, tool results answered in text.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

import orjson

from mockspike import _json
from mockspike._ids import from_bytes
from mockspike.model.blocks import server_tool_requests, uses_a_container
from mockspike.model.errors import ApiError
from mockspike.model.outcomes import Reply
from mockspike.model.tokens import text_tokens
from mockspike.synthetic import citing, server_tools
from mockspike.synthetic.structured import SchemaError, generate

_PROSE = (
    "the request looks clear and the answer is short . this reply comes from mockspike , a "
    "deterministic fake of the messages endpoint . it reads your prompt , counts tokens , and "
    "writes plausible text so your client code can parse , stream and route it . nothing here "
    "costs credits or leaves this machine . routine classification , extraction and routing "
    "tasks usually get a brief answer like this one ."
)
_WORDS = tuple(_PROSE.split(" "))
#: Each word as it reads after its predecessor (capitalised after a full stop), and the
#: room it takes with its space: the prose is read off these, not built word by word.
_CASED = tuple(w.capitalize() if _WORDS[k - 1] == "." else w for k, w in enumerate(_WORDS))
_ROOM = tuple(len(w) + 1 for w in _WORDS)
_MAX_DEPTH = 8
Body = dict[str, Any]


def request_seed(body: Body) -> bytes:
    """A stable digest of the request, ignoring `stream` so both forms answer alike."""
    canonical = {k: v for k, v in body.items() if k != "stream"}
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).digest()


def synthetic_reply(body: Body, seed: bytes | None = None) -> Reply:
    """The reply for `body` (`seed`: its `request_seed`, if already computed)."""
    rng = random.Random(seed or request_seed(body))
    content, used = _thinking(body, rng)
    choice = body.get("tool_choice") or {}
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    if choice.get("type") in ("any", "tool") and tools:
        named = [t for t in tools if t.get("name") == choice.get("name")]
        tool = named[0] if named else rng.choice(tools)
        return _call(body, tools.index(tool), rng, content, used)
    schema = _output_schema(body)
    if schema is not None:
        where, value = schema
        text = _json.dumps(_draw(value, rng, where)).decode()
        return _text_reply(body, content, used, text)
    return _prose_reply(body, rng, content, used)


def agent_reply(body: Body, seed: bytes | None = None) -> Reply:
    """The agent mode: when tools are offered and none is forced, the first turn calls one of
    them (with schema-valid input) and once a tool result comes back the reply is text, so an
    agent loop runs end to end with no script. Otherwise as `synthetic_reply`."""
    choice = body.get("tool_choice") or {}
    tools = [
        t
        for t in body.get("tools") or []
        if isinstance(t, dict) and server_tools.tool_kind(t) is None and "input_schema" in t
    ]
    if not tools or choice.get("type") not in (None, "auto") or _answers_a_tool(body):
        return synthetic_reply(body, seed)
    rng = random.Random(seed or request_seed(body))
    content, used = _thinking(body, rng)
    tool = rng.choice(tools)
    return _call(body, body["tools"].index(tool), rng, content, used)


#: The synthetic modes by name (`MockSpike(synthetic=...)`).
MODES: dict[str, Callable[[Body, bytes | None], Reply]] = {
    "default": synthetic_reply,
    "agent": agent_reply,
}


def example_for(schema: Any, rng: random.Random) -> Any:
    """A value valid against `schema` (see `structured.generate`)."""
    return generate(schema, rng)


def _thinking(body: Body, rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    thinking = body.get("thinking") or {}
    if thinking.get("type") != "enabled":
        return [], 0
    thought = _prose(rng, min(rng.randint(20, 60), thinking["budget_tokens"]))
    block = {"type": "thinking", "thinking": thought, "signature": _signature(rng)}
    return [block], text_tokens(thought)


def _call(
    body: Body, index: int, rng: random.Random, content: list[dict[str, Any]], used: int
) -> Reply:
    """Call `tools[index]`: a `tool_use` for a custom tool, a whole turn for Anthropic's own."""
    tool = body["tools"][index]
    budget = int(body["max_tokens"])
    if server_tools.tool_kind(tool) is not None:
        turn = server_tools.server_turn(tool, body, rng)
        if turn is None:
            raise ApiError(
                400,
                f"tools.{index}: mockspike has no synthetic turn for tool type {tool['type']!r}",
            )
        blocks = [*content, *turn.content]
        tokens = used + _blocks_tokens(turn.content)
        ran = any(b["type"] == "server_tool_use" for b in turn.content)
        usage = {"server_tool_use": server_tool_requests(turn.content)} if ran else {}
        stop = "max_tokens" if tokens > budget else turn.stop_reason
        container = (
            {"id": "container_011C" + from_bytes(rng.randbytes(20), 20)}
            if uses_a_container(blocks)
            else None
        )
        return Reply(
            content=blocks,
            stop_reason=stop,
            output_tokens=min(tokens, budget),
            usage=usage,
            container=container,
        )
    tool_input = _draw(tool.get("input_schema", {}), rng, f"tools.{index}.input_schema")
    content.append(
        {"type": "tool_use", "id": _tool_id(rng), "name": tool["name"], "input": tool_input}
    )
    used += text_tokens(tool["name"]) + text_tokens(_json.dumps(tool_input).decode())
    stop = "max_tokens" if used > budget else "tool_use"
    return Reply(content=content, stop_reason=stop, output_tokens=min(used, budget))


def _draw(schema: Any, rng: random.Random, where: str) -> Any:
    try:
        return generate(schema, rng)
    except SchemaError as error:
        raise ApiError(400, error.where(where)) from None


def _output_schema(body: Body) -> tuple[str, Any] | None:
    """Where the structured-output schema sits in the request, and the schema, if any."""
    for where, fmt in (
        ("output_config.format", (body.get("output_config") or {}).get("format")),
        ("output_format", body.get("output_format")),
    ):
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and "schema" in fmt:
            return f"{where}.schema", fmt["schema"]
    return None


def _answers_a_tool(body: Body) -> bool:
    """True when the last user turn carries a `tool_result`."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, dict) and last.get("role") == "user" else None
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


def _text_reply(body: Body, content: list[dict[str, Any]], used: int, text: str) -> Reply:
    """`text` as the answer, cut by a stop sequence or the `max_tokens` budget."""
    budget = int(body["max_tokens"])
    stop_reason, stop_sequence = "end_turn", None
    hits = [(text.find(s), s) for s in body.get("stop_sequences") or [] if s and s in text]
    if hits:
        at, stop_sequence = min(hits)
        text, stop_reason = text[:at], "stop_sequence"
    room = max(budget - used, 0)
    if text_tokens(text) > room:
        text, stop_reason, stop_sequence = text[: room * 4], "max_tokens", None
    if text:
        content.append({"type": "text", "text": text})
    tokens = used + text_tokens(text)
    return Reply(
        content=content,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=budget if stop_reason == "max_tokens" else tokens,
    )


def _prose_reply(body: Body, rng: random.Random, content: list[dict[str, Any]], used: int) -> Reply:
    budget = int(body["max_tokens"])
    room = budget - used
    target = rng.randint(12, 48)
    stops = body.get("stop_sequences") or []
    stop_reason, stop_sequence = "end_turn", None
    if room < target:
        target, stop_reason = max(room, 0), "max_tokens"
    elif stops:
        target, stop_reason, stop_sequence = max(1, target // 2), "stop_sequence", stops[0]
    text = _prose(rng, target, exact=stop_reason == "max_tokens")
    if text:
        cite = citing.citation(body)  # a source with citations enabled is cited
        content.append(
            {"type": "text", "text": text, "citations": [cite]}
            if cite is not None
            else {"type": "text", "text": text}
        )
    return Reply(
        content=content,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=used + text_tokens(text),
    )


def _blocks_tokens(blocks: list[dict[str, Any]]) -> int:
    """What the model wrote: text and tool calls (results come from the tool, not the model)."""
    tokens = 0
    for block in blocks:
        if block["type"] == "text":
            tokens += text_tokens(block["text"])
        elif block["type"] in ("server_tool_use", "tool_use"):
            tokens += text_tokens(block["name"]) + text_tokens(_json.dumps(block["input"]).decode())
    return tokens


def _prose(rng: random.Random, tokens: int, exact: bool = False) -> str:
    """Sentences of about `tokens` estimated tokens (four characters each). `exact` cuts
    at exactly that many, mid-word, as a `max_tokens` stop does; otherwise the text ends
    on a whole sentence."""
    if tokens <= 0:
        return ""
    limit = tokens * 4
    n = len(_WORDS)
    start = rng.randrange(n)
    while _WORDS[start] in (",", "."):  # a reply never starts with punctuation
        start = (start + 1) % n
    count, size = 0, 0
    while size < limit:
        size += _ROOM[(start + count) % n]
        count += 1
    words = [_CASED[(start + k) % n] for k in range(count)]
    words[0] = _WORDS[start].capitalize()
    text = " ".join(words).replace(" .", ".").replace(" ,", ",")
    if exact:
        return text[:limit].rstrip()
    cut = text[:limit].rsplit(" ", 1)[0] if len(text) > limit else text
    return cut.rstrip(",.") + "."


def _tool_id(rng: random.Random) -> str:
    return "toolu_01" + from_bytes(rng.randbytes(22), 22)


def _signature(rng: random.Random) -> str:
    return "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        for _ in range(96)
    )
