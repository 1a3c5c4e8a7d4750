"""The OpenAI dialect without a socket or an SDK: the request translated into a Messages
request, the reply rendered as a chat completion or its chunks, errors in OpenAI's
envelope, and the models listed in OpenAI's shape for a client that asks in it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from mockspike import Engine, GatewayConfig, WireRequest
from mockspike import strategies as ms
from mockspike.contract.catalog import load_profile
from mockspike.model.errors import ApiError
from mockspike.model.outcomes import make_reply
from mockspike.render import openai_chat, sse
from mockspike.render.message import Rendered
from tests.unit.conftest import body as read_body

PROFILE = load_profile("bytespike")
BEARER = {"authorization": "Bearer sk-unit"}
ASK: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "messages": [{"role": "user", "content": "Say hello."}],
}


def chat(body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> WireRequest:
    raw = json.dumps(ASK if body is None else body).encode()
    return WireRequest("POST", "/v1/chat/completions", {**BEARER, **(headers or {})}, raw)


def translate(**fields: Any) -> openai_chat.Translation:
    return openai_chat.translate({**ASK, **fields}, PROFILE)


def refusal(**fields: Any) -> str:
    with pytest.raises(ApiError) as info:
        translate(**fields)
    assert info.value.status == 400
    return info.value.message


# -- the request -------------------------------------------------------------------------


def test_system_and_developer_messages_are_hoisted_and_joined_by_a_newline() -> None:
    out = translate(
        messages=[
            {"role": "system", "content": "One."},
            {"role": "user", "content": "Hi"},
            {"role": "developer", "content": [{"type": "text", "text": "Two."}]},
            {"role": "assistant", "content": "Hello"},
            {"role": "system", "content": "Three."},
            {"role": "user", "content": "Bye"},
        ]
    )
    assert out.body["system"] == "One.\nTwo.\nThree."
    assert [m["role"] for m in out.body["messages"]] == ["user", "assistant", "user"]


def test_default_max_tokens_is_the_models_cap_and_max_completion_tokens_wins() -> None:
    assert translate().body["max_tokens"] == 8192  # bytespike's claude-haiku-4-5
    assert translate(max_tokens=10).body["max_tokens"] == 10
    assert translate(max_tokens=10, max_completion_tokens=20).body["max_tokens"] == 20


def test_tool_calls_and_results_map_to_blocks_and_consecutive_turns_merge() -> None:
    call = {"id": "call_1", "type": "function"}
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {**call, "function": {"name": "w", "arguments": '{"city": "Paris"}'}},
                {"id": "call_2", "type": "function", "function": {"name": "w", "arguments": ""}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "rain"}]},
        {"role": "user", "content": "Thanks"},
    ]
    out = translate(messages=messages)
    assistant, results = out.body["messages"][1:]
    assert assistant["content"] == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "call_1", "name": "w", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_2", "name": "w", "input": {}},
    ]
    assert results["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
        {
            "type": "tool_result",
            "tool_use_id": "call_2",
            "content": [{"type": "text", "text": "rain"}],
        },
        {"type": "text", "text": "Thanks"},
    ]


def test_tools_choice_and_parallel_calls() -> None:
    function = {"name": "w", "parameters": {"type": "object"}, "strict": True}
    out = translate(tools=[{"type": "function", "function": function}], tool_choice="required")
    assert out.body["tools"] == [{"name": "w", "input_schema": {"type": "object"}}]
    assert out.body["tool_choice"] == {"type": "any"}
    assert out.ignored == ["tools.0.function.strict"]
    out = translate(
        functions=[{"name": "w"}], function_call={"name": "w"}, parallel_tool_calls=False
    )
    assert out.body["tools"] == [
        {"name": "w", "input_schema": {"type": "object", "properties": {}}}
    ]
    assert out.body["tool_choice"] == {
        "type": "tool",
        "name": "w",
        "disable_parallel_tool_use": True,
    }
    assert translate(parallel_tool_calls=True).ignored == ["parallel_tool_calls"]  # no tools


def test_images_and_stripped_parts() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
    ]
    out = translate(messages=[{"role": "user", "content": content}])
    assert out.body["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
    ]
    assert out.ignored == ["messages.0.content.1.image_url.detail", "messages.0.content.3"]


def test_sampling_fields() -> None:
    out = translate(temperature=1.5, top_p=0.5, stop="  ", seed=1, stream_options={})
    assert out.body["temperature"] == 1.0  # capped, as documented
    assert out.body["top_p"] == 0.5
    assert "stop_sequences" not in out.body
    assert out.ignored == ["seed", "stop", "stream_options"]
    assert translate(stop="END").body["stop_sequences"] == ["END"]
    streamed = translate(stream=True, stream_options={"include_usage": True})
    assert streamed.body["stream"] is True and streamed.include_usage


def test_nulls_are_absent_and_unknown_fields_are_ignored() -> None:
    out = translate(temperature=None, tools=None, web_search_options={"x": 1})
    assert out.body == {**ASK, "max_tokens": 8192}
    assert out.ignored == ["web_search_options"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"n": 3}, "n: must be exactly 1 (got 3); Claude returns one choice"),
        ({"messages": []}, "messages: [] should be non-empty"),
        ({"messages": [{"role": "bot", "content": "x"}]}, "messages.0.role: 'bot' is not one of"),
        (
            {"messages": [{"role": "tool", "content": "x"}]},
            "messages.0.tool_call_id: Field required",
        ),
        ({"temperature": "hot"}, "temperature: Input should be a valid number"),
        ({"model": None, "messages": None}, "model: Field required"),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "c",
                                "type": "function",
                                "function": {"name": "w", "arguments": "{"},
                            }
                        ],
                    }
                ]
            },
            "messages.0.tool_calls.0.function.arguments: not valid JSON",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:x"}}],
                    }
                ]
            },
            "messages.0.content.0.image_url.url: a data URL must be",
        ),
    ],
)
def test_what_the_layer_refuses(fields: dict[str, Any], message: str) -> None:
    assert message in refusal(**fields)


# -- the reply ---------------------------------------------------------------------------


def _rendered(**reply: Any) -> Rendered:
    return Rendered(
        id="msg_x",
        model="claude-haiku-4-5",
        reply=make_reply(**reply),
        input_tokens=9,
        full_usage=False,
    )


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("model_context_window_exceeded", "length"),
    ],
)
def test_finish_reasons(stop_reason: str, finish_reason: str) -> None:
    assert openai_chat.finish_reason(stop_reason) == finish_reason


def _accumulated(frames: list[bytes]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The message the chunks build, as the OpenAI SDK accumulates them, and the chunks."""
    assert frames[-1] == openai_chat.DONE
    chunks = [json.loads(f[len(b"data: ") :]) for f in frames[:-1]]
    message: dict[str, Any] = {"role": None, "content": "", "tool_calls": []}
    reason = None
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            message["role"] = delta.get("role", message["role"])
            message["content"] += delta.get("content") or ""
            for call in delta.get("tool_calls", []):
                if "id" in call:
                    message["tool_calls"].append(call)
                else:
                    message["tool_calls"][call["index"]]["function"]["arguments"] += call[
                        "function"
                    ]["arguments"]
            reason = choice["finish_reason"] or reason
    message["finish_reason"] = reason
    return message, chunks


