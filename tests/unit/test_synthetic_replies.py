"""What the synthetic default says: structured outputs, forced tools held to their schema,
server-tool turns and the agent mode (no socket, no SDK)."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from mockspike import _json
from mockspike.engine.engine import Engine
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireRequest
from mockspike.synthetic.default import MODES, agent_reply, synthetic_reply
from tests.conftest import HEADERS, SEED_BODY

TICKET = {
    "type": "object",
    "properties": {
        "category": {"enum": ["billing", "delivery", "other"]},
        "urgent": {"type": "boolean"},
        "order_id": {"type": "string", "pattern": "^ORD-\\d{6}$"},
        "opened": {"type": "string", "format": "date-time"},
        "contact": {"type": "string", "format": "email"},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                "required": ["sku", "qty"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["category", "urgent", "order_id", "opened", "contact", "items"],
    "additionalProperties": False,
}


def body(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(SEED_BODY)
    out.update(changes)
    return out


def structured(schema: Any = TICKET, **changes: Any) -> dict[str, Any]:
    return body(output_config={"format": {"type": "json_schema", "schema": schema}}, **changes)


def text_of(reply: Any) -> str:
    return "".join(b["text"] for b in reply.content if b["type"] == "text")


def checker(schema: Any) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# -- structured outputs -----------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["late order", "refund please", "where is it", "thanks"])
def test_structured_output_text_is_one_valid_json_document(prompt: str) -> None:
    reply = synthetic_reply(structured(messages=[{"role": "user", "content": prompt}]))
    assert reply.stop_reason == "end_turn"
    assert [b["type"] for b in reply.content] == ["text"]
    checker(TICKET).validate(json.loads(text_of(reply)))


def test_beta_output_format_is_honoured_too() -> None:
    reply = synthetic_reply(body(output_format={"type": "json_schema", "schema": TICKET}))
    checker(TICKET).validate(json.loads(text_of(reply)))


def test_structured_output_is_deterministic_and_stream_independent() -> None:
    assert synthetic_reply(structured()) == synthetic_reply(structured(stream=True))


def test_structured_output_respects_max_tokens() -> None:
    reply = synthetic_reply(structured(max_tokens=5))
    assert reply.stop_reason == "max_tokens" and reply.output_tokens == 5
    text = text_of(reply)
    assert len(text) == 20 and text.startswith('{"category":')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # cut mid-document, as the API does at max_tokens


def test_structured_output_with_thinking_keeps_the_thinking_first() -> None:
    reply = synthetic_reply(
        structured(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 1024})
    )
    assert [b["type"] for b in reply.content] == ["thinking", "text"]
    checker(TICKET).validate(json.loads(text_of(reply)))


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        (
            {"type": "object", "properties": {"n": {"type": "array", "minItems": 10_000_000}}},
            "output_config.format.schema.properties.n.minItems: ",
        ),
        ({"type": "string", "pattern": "(a)\\1"}, "output_config.format.schema.pattern: "),
    ],
)
def test_impossible_output_schema_is_a_400_naming_the_path(schema: Any, where: str) -> None:
    schema = {**schema, "required": ["n"]} if "properties" in schema else schema
    with pytest.raises(ApiError) as caught:
        synthetic_reply(structured(schema))
    assert caught.value.status == 400 and caught.value.type == "invalid_request_error"
    assert caught.value.message.startswith(where)


# -- forced and strict tools ------------------------------------------------------------------


def test_strict_forced_tool_input_is_held_to_the_schema() -> None:
    tools = [{"name": "file_ticket", "input_schema": TICKET, "strict": True}]
    for prompt in ("a", "b", "c", "d", "e"):
        reply = synthetic_reply(
            body(
                tools=tools,
                tool_choice={"type": "any"},
                messages=[{"role": "user", "content": prompt}],
            )
        )
        (block,) = reply.content
        assert reply.stop_reason == "tool_use"
        checker(TICKET).validate(block["input"])


def test_bad_tool_schema_is_a_400_naming_the_tool() -> None:
    tools = [
        {"name": "ok", "input_schema": {"type": "object"}},
        {"name": "big", "input_schema": {"type": "object", "minProperties": 10**8}},
    ]
    with pytest.raises(ApiError, match=r"^tools\.1\.input_schema\.minProperties: "):
        synthetic_reply(body(tools=tools, tool_choice={"type": "tool", "name": "big"}))


# -- server tools -----------------------------------------------------------------------------

SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}


def forced(tool: dict[str, Any], text: str = "What happened in Paris today?") -> Any:
    return synthetic_reply(
        body(
            tools=[tool],
            tool_choice={"type": "tool", "name": tool["name"]},
            messages=[{"role": "user", "content": text}],
        )
    )


def test_forced_web_search_is_a_search_turn_with_cited_text() -> None:
    reply = forced(SEARCH)
    kinds = [b["type"] for b in reply.content]
    assert kinds[:2] == ["server_tool_use", "web_search_tool_result"]
    use, result = reply.content[:2]
    assert use["id"].startswith("srvtoolu_01") and use["name"] == "web_search"
    assert "Paris" in use["input"]["query"]
    assert result["tool_use_id"] == use["id"]
    urls = {r["url"] for r in result["content"]}
    assert all(
        r["type"] == "web_search_result" and r["encrypted_content"] for r in result["content"]
    )
    cited = [b for b in reply.content if b.get("citations")]
    assert cited and all(c["url"] in urls for b in cited for c in b["citations"])
    assert all(c["cited_text"] in b["text"] for b in cited for c in b["citations"])
    assert reply.stop_reason == "end_turn"
    assert reply.usage["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}
    assert reply == forced(SEARCH)


def test_forced_web_fetch_fetches_the_url_in_the_prompt() -> None:
    reply = forced(
        {"type": "web_fetch_20250910", "name": "web_fetch"}, "Summarise https://example.org/a"
    )
    use, result = reply.content[:2]
    assert use["input"] == {"url": "https://example.org/a"}
    assert result["type"] == "web_fetch_tool_result"
    assert result["content"]["url"] == "https://example.org/a"
    assert result["content"]["content"]["source"]["media_type"] == "text/plain"
    assert reply.usage["server_tool_use"]["web_fetch_requests"] == 1


@pytest.mark.parametrize(
    ("tool_type", "name", "result"),
    [
        ("code_execution_20250825", "bash_code_execution", "bash_code_execution_tool_result"),
        ("code_execution_20250522", "code_execution", "code_execution_tool_result"),
    ],
)
def test_forced_code_execution_runs_code(tool_type: str, name: str, result: str) -> None:
    reply = forced({"type": tool_type, "name": "code_execution"})
    use, outcome = reply.content[:2]
    assert use["name"] == name and outcome["type"] == result
    assert outcome["content"]["return_code"] == 0 and outcome["content"]["stdout"].strip()
    assert outcome["content"]["stdout"].strip() in text_of(reply)


def test_forced_tool_search_finds_deferred_tools() -> None:
    tools = [
        {"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"},
        {"name": "get_weather", "input_schema": {"type": "object"}, "defer_loading": True},
        {"name": "get_time", "input_schema": {"type": "object"}},
    ]
    reply = synthetic_reply(
        body(tools=tools, tool_choice={"type": "tool", "name": "tool_search_tool_regex"})
    )
    use, result = reply.content
    assert use["name"] == "tool_search_tool_regex" and "pattern" in use["input"]
    references = result["content"]["tool_references"]
    assert references == [{"type": "tool_reference", "tool_name": "get_weather"}]


@pytest.mark.parametrize(
    ("tool", "name", "key"),
    [
        ({"type": "bash_20250124", "name": "bash"}, "bash", "command"),
        (
            {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
            "str_replace_based_edit_tool",
            "command",
        ),
        ({"type": "memory_20250818", "name": "memory"}, "memory", "command"),
    ],
)
def test_forced_anthropic_client_tools_are_tool_use(
    tool: dict[str, Any], name: str, key: str
) -> None:
    reply = forced(tool)
    (block,) = reply.content
    assert block["type"] == "tool_use" and block["name"] == name and key in block["input"]
    assert reply.stop_reason == "tool_use"


def test_unknown_server_tool_type_is_a_clear_400() -> None:
    with pytest.raises(ApiError, match="no synthetic turn for tool type 'future_tool_20300101'"):
        forced({"type": "future_tool_20300101", "name": "future"})


# -- agent mode -------------------------------------------------------------------------------

WEATHER = {
    "name": "get_weather",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city", "unit"],
    },
}


def test_agent_mode_calls_a_tool_then_answers_the_result() -> None:
    first = agent_reply(body(tools=[WEATHER]))
    assert first.stop_reason == "tool_use"
    (call,) = first.content
    checker(WEATHER["input_schema"]).validate(call["input"])
    follow_up = body(
        tools=[WEATHER],
        messages=[
            *SEED_BODY["messages"],
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "21C"}],
            },
        ],
    )
    second = agent_reply(follow_up)
    assert second.stop_reason == "end_turn" and text_of(second)


def test_agent_mode_leaves_other_requests_to_the_default() -> None:
    plain = body()
    assert agent_reply(plain) == synthetic_reply(plain)
    none = body(tools=[WEATHER], tool_choice={"type": "none"})
    assert agent_reply(none).content[0]["type"] == "text"
    assert MODES["agent"] is agent_reply and MODES["default"] is synthetic_reply


# -- through the engine: JSON and stream build the same document --------------------------------


def call(engine: Engine, payload: dict[str, Any]) -> Any:
    response = engine.handle(
        WireRequest(
            "POST", "/v1/messages", {k.lower(): v for k, v in HEADERS.items()}, _json.dumps(payload)
        )
    )
    if payload.get("stream"):
        frames = b"".join(chunk for _, chunk in response.iter_chunks()).decode()
        events = [json.loads(line[6:]) for line in frames.splitlines() if line.startswith("data: ")]
        return response.status, events
    return response.status, json.loads(response.body)


def test_structured_output_through_the_engine_json_and_stream() -> None:
    engine = Engine()
    status, message = call(engine, structured())
    assert status == 200
    document = json.loads(message["content"][0]["text"])
    checker(TICKET).validate(document)
    status, events = call(engine, structured(stream=True))
    streamed = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert json.loads(streamed) == document


def test_impossible_schema_through_the_engine_is_an_error_envelope() -> None:
    schema = {"type": "array", "minItems": 10_000_000}
    status, error = call(Engine(), structured(schema))
    assert status == 400
    assert error["error"] == {
        "type": "invalid_request_error",
        "message": error["error"]["message"],
    }
    assert error["error"]["message"].startswith("output_config.format.schema.minItems: ")
