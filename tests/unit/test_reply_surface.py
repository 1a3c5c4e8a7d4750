"""What a scripted reply may say and how it is served: every block kind and stop reason the
API sends, checked when scripted; the response fields that go with them; streams that build
the same message as the JSON reply (no socket, no SDK)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from mockspike import MockSpike
from mockspike import strategies as ms
from mockspike.model.blocks import STOP_REASONS, kinds
from mockspike.model.clock import FakeClock
from mockspike.model.outcomes import make_reply
from mockspike.model.wire import WireRequest
from mockspike.render import sse
from mockspike.synthetic import server_tools
from tests.conftest import HEADERS, SEED_BODY
from tests.sse_grammar import check_grammar, parse_frames


def post(fake: MockSpike, **changes: Any) -> tuple[int, bytes]:
    import json

    body = {**SEED_BODY, **changes}
    response = fake.engine.handle(
        WireRequest("POST", "/v1/messages", HEADERS, json.dumps(body).encode())
    )
    if response.stream is not None:
        return response.status, b"".join(chunk for _, chunk in response.stream)
    return response.status, response.body


def json_and_stream(fake: MockSpike) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    import json

    status, raw = post(fake)
    assert status == 200, raw
    status, streamed = post(fake, stream=True)
    assert status == 200, streamed
    message = json.loads(raw)
    LAST_JSON_ID[0] = message["id"]
    return message, parse_frames(streamed)


def built(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The message a stream builds, with the JSON reply's id (each answer has its own)."""
    message = check_grammar(events)
    message["id"] = LAST_JSON_ID[0]
    return message


LAST_JSON_ID = [""]


# -- scripting every block kind -------------------------------------------------------------


@given(ms.server_tool_turns())
def test_every_server_tool_turn_can_be_scripted(turn: list[dict[str, Any]]) -> None:
    reply = make_reply(content=turn)
    assert [b["type"] for b in reply.content] == [b["type"] for b in turn]


@pytest.mark.parametrize("kind", kinds())
def test_replies_draw_every_block_kind(kind: str) -> None:
    drawn = ms.replies(tools=["get_weather"])  # tool_use turns call only offered tools
    found = find(drawn, lambda r: any(b["type"] == kind for b in r.content))
    assert any(b["type"] == kind for b in found.content)


@pytest.mark.parametrize("stop_reason", STOP_REASONS)
def test_replies_draw_every_stop_reason(stop_reason: str) -> None:
    drawn = ms.replies(tools=["get_weather"])  # tool_use turns call only offered tools
    assert find(drawn, lambda r: r.stop_reason == stop_reason).stop_reason == stop_reason


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"type": "server_tool_use", "name": "web_search"}, "'input' is a required property"),
        ({"type": "server_tool_use", "name": "web_serch", "input": {}}, "content.0.name"),
        (
            {"type": "web_search_tool_result", "tool_use_id": "s", "content": [{"url": "u"}]},
            "content.0.content",
        ),
        (
            {"type": "text", "text": "x", "citations": [{"type": "char_location"}]},
            "content.0.citations.0",
        ),
        ({"type": "mcp_tool_use", "name": "n", "input": {}}, "'server_name'"),
        ({"type": "images", "url": "x"}, "a reply block's type is one of text,"),
        ("hello", "a block is an object"),
    ],
)
def test_a_malformed_block_is_refused_when_scripted(block: Any, message: str) -> None:
    with pytest.raises(ValueError, match="content") as caught:
        MockSpike().reply(content=[block])
    assert message in str(caught.value)


def test_ids_and_defaults_are_filled_as_the_api_sends_them() -> None:
    reply = make_reply(
        content=[
            {"type": "server_tool_use", "name": "web_search", "input": {"query": "q"}},
            {"type": "mcp_tool_use", "name": "n", "server_name": "crm", "input": {}},
            {"type": "mcp_tool_result", "tool_use_id": "mcptoolu_01x", "content": "ok"},
        ]
    )
    use, mcp, result = reply.content
    assert use["id"].startswith("srvtoolu_01") and mcp["id"].startswith("mcptoolu_01")
    assert result["is_error"] is False
    assert reply.usage["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}


# -- stop reasons ----------------------------------------------------------------------------


@pytest.mark.parametrize("stop_reason", STOP_REASONS)
def test_every_stop_reason_is_served(stop_reason: str) -> None:
    fake = MockSpike(profile="anthropic")
    sequence = "END" if stop_reason == "stop_sequence" else None
    fake.reply("Partial", stop_reason=stop_reason, stop_sequence=sequence, times=2)
    message, events = json_and_stream(fake)
    assert message["stop_reason"] == stop_reason
    assert built(events) == message


def test_an_unknown_stop_reason_is_refused_when_scripted() -> None:
    with pytest.raises(ValueError, match=r"stop_reason is one the API sends .* not 'done'"):
        MockSpike().reply("x", stop_reason="done")


def test_a_refusal_carries_its_stop_details() -> None:
    fake = MockSpike(profile="anthropic")
    fake.reply(content=[], stop_reason="refusal", stop_details={"category": "cyber"})
    _status, raw = post(fake)
    import json

    message = json.loads(raw)
    assert message["content"] == []
    assert message["stop_details"] == {"type": "refusal", "category": "cyber", "explanation": None}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stop_reason": "refusal", "stop_details": {"category": "weather"}}, "category is one"),
        ({"stop_reason": "end_turn", "stop_details": {"category": "bio"}}, "refusal' only"),
        ({"stop_reason": "refusal", "stop_details": {"why": "x"}}, "stop_details is"),
    ],
)
def test_bad_stop_details_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_reply("x", **kwargs)


