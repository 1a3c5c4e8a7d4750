"""The OpenAI dialect: Anthropic's OpenAI SDK compatibility layer, translated at the edge.

A chat-completions request becomes a Messages request (`translate`), which the Messages
pipeline checks and answers; the message it renders goes back as a `chat.completion`
(`completion`) or as `chat.completion.chunk` events ending in `data: [DONE]` (`chunks`).
Errors keep the status and take OpenAI's envelope (`error_body`). What the layer honours,
ignores and passes through is data (`contract/openai_chat.json`); docs/contract.md cites
the documentation for each choice.

The translation is pure: plain values in, plain values out, no engine.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mockspike import _json
from mockspike.contract.catalog import Profile
from mockspike.contract.validate import _TYPE_NAMES
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireRequest
from mockspike.render import sse
from mockspike.render.message import Rendered

DIALECT = "openai"
"""The name of this dialect in the journal (`Entry.dialect`), the dashboard and the docs."""
ANTHROPIC = "anthropic"
"""The native dialect."""
DONE = b"data: [DONE]\n\n"


@functools.cache
def table() -> dict[str, Any]:
    """`contract/openai_chat.json`: what the layer does with each field."""
    text = resources.files("mockspike.contract").joinpath("openai_chat.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@functools.cache
def request_schema() -> dict[str, Any]:
    """The shape of a chat-completions request (`contract/schemas/openai_chat.json`)."""
    path = resources.files("mockspike.contract").joinpath("schemas/openai_chat.json")
    schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(request_schema())


# -- the request -------------------------------------------------------------------------


@dataclass
class Translation:
    """A chat-completions request as the Messages request the layer makes of it."""

    body: dict[str, Any]
    """The Messages body the pipeline checks and answers."""
    ignored: list[str] = field(default_factory=list)
    """Dotted paths of the fields the layer accepted and ignored (the journal shows them)."""
    include_usage: bool = False
    """`stream_options.include_usage`: a last chunk with the usage and no choices."""


def translate(body: dict[str, Any], profile: Profile) -> Translation:
    """The Messages request of a chat-completions `body`: system and developer messages
    hoisted into `system`, tool calls and results as `tool_use` / `tool_result` blocks,
    the documented fields mapped, ignored fields noted. A shape the layer cannot read, or
    `n` other than 1, is a 400; what the fields say is left to the Messages contract."""
    body = {k: v for k, v in body.items() if v is not None}
    _check_shape(body)
    data = table()
    out = Translation({"model": body["model"]})
    honoured = set(data["honoured"]) | set(data["passed_through"]["fields"])
    out.ignored += [name for name in body if name not in honoured]
    if body.get("n", 1) != 1:
        raise ApiError(400, f"n: must be exactly 1 (got {body['n']}); Claude returns one choice")
    system, messages = _messages(body["messages"], out.ignored)
    if system is not None:
        out.body["system"] = system
    out.body["messages"] = messages
    out.body["max_tokens"] = _max_tokens(body, profile)
    if "temperature" in body:
        out.body["temperature"] = min(body["temperature"], data["max_temperature"])
    if "top_p" in body:
        out.body["top_p"] = body["top_p"]
    if "stop" in body:
        _stop(body["stop"], out)
    _tools(body, out)
    if body.get("stream"):
        out.body["stream"] = True
        out.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    elif "stream_options" in body:
        out.ignored.append("stream_options")
    for name in data["passed_through"]["fields"]:
        if name in body:
            out.body[name] = body[name]
    return out


def _check_shape(body: dict[str, Any]) -> None:
    """The request's shape, its first error said as the Messages contract says its own
    (`messages.0.content: Field required`, `n: Input should be a valid integer`)."""
    error = best_match(_validator().iter_errors(body))
    if error is None:
        return
    path = [str(p) for p in error.absolute_path]
    message = error.message
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        path.append(missing[0])
        message = "Field required"
    elif error.validator == "type" and isinstance(error.validator_value, str):
        message = f"Input should be {_TYPE_NAMES.get(error.validator_value, error.validator_value)}"
    where = ".".join(path)
    raise ApiError(400, f"{where}: {message}" if where else message)


def _max_tokens(body: dict[str, Any], profile: Profile) -> Any:
    """`max_completion_tokens`, else `max_tokens`, else the model's own cap (the page does
    not say; a chat-completions request may leave both out)."""
    for name in ("max_completion_tokens", "max_tokens"):
        if name in body:
            return body[name]
    return profile.model(body["model"]).max_tokens


def _stop(stop: str | list[str], out: Translation) -> None:
    """Every non-whitespace stop sequence works; whitespace-only ones are ignored."""
    sequences = [stop] if isinstance(stop, str) else stop
    kept = [s for s in sequences if s.strip()]
    out.ignored += [
        "stop" if isinstance(stop, str) else f"stop.{i}"
        for i, s in enumerate(sequences)
        if not s.strip()
    ]
    if kept:
        out.body["stop_sequences"] = kept


def _messages(
    messages: list[dict[str, Any]], ignored: list[str]
) -> tuple[str | None, list[dict[str, Any]]]:
    """The hoisted system prompt (every system and developer message, joined by a newline)
    and the conversation, consecutive turns of one role merged."""
    rules = table()["ignored_in_messages"]
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        role = message["role"]
        ignored += [f"{where}.{name}" for name in rules["message"] if name in message]
        if role in ("system", "developer"):
            system.append(_text(message["content"], f"{where}.content", ignored))
            continue
        if role == "user":
            content = _user_content(message["content"], f"{where}.content", ignored)
            turn = {"role": "user", "content": content}
        elif role == "assistant":
            ignored += [f"{where}.{name}" for name in rules["assistant"] if name in message]
            turn = {"role": "assistant", "content": _assistant_content(message, where, ignored)}
        else:  # tool
            result = {
                "type": "tool_result",
                "tool_use_id": message["tool_call_id"],
                "content": _tool_result(message["content"], f"{where}.content", ignored),
            }
            turn = {"role": "user", "content": [result]}
        _append(turns, turn)
    return ("\n".join(system) if system else None), turns


def _append(turns: list[dict[str, Any]], turn: dict[str, Any]) -> None:
    """Add a turn, merged into the last one when it has the same role."""
    if turns and turns[-1]["role"] == turn["role"]:
        last = turns[-1]
        last["content"] = _blocks(last["content"]) + _blocks(turn["content"])
    else:
        turns.append(turn)


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _text(content: str | list[dict[str, Any]], where: str, ignored: list[str]) -> str:
    """Text of a string or of its text parts (other parts ignored)."""
    if isinstance(content, str):
        return content
    texts = []
    for i, part in enumerate(content):
        if part["type"] == "text":
            texts.append(part["text"])
        else:
            ignored.append(f"{where}.{i}")
    return "".join(texts)


def _user_content(
    content: str | list[dict[str, Any]], where: str, ignored: list[str]
) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    rules = table()["ignored_in_messages"]
    blocks: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        kind = part["type"]
        if kind == "text":
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = part["image_url"]
            ignored += [f"{where}.{i}.image_url.{k}" for k in rules["image_url"] if k in image]
            blocks.append(_image(image["url"], f"{where}.{i}.image_url.url"))
        else:  # input_audio, file: stripped; refusal: not a user part
            ignored.append(f"{where}.{i}")
    return blocks


def _image(url: str, where: str) -> dict[str, Any]:
    """An image part as an image block: a `data:` URL as base64, any other as a URL."""
    if url.startswith("data:"):
        head, _, data = url[5:].partition(",")
        media_type, _, encoding = head.partition(";")
        if encoding != "base64" or not data:
            raise ApiError(
                400, f"{where}: a data URL must be data:<media type>;base64,<data> (got {head!r})"
            )
        source = {"type": "base64", "media_type": media_type, "data": data}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _assistant_content(
    message: dict[str, Any], where: str, ignored: list[str]
) -> list[dict[str, Any]]:
    content = message.get("content")
    blocks: list[dict[str, Any]] = []
    text = _text(content, f"{where}.content", ignored) if content is not None else ""
    if text:
        blocks.append({"type": "text", "text": text})
    for i, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        try:
            arguments = _json.loads(function["arguments"] or "{}")
        except _json.JSONDecodeError as exc:
            raise ApiError(
                400, f"{where}.tool_calls.{i}.function.arguments: not valid JSON ({exc})"
            ) from None
        if not isinstance(arguments, dict):
            raise ApiError(400, f"{where}.tool_calls.{i}.function.arguments: must be a JSON object")
        blocks.append(
            {"type": "tool_use", "id": call["id"], "name": function["name"], "input": arguments}
        )
    return blocks


def _tool_result(
    content: str | list[dict[str, Any]], where: str, ignored: list[str]
) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    return [{"type": "text", "text": _text([part], f"{where}", ignored)} for part in content]


def _tools(body: dict[str, Any], out: Translation) -> None:
    """`tools` (or the older `functions`), `tool_choice` (or `function_call`) and
    `parallel_tool_calls`, as the Messages tools and tool choice."""
    strict = table()["ignored_in_messages"]["function"]
    functions = [
        (f"tools.{i}.function", tool["function"]) for i, tool in enumerate(body.get("tools", []))
    ] + [(f"functions.{i}", function) for i, function in enumerate(body.get("functions", []))]
    tools = []
    for where, function in functions:
        out.ignored += [f"{where}.{name}" for name in strict if name in function]
        tool: dict[str, Any] = {"name": function["name"]}
        if "description" in function:
            tool["description"] = function["description"]
        tool["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
        tools.append(tool)
    if tools:
        out.body["tools"] = tools
    choice = _tool_choice(body)
    if "parallel_tool_calls" in body:
        if tools and body["parallel_tool_calls"] is False:
            choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
        elif not tools:
            out.ignored.append("parallel_tool_calls")
    if choice is not None:
        out.body["tool_choice"] = choice


def _tool_choice(body: dict[str, Any]) -> dict[str, Any] | None:
    named = table()["tool_choice"]
    choice = body.get("tool_choice", body.get("function_call"))
    if choice is None:
        return None
    if isinstance(choice, str):
        return dict(named[choice])
    name = choice["function"]["name"] if "function" in choice else choice["name"]
    return {"type": "tool", "name": name}


# -- the reply ---------------------------------------------------------------------------


def finish_reason(stop_reason: str | None) -> str | None:
    """The chat-completions `finish_reason` of a Messages `stop_reason`."""
    if stop_reason is None:
        return None
    reasons: dict[str, str] = table()["finish_reasons"]
    return reasons.get(stop_reason, "stop")


def _usage(rendered: Rendered) -> dict[str, int]:
    """`prompt_tokens` (every input token, cached or not), `completion_tokens`, total."""
    cache = rendered.cache
    prompt = rendered.input_tokens + cache.read + cache.written
    completion = rendered.reply.output_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    arguments = _json.dumps(block["input"]).decode()
    return {
        "id": block["id"],
        "type": "function",
        "function": {"name": block["name"], "arguments": arguments},
    }


def completion(rendered: Rendered, created: int) -> dict[str, Any]:
    """The `chat.completion` of a rendered message: its text joined (thinking and server
    tool blocks are not returned), its tool calls, one choice, the usage."""
    content = rendered.reply.content
    texts = [b["text"] for b in content if b["type"] == "text"]
    calls = [_tool_call(b) for b in content if b["type"] == "tool_use"]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts else None,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    return {
        "id": rendered.id,
        "object": "chat.completion",
        "created": created,
        "model": rendered.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(rendered.reply.stop_reason),
                "logprobs": None,
            }
        ],
        "usage": _usage(rendered),
    }


def frame(data: dict[str, Any]) -> bytes:
    """One server-sent event as the OpenAI SDK reads it: a `data:` line, no event name."""
    return b"data: " + _json.dumps(data) + b"\n\n"


def chunks(rendered: Rendered, created: int, include_usage: bool) -> Iterator[tuple[float, bytes]]:
    """The Messages events of `rendered` as `chat.completion.chunk` frames, each with the
    output tokens it carries (for pacing): the role first, then text and tool-call deltas,
    a chunk with the finish reason, the usage chunk when asked for, and `[DONE]`. Events
    with nothing to say in this dialect (pings, thinking) give their tokens to the next
    frame."""
    head = {"id": rendered.id, "object": "chat.completion.chunk", "created": created}
    head["model"] = rendered.model

    def chunk(delta: dict[str, Any], reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        return frame({**head, "choices": [choice]})

    calls: dict[int, int] = {}  # block index -> tool call index
    carried = 0.0
    for name, data in sse.events(rendered):
        carried += sse.output_tokens(data)
        out: bytes | None = None
        if name == "message_start":
            out = chunk({"role": "assistant", "content": ""})
        elif name == "content_block_start" and data["content_block"]["type"] == "tool_use":
            block = data["content_block"]
            calls[data["index"]] = len(calls)
            call = {"index": calls[data["index"]], "id": block["id"], "type": "function"}
            call["function"] = {"name": block["name"], "arguments": ""}
            out = chunk({"tool_calls": [call]})
        elif name == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                out = chunk({"content": delta["text"]})
            elif delta["type"] == "input_json_delta" and delta["partial_json"]:
                out = _arguments(chunk, calls.get(data["index"]), delta["partial_json"])
        elif name == "message_delta":
            out = chunk({}, finish_reason(data["delta"]["stop_reason"]))
        if out is not None:
            yield carried, out
            carried = 0.0
    if include_usage:
        yield 0.0, frame({**head, "choices": [], "usage": _usage(rendered)})
    yield 0.0, DONE


def _arguments(chunk: Any, call: int | None, piece: str) -> bytes | None:
    """A piece of a tool call's arguments (None: the block is not a tool call)."""
    if call is None:
        return None
    out: bytes = chunk({"tool_calls": [{"index": call, "function": {"arguments": piece}}]})
    return out


