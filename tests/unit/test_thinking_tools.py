"""Thinking and tools together (no socket, no SDK): a scripted tool call under thinking starts
with a signed thinking block the next turn can send back, `display: "omitted"` empties the
thinking and keeps the signature, thinking tokens are counted, and consecutive assistant
messages are one turn when tool calls are paired with their results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockspike import Engine
from mockspike.render import sse

from .conftest import BODY, body, post

TOOL = {"name": "get_weather", "input_schema": {"type": "object"}}
THINKING = {"type": "enabled", "budget_tokens": 1024}


def send(engine: Engine, **fields: Any) -> tuple[int, dict[str, Any]]:
    response = engine.handle(post(body={**BODY, "max_tokens": 4096, **fields}))
    return response.status, json.loads(body(response))


def scripted(engine: Engine) -> None:
    engine.new_rule().reply_tool_use("get_weather", {"city": "Paris"}, id="toolu_01Paris")


def test_a_scripted_tool_call_under_thinking_starts_with_signed_thinking() -> None:
    engine = Engine()
    scripted(engine)
    status, message = send(engine, tools=[TOOL], thinking=THINKING)
    assert status == 200, message
    first, call = message["content"]
    assert first["type"] == "thinking" and first["thinking"] and first["signature"]
    assert call["type"] == "tool_use"
    details = message["usage"]["output_tokens_details"]
    assert 0 < details["thinking_tokens"] <= message["usage"]["output_tokens"]
    # the client's next turn sends the assistant turn back, thinking first: accepted
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "Sunny"}
    messages = [
        BODY["messages"][0],
        {"role": "assistant", "content": message["content"]},
        {"role": "user", "content": [result]},
    ]
    status, answer = send(engine, tools=[TOOL], thinking=THINKING, messages=messages)
    assert status == 200, answer


def test_without_thinking_the_scripted_reply_is_as_written() -> None:
    engine = Engine()
    scripted(engine)
    _status, message = send(engine, tools=[TOOL])
    assert [b["type"] for b in message["content"]] == ["tool_use"]
    assert "output_tokens_details" not in message["usage"]


@pytest.mark.parametrize("stream", [False, True])
def test_display_omitted_returns_thinking_empty_with_its_signature(stream: bool) -> None:
    engine = Engine()
    scripted(engine)
    omitted = {**THINKING, "display": "omitted"}
    response = engine.handle(
        post(
            body={
                **BODY,
                "max_tokens": 4096,
                "tools": [TOOL],
                "thinking": omitted,
                "stream": stream,
            }
        )
    )
    raw = body(response)
    if stream:
        events = sse.parse(raw)
        assert not [e for e in events if e[1].get("delta", {}).get("type") == "thinking_delta"]
        signature = [e for e in events if e[1].get("delta", {}).get("type") == "signature_delta"]
        assert signature and signature[0][1]["delta"]["signature"]
        final = next(e for e in events if e[0] == "message_delta")[1]
        assert final["usage"]["output_tokens_details"]["thinking_tokens"] > 0
    else:
        block = json.loads(raw)["content"][0]
        assert block["type"] == "thinking" and block["thinking"] == "" and block["signature"]


def test_the_synthetic_thinking_is_omitted_too() -> None:
    status, message = send(Engine(), thinking={**THINKING, "display": "omitted"})
    assert status == 200
    assert message["content"][0] == {**message["content"][0], "thinking": ""}


def test_consecutive_assistant_messages_are_one_turn_for_tool_pairing() -> None:
    calls = [
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {}},
    ]
    results = [
        {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "Sunny"},
        {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "Rain"},
    ]
    messages = [
        BODY["messages"][0],
        {"role": "assistant", "content": [calls[0]]},
        {"role": "assistant", "content": [calls[1]]},
        {"role": "user", "content": results},
    ]
    status, answer = send(Engine(), tools=[TOOL], messages=messages)
    assert status == 200, answer
    # still checked: the combined turn's calls all need their results
    status, answer = send(
        Engine(), tools=[TOOL], messages=[*messages[:3], {"role": "user", "content": results[:1]}]
    )
    assert status == 400
    assert "toolu_01B" in answer["error"]["message"]


def test_with_thinking_the_combined_assistant_turn_starts_with_its_thinking() -> None:
    thought = {"type": "thinking", "thinking": "Check the weather.", "signature": "c2ln"}
    call = {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "Sunny"}
    messages = [
        BODY["messages"][0],
        {"role": "assistant", "content": [thought]},
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": [result]},
    ]
    status, answer = send(Engine(), tools=[TOOL], thinking=THINKING, messages=messages)
    assert status == 200, answer
    swapped = [messages[0], messages[2], messages[1], messages[3]]
    status, answer = send(Engine(), tools=[TOOL], thinking=THINKING, messages=swapped)
    assert status == 400
    assert answer["error"]["message"].startswith("messages.1.content.0.type: Expected `thinking`")