@pytest.mark.parametrize("include_usage", [False, True])
def test_chunks_build_the_same_completion(include_usage: bool) -> None:
    """Thinking is not returned; text and tool calls stream in pieces; both renderings agree."""
    content = [
        {"type": "thinking", "thinking": "Hmm, the weather.", "signature": "sig"},
        {"type": "text", "text": "Let me look that up for you now."},
        {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"city": "Paris, France"}},
    ]
    rendered = _rendered(content=content)
    whole = openai_chat.completion(rendered, 7)
    frames = [frame for _, frame in openai_chat.chunks(rendered, 7, include_usage)]
    built, chunks = _accumulated(frames)
    expected = whole["choices"][0]
    assert built["role"] == "assistant"
    assert built["content"] == expected["message"]["content"] == "Let me look that up for you now."
    assert [
        {"id": c["id"], "type": c["type"], "function": c["function"]} for c in built["tool_calls"]
    ] == expected["message"]["tool_calls"]
    assert built["finish_reason"] == expected["finish_reason"] == "tool_calls"
    assert {c["id"] for c in chunks} == {"msg_x"} and {c["created"] for c in chunks} == {7}
    usage = [c["usage"] for c in chunks if "usage" in c]
    assert usage == ([whole["usage"]] if include_usage else [])


