"""Rich replies through the official SDK (whichever generation is installed): structured
outputs with `messages.parse`, a web-search turn with citations through `create` and
`stream`, every stop reason, the agent mode driving a tool loop, and any drawn reply built
the same by the SDK's own stream accumulator as by its JSON parser."""

from __future__ import annotations

from typing import Any

import anthropic
import pydantic
import pytest
from hypothesis import given

from mockspike import MockSpike
from mockspike import strategies as ms
from mockspike.model.blocks import STOP_REASONS
from mockspike.model.clock import FakeClock

pytestmark = pytest.mark.sdk

PROMPT = [{"role": "user", "content": "Open a ticket: order 42 is late."}]
MODEL = "claude-haiku-4-5"
HAS_PARSE = hasattr(anthropic.resources.Messages, "parse")
HAS_SERVER_TOOLS = hasattr(anthropic.types, "ServerToolUseBlock")


class Ticket(pydantic.BaseModel):
    category: str
    urgent: bool
    order_id: int


def both_ways(client: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The same request through `create` and through `stream` (its final message)."""
    created = client.messages.create(model=MODEL, max_tokens=512, messages=PROMPT, **kwargs)
    with client.messages.stream(model=MODEL, max_tokens=512, messages=PROMPT, **kwargs) as stream:
        streamed = stream.get_final_message()
    return created, streamed


def same(created: Any, streamed: Any) -> None:
    a, b = dump(created), dump(streamed)
    a.pop("id"), b.pop("id")  # every answer has its own id
    assert a == b


def dump(message: Any) -> dict[str, Any]:
    """The message as data; SDK 0.x's stream helper adds `parsed_output: None` to text
    blocks (its parsing type), which is not part of the message."""
    data: dict[str, Any] = message.model_dump()
    for block in data["content"]:
        if block.get("parsed_output", 0) is None:
            del block["parsed_output"]
    return data


@pytest.mark.skipif(not HAS_PARSE, reason="this SDK generation has no messages.parse")
def test_parse_returns_the_model_on_json_and_stream_paths() -> None:
    client = MockSpike(profile="anthropic").anthropic_client()
    parsed = client.messages.parse(
        model=MODEL, max_tokens=512, messages=PROMPT, output_format=Ticket
    )
    assert isinstance(parsed.parsed_output, Ticket)
    with client.messages.stream(
        model=MODEL, max_tokens=512, messages=PROMPT, output_format=Ticket
    ) as stream:
        final = stream.get_final_message()
    assert final.parsed_output == parsed.parsed_output  # deterministic for a request


@pytest.mark.skipif(not HAS_SERVER_TOOLS, reason="this SDK generation types no server tools")
def test_a_scripted_web_search_arrives_identically_through_create_and_stream() -> None:
    fake = MockSpike(profile="anthropic", clock=FakeClock())
    fake.reply_web_search(
        "order 42 delays",
        [{"url": "https://status.example/42", "title": "Order 42", "page_age": "2 days ago"}],
        "Order 42 is delayed by a storm.",
        times=2,
    )
    created, streamed = both_ways(fake.anthropic_client())
    same(created, streamed)
    use, results, text = created.content
    assert use.type == "server_tool_use" and use.input == {"query": "order 42 delays"}
    assert results.content[0].url == "https://status.example/42"
    assert text.citations[0].url == "https://status.example/42"
    assert created.usage.server_tool_use.web_search_requests == 1


@pytest.mark.parametrize("stop_reason", STOP_REASONS)
def test_each_stop_reason_round_trips(stop_reason: str) -> None:
    fake = MockSpike(profile="anthropic")
    sequence = "END" if stop_reason == "stop_sequence" else None
    fake.reply("Partial", stop_reason=stop_reason, stop_sequence=sequence, times=2)
    created, streamed = both_ways(fake.anthropic_client())
    assert created.stop_reason == streamed.stop_reason == stop_reason
    if stop_reason == "refusal" and hasattr(created, "stop_details"):
        assert created.stop_details.type == "refusal"
    same(created, streamed)


def test_agent_mode_drives_a_tool_loop_unscripted() -> None:
    client = MockSpike(synthetic="agent").anthropic_client()
    tools = [
        {
            "name": "lookup_order",
            "description": "Order status by id",
            "input_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "integer", "minimum": 1}},
                "required": ["order_id"],
            },
        }
    ]
    messages: list[dict[str, Any]] = list(PROMPT)
    first = client.messages.create(model=MODEL, max_tokens=512, messages=messages, tools=tools)
    assert first.stop_reason == "tool_use"
    (call,) = [b for b in first.content if b.type == "tool_use"]
    assert call.name == "lookup_order" and call.input["order_id"] >= 1
    messages += [
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "shipped"}],
        },
    ]
    second = client.messages.create(model=MODEL, max_tokens=512, messages=messages, tools=tools)
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]


@pytest.mark.skipif(not HAS_SERVER_TOOLS, reason="this SDK generation types no server tools")
@given(ms.replies())
def test_the_sdk_builds_the_same_message_from_stream_and_json(reply: Any) -> None:
    fake = MockSpike(profile="anthropic", clock=FakeClock())
    fake.reply(reply, times=2)
    client = fake.anthropic_client().beta  # the beta types know every block kind (MCP too)
    created = client.messages.create(model=MODEL, max_tokens=512, messages=PROMPT)
    with client.messages.stream(model=MODEL, max_tokens=512, messages=PROMPT) as stream:
        streamed = stream.get_final_message()
    same(created, streamed)
