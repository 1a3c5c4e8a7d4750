"""The synthetic default reply: deterministic, honours the request, valid tool input."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from mockspike.model import tokens
from mockspike.synthetic.default import example_for, synthetic_reply
from tests.conftest import SEED_BODY


def body(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(SEED_BODY)
    out.update(changes)
    return out


def test_same_request_same_reply_streamed_or_not() -> None:
    assert synthetic_reply(body()) == synthetic_reply(body(stream=True))
    assert synthetic_reply(body()) != synthetic_reply(
        body(messages=[{"role": "user", "content": "Something else"}])
    )


@given(st.integers(min_value=1, max_value=60))
def test_max_tokens_is_honoured(max_tokens: int) -> None:
    reply = synthetic_reply(body(max_tokens=max_tokens))
    assert reply.output_tokens <= max_tokens
    text = "".join(b["text"] for b in reply.content)
    assert tokens.text_tokens(text) == reply.output_tokens
    if reply.stop_reason == "max_tokens":
        assert reply.output_tokens == max_tokens
    else:
        assert reply.stop_reason == "end_turn"


def test_short_budget_stops_with_max_tokens() -> None:
    reply = synthetic_reply(body(max_tokens=3))
    assert reply.stop_reason == "max_tokens" and reply.output_tokens == 3


def test_stop_sequences() -> None:
    reply = synthetic_reply(body(stop_sequences=["\n\nHuman:", "END"]))
    assert reply.stop_reason == "stop_sequence"
    assert reply.stop_sequence == "\n\nHuman:"
    assert "\n\nHuman:" not in reply.content[0]["text"]


def test_thinking_block_comes_first() -> None:
    reply = synthetic_reply(
        body(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 1024})
    )
    assert [b["type"] for b in reply.content] == ["thinking", "text"]
    assert reply.content[0]["signature"]


SCHEMAS = [
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    {
        "type": "object",
        "properties": {
            "ticket": {"type": "integer", "minimum": 1000, "maximum": 9999},
            "priority": {"enum": ["low", "high"]},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 2}, "minItems": 2},
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            "nested": {"$ref": "#/$defs/point"},
            "note": {"type": ["string", "null"], "maxLength": 3},
        },
        "required": ["ticket", "priority", "tags", "score", "nested", "note"],
        "$defs": {
            "point": {
                "type": "object",
                "properties": {"x": {"type": "integer"}, "ok": {"type": "boolean"}},
                "required": ["x", "ok"],
            }
        },
    },
    {
        "type": "object",
        "properties": {"choice": {"anyOf": [{"const": 3}, {"type": "string"}]}},
        "required": ["choice"],
    },
]


def test_forced_tool_input_is_valid_for_its_schema() -> None:
    for schema in SCHEMAS:
        tool = {"name": "t", "input_schema": schema}
        for text in ("a", "b", "c", "d"):
            reply = synthetic_reply(
                body(
                    tools=[tool],
                    tool_choice={"type": "any"},
                    messages=[{"role": "user", "content": text}],
                )
            )
            assert reply.stop_reason == "tool_use"
            (block,) = reply.content
            assert block["type"] == "tool_use" and block["id"].startswith("toolu_01")
            jsonschema.validate(block["input"], schema)


@given(st.integers(min_value=0, max_value=10_000))
def test_example_for_bounds(seed: int) -> None:
    import random

    schema = SCHEMAS[1]
    jsonschema.validate(example_for(schema, random.Random(seed)), schema)


def test_named_tool_choice_picks_that_tool() -> None:
    tools = [{"name": n, "input_schema": {"type": "object"}} for n in ("a", "b", "c")]
    reply = synthetic_reply(body(tools=tools, tool_choice={"type": "tool", "name": "c"}))
    assert reply.content[0]["name"] == "c"


def test_auto_tool_choice_answers_in_text() -> None:
    tools = [{"name": "a", "input_schema": {"type": "object"}}]
    reply = synthetic_reply(body(tools=tools))
    assert reply.content[0]["type"] == "text"


def test_prose_starts_with_a_word_for_every_seed() -> None:
    from mockspike import MockSpike

    engine_fake = MockSpike()
    for n in range(200):
        body = {
            "model": "claude-haiku-4-5",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": f"ticket {n}"}],
        }
        reply = engine_fake.anthropic_client().messages.create(**body)
        assert reply.content[0].text[:1].isupper(), reply.content[0].text