def test_a_reply_without_text_has_null_content() -> None:
    rendered = _rendered(content=[{"type": "tool_use", "id": "t", "name": "w", "input": {}}])
    message = openai_chat.completion(rendered, 0)["choices"][0]["message"]
    assert message["content"] is None and message["tool_calls"][0]["function"]["arguments"] == "{}"


def test_tokens_pace_the_chunks_that_carry_them() -> None:
    rendered = _rendered(text="one two three four five six seven")
    paced = sum(tokens for tokens, _ in openai_chat.chunks(rendered, 0, False))
    events = sum(sse.output_tokens(data) for _, data in sse.events(rendered))
    assert paced == pytest.approx(events) and paced > 0


# -- through the engine ------------------------------------------------------------------


def test_no_anthropic_version_needed_and_the_journal_notes_the_dialect() -> None:
    engine = Engine()
    response = engine.handle(chat({**ASK, "logprobs": True}))
    assert response.status == 200
    completion = json.loads(response.body)
    assert completion["object"] == "chat.completion"
    assert response.headers["openai-version"] == "2020-10-01"
    assert (
        response.headers["x-ratelimit-remaining-requests"]
        == (response.headers["anthropic-ratelimit-requests-remaining"])
    )
    entry = engine.journal.last
    assert (entry.dialect, entry.ignored, entry.endpoint) == (
        "openai",
        ["logprobs"],
        "chat_completions",
    )
    assert entry.to_json()["translated"]["max_tokens"] == 8192


def test_errors_take_the_openai_envelope() -> None:
    engine = Engine(config=GatewayConfig.from_dict({"keys": {"sk-known": {}}}))
    response = engine.handle(chat())
    assert response.status == 401
    assert json.loads(response.body) == {
        "error": {
            "type": "authentication_error",
            "message": "invalid x-api-key",
            "param": None,
            "code": "authentication_error",
        }
    }
    assert response.headers["request-id"].startswith("req_")
    not_json = WireRequest("POST", "/v1/chat/completions", BEARER, b"{")
    assert json.loads(Engine().handle(not_json).body)["error"]["type"] == "invalid_request_error"
    native = WireRequest("POST", "/v1/messages", BEARER, json.dumps(ASK).encode())
    assert json.loads(Engine().handle(native).body)["type"] == "error"  # Messages: its own


def test_stream_ends_with_done_and_the_journal_sees_it() -> None:
    engine = Engine()
    response = engine.handle(chat({**ASK, "stream": True}))
    raw = read_body(response)
    assert raw.endswith(b"data: [DONE]\n\n") and b"event:" not in raw
    reply = engine.journal.last.reply
    assert reply is not None and reply.end == "[DONE]"


def test_models_answer_in_the_dialect_asked() -> None:
    engine = Engine()
    listed = json.loads(engine.handle(WireRequest("GET", "/v1/models", BEARER)).body)
    assert listed["object"] == "list"
    assert {m["object"] for m in listed["data"]} == {"model"}
    assert {m["owned_by"] for m in listed["data"]} == {"anthropic"}
    one = engine.handle(WireRequest("GET", "/v1/models/claude-haiku-4-5", BEARER))
    assert json.loads(one.body)["created"] == 1760486400
    assert engine.journal.last.dialect == "openai"
    missing = engine.handle(WireRequest("GET", "/v1/models/gpt-4o", BEARER))
    assert missing.status == 404 and "param" in json.loads(missing.body)["error"]
    for headers in ({**BEARER, "anthropic-version": "2023-06-01"}, {"x-api-key": "k"}):
        native = json.loads(engine.handle(WireRequest("GET", "/v1/models", headers)).body)
        assert native["data"][0]["type"] == "model" and "has_more" in native


# -- the strategies ------------------------------------------------------------------------