# -- response fields --------------------------------------------------------------------------


def test_message_fields_in_the_apis_order() -> None:
    fake = MockSpike(profile="anthropic")
    fake.reply("Hi.", times=2)
    message, events = json_and_stream(fake)
    assert list(message)[:9] == [
        "model",
        "id",
        "type",
        "role",
        "content",
        "stop_reason",
        "stop_sequence",
        "stop_details",
        "usage",
    ]
    start = events[0][1]["message"]
    assert next(iter(start)) == "model"
    assert start["usage"]["service_tier"] == "standard"
    assert start["usage"]["inference_geo"] == "global"
    assert ("ping", {"type": "ping"}) in events
    assert sse.frame("ping", {"type": "ping"}) == b'event: ping\ndata: {"type": "ping"}\n\n'


def test_a_code_execution_turn_carries_its_container() -> None:
    clock = FakeClock(1_790_000_000.0)
    fake = MockSpike(profile="anthropic", clock=clock)
    fake.reply_code_execution("echo 42", stdout="42\n", text="It printed 42.", times=2)
    message, events = json_and_stream(fake)
    container = message["container"]
    assert container["id"].startswith("container_011C")
    assert container["expires_at"].endswith("Z") and container["expires_at"] > "2026-09"
    message_delta = events[-2][1]
    assert message_delta["delta"]["container"] == container
    assert "container" not in events[0][1]["message"]
    assert built(events) == message


def test_context_management_is_served_when_scripted() -> None:
    applied = {"applied_edits": [{"type": "clear_tool_uses_20250919", "cleared_tool_uses": 2}]}
    fake = MockSpike(profile="anthropic")
    fake.reply("ok", context_management=applied, times=2)
    message, events = json_and_stream(fake)
    assert message["context_management"] == applied
    assert events[-2][1]["context_management"] == applied


# -- streams build the JSON reply ---------------------------------------------------------------


@given(ms.replies(), st.sampled_from(["bytespike", "anthropic"]))
def test_the_stream_builds_the_json_message(reply: Any, profile: str) -> None:
    fake = MockSpike(profile=profile, clock=FakeClock())
    fake.reply(reply, times=2)
    message, events = json_and_stream(fake)
    assert built(events) == message


def test_citations_survive_streaming() -> None:
    fake = MockSpike()
    fake.reply_web_search("paris weather", ["https://meteo.example/paris"], "Sunny, 21C.", times=2)
    message, events = json_and_stream(fake)
    kinds_sent = [e[1]["delta"]["type"] for e in events if e[0] == "content_block_delta"]
    assert "citations_delta" in kinds_sent
    starts = [e[1]["content_block"] for e in events if e[0] == "content_block_start"]
    assert starts[1]["type"] == "web_search_tool_result"  # whole, in its start
    assert starts[2] == {"citations": [], "type": "text", "text": ""}
    assert built(events) == message
    assert message["content"][2]["citations"][0]["url"] == "https://meteo.example/paris"


# -- helpers in Python, script files and the admin API --------------------------------------------


def test_web_search_helper_builds_a_cited_turn() -> None:
    content = server_tools.web_search_turn(
        "q", [{"url": "https://a.example/x", "title": "A"}], "Said.", cite=False
    )
    assert [b["type"] for b in content] == ["server_tool_use", "web_search_tool_result", "text"]
    assert "citations" not in content[2]
    failed = server_tools.web_search_turn("q", error_code="max_uses_exceeded")
    assert failed[1]["content"] == {
        "type": "web_search_tool_result_error",
        "error_code": "max_uses_exceeded",
    }


def test_script_files_speak_the_same_helpers() -> None:
    fake = MockSpike()
    fake.load_script(
        {
            "rules": [
                {"respond": {"reply_web_search": {"query": "q", "results": ["https://a.io"]}}},
                {
                    "respond": {
                        "reply": {
                            "content": [{"type": "text", "text": "no"}],
                            "stop_reason": "refusal",
                            "stop_details": {"category": "bio"},
                        }
                    }
                },
            ]
        }
    )
    from mockspike.script.files import SpecError

    with pytest.raises(SpecError, match="stop_reason is one the API sends"):
        fake.load_script({"respond": {"reply": {"text": "x", "stop_reason": "stopped"}}})


def test_agent_mode_is_a_setting() -> None:
    fake = MockSpike(synthetic="agent")
    tools = [
        {
            "name": "lookup",
            "input_schema": {
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
            },
        }
    ]
    import json

    _status, raw = post(fake, tools=tools)
    first = json.loads(raw)
    assert first["stop_reason"] == "tool_use"
    with pytest.raises(ValueError, match="synthetic is one of default, agent"):
        MockSpike(synthetic="agnet")
    fake.configure(synthetic="default")
    _status, raw = post(fake, tools=tools)
    assert json.loads(raw)["stop_reason"] != "tool_use"