_RATE_LIMIT_HEADERS = {
    f"x-ratelimit-{what}-{kind}": f"anthropic-ratelimit-{kind}-{what}"
    for kind in ("requests", "tokens")
    for what in ("limit", "remaining", "reset")
}
"""The OpenAI-style rate-limit headers the layer documents, and the gateway's header each
repeats."""


def headers(sent: dict[str, str]) -> dict[str, str]:
    """The headers the layer adds to an answer with headers `sent` (a reply or an error):
    `openai-version` and the `x-ratelimit-*` headers."""
    extra = {"openai-version": table()["openai_version"]}
    for name, source in _RATE_LIMIT_HEADERS.items():
        if source in sent:
            extra[name] = sent[source]
    return extra


# -- errors ------------------------------------------------------------------------------


def error_body(type: str, message: str, request_id: str) -> dict[str, Any]:
    """OpenAI's error envelope, as the layer sends it: `{"error": {"type", "message",
    "param", "code"}}` (the code repeats the type, as recorded; the request id travels in
    the `request-id` header)."""
    return {"error": {"type": type, "message": message, "param": None, "code": type}}


def error_frame(error: ApiError) -> bytes:
    """A mid-stream error: a `data:` event whose object has `error`, as the SDK reads it."""
    return frame(error_body(error.type, error.message, ""))


# -- models ------------------------------------------------------------------------------


def asks_openai(request: WireRequest) -> bool:
    """True when a request reads as the OpenAI SDK's: `Authorization: Bearer` and no
    `anthropic-version` (the Anthropic SDKs always send one; the OpenAI SDK never does)."""
    if request.header("anthropic-version"):
        return False
    return (request.header("authorization") or "").lower().startswith("bearer ")


def model(info: dict[str, Any]) -> dict[str, Any]:
    """A model as OpenAI lists it: id, `object: "model"`, created (Unix seconds), owner."""
    import datetime

    created = datetime.datetime.fromisoformat(info["created_at"].replace("Z", "+00:00"))
    return {
        "id": info["id"],
        "object": "model",
        "created": int(created.timestamp()),
        "owned_by": "anthropic",
    }


def model_list(infos: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": [model(info) for info in infos]}