@given(body=ms.openai_chat_requests())
@settings(max_examples=60, derandomize=True, deadline=None)
def test_every_drawn_chat_request_is_answered(body: dict[str, Any]) -> None:
    engine = Engine()
    response = engine.handle(chat(body))
    assert response.status == 200, read_body(response)
    raw = read_body(response)
    if body["stream"]:
        assert raw.endswith(openai_chat.DONE)
    else:
        assert json.loads(raw)["object"] == "chat.completion"
    entry = engine.journal.last
    assert entry.dialect == "openai" and entry.translated is not None
    ignored = {path.split(".")[0] for path in entry.ignored or []}
    nested = {"messages", "tools", "stop", "stream_options", "parallel_tool_calls"}
    assert ignored <= {*openai_chat.table()["ignored"], *nested}


def test_key_scopes_name_the_endpoint() -> None:
    config = {
        "keys": {
            "sk-chat": {"scopes": {"endpoints": ["chat_completions"]}},
            "sk-native": {"scopes": {"endpoints": ["messages"]}},
        }
    }
    engine = Engine(config=GatewayConfig.from_dict(config))
    allowed = engine.handle(chat(headers={"authorization": "Bearer sk-chat"}))
    refused = engine.handle(chat(headers={"authorization": "Bearer sk-native"}))
    assert (allowed.status, refused.status) == (200, 403)
    assert json.loads(refused.body)["error"]["type"] == "permission_error"


def test_redacted_body_paths_leave_the_translation_out() -> None:
    """Redaction paths name the request as sent; the Messages request, laid out otherwise,
    is not kept at all rather than kept half redacted."""
    from mockspike._redact import Redaction
    from mockspike.state.journal import Journal

    engine = Engine()
    engine.handle(chat({**ASK, "messages": [{"role": "user", "content": "my secret"}]}))
    entry = engine.journal.last
    journal = Journal(redaction=Redaction.of(paths=["messages"]))
    journal.append(entry)
    assert entry.translated is None and "my secret" not in json.dumps(entry.to_json())


def test_pacing_applies_to_both_renderings() -> None:
    """The engine's pacing: time to the first chunk, then the text's tokens at the rate;
    the JSON reply waits the whole of it, as a Messages reply does."""
    from mockspike.model.pacing import Pacing

    engine = Engine(pacing=Pacing(ttft=0.5, tokens_per_second=100))
    streamed = engine.handle(chat({**ASK, "stream": True}))
    assert streamed.stream is not None
    paced = list(streamed.stream)
    texts = [delay for delay, frame in paced if b'"delta":{"content":' in frame]
    assert paced[0][0] == 0.0  # the role chunk carries no token
    assert texts[0] == pytest.approx(0.5)  # the first text waits the time to first token
    assert len(texts) > 1 and all(d > 0 for d in texts[1:])  # the rest, their tokens' time
    whole = engine.handle(chat())
    assert whole.delay == pytest.approx(0.5 + engine.journal.last.output_tokens / 100, rel=0.2)


def test_a_body_too_large_is_refused_in_the_dialect() -> None:
    """Adapters that stop reading past the limit answer 413 in the endpoint's envelope."""
    engine = Engine()
    refused = engine.too_large(engine.open("POST", "/v1/chat/completions"))
    assert refused.status == 413
    assert json.loads(refused.body)["error"]["type"] == "request_too_large"
    assert json.loads(engine.too_large(engine.open("POST", "/v1/messages")).body)["type"] == "error"


def test_the_gateways_429_carries_the_openai_rate_limit_headers() -> None:
    limits = {
        "requests_per_minute": 1,
        "input_tokens_per_minute": 100_000,
        "output_tokens_per_minute": 100_000,
    }
    config = {"keys": {"sk-slow": {"rate_limits": limits}}}
    engine = Engine(config=GatewayConfig.from_dict(config))
    slow = {"authorization": "Bearer sk-slow"}
    assert engine.handle(chat(headers=slow)).status == 200
    limited = engine.handle(chat(headers=slow))
    assert limited.status == 429
    assert json.loads(limited.body)["error"]["type"] == "rate_limit_error"
    assert "retry-after" in limited.headers
    assert limited.headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.headers["openai-version"] == "2020-10-01"
