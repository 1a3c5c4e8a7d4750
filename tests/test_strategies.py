"""The strategies keep their promises: valid draws are accepted, invalid draws get exactly
the answer they say, replies parse with the SDK's own types."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockspike import Engine, MockSpike, Reply, WireRequest
from mockspike.contract.rules import RULES, SCHEMA_CASES
from mockspike.testing import strategies as ms
from tests.conftest import HEADERS
from tests.sse_grammar import check_grammar, parse_frames

ENGINES = {name: Engine(name) for name in ("bytespike", "anthropic")}


def send(engine: Engine, body: dict[str, Any]) -> tuple[int, bytes]:
    response = engine.handle(
        WireRequest("POST", "/v1/messages", dict(HEADERS), json.dumps(body).encode())
    )
    raw = b"".join(chunk for _, chunk in response.iter_chunks())
    return response.status, raw


@pytest.mark.sdk
@pytest.mark.parametrize("profile", ["bytespike", "anthropic"])
@given(data=st.data())
def test_every_valid_draw_is_accepted(profile: str, data: st.DataObject) -> None:
    body = data.draw(ms.message_requests(profile=profile))
    status, raw = send(ENGINES[profile], body)
    assert status == 200, raw
    if body["stream"]:
        check_grammar(parse_frames(raw))
    else:
        anthropic.types.Message.model_validate_json(raw)


@given(ms.message_requests(model="claude-haiku-4-5", stream=False, tools=True, max_tokens=512))
def test_keywords_narrow_the_draw(body: dict[str, Any]) -> None:
    assert body["model"] == "claude-haiku-4-5" and body["stream"] is False
    assert body["tools"] and body["max_tokens"] == 512


@pytest.mark.parametrize("profile", ["bytespike", "anthropic"])
@given(data=st.data())
@settings(max_examples=100)
def test_every_invalid_draw_gets_exactly_its_answer(profile: str, data: st.DataObject) -> None:
    invalid = data.draw(ms.invalid_message_requests(profile=profile))
    status, raw = send(ENGINES[profile], invalid.body)
    answer = json.loads(raw)
    assert (status, answer["error"]["type"], answer["error"]["message"]) == (
        invalid.status,
        invalid.error_type,
        invalid.message,
    ), invalid.rule


@pytest.mark.parametrize("rule", [r.name for r in (*RULES, *SCHEMA_CASES)])
@pytest.mark.parametrize("profile", ["bytespike", "anthropic"])
def test_each_rule_on_its_own(rule: str, profile: str) -> None:
    @given(ms.invalid_message_requests(profile=profile, rules=[rule]))
    @settings(max_examples=5)
    def check(invalid: ms.Invalid) -> None:
        assert invalid.rule == rule
        status, raw = send(ENGINES[profile], invalid.body)
        error = json.loads(raw)["error"]
        assert (status, error["type"], error["message"]) == (
            invalid.status,
            invalid.error_type,
            invalid.message,
        )

    check()


def test_rules_can_be_chosen() -> None:
    @given(ms.invalid_message_requests(rules=["max_tokens_cap"]))
    def check(invalid: ms.Invalid) -> None:
        assert invalid.rule == "max_tokens_cap" and invalid.status == 400

    check()


@pytest.mark.sdk
@given(reply=ms.replies(), stream=st.booleans())
@settings(max_examples=40)
def test_every_reply_parses_with_the_sdk(reply: Reply, stream: bool) -> None:
    fake = MockSpike()
    fake.reply(reply)
    client = fake.anthropic_client(max_retries=0)
    args: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    if stream:
        with client.messages.stream(**args) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**args)
    assert isinstance(message, anthropic.types.Message)
    assert [b.type for b in message.content] == [b["type"] for b in reply.content]
    assert message.stop_reason == reply.stop_reason
    assert message.usage.output_tokens == reply.output_tokens


@given(ms.stream_events())
def test_stream_events_follow_the_grammar(events: list[tuple[str, dict[str, Any]]]) -> None:
    if events[-1][0] == "error":
        assert events[-1][1]["type"] == "error"
        assert all(name != "message_stop" for name, _ in events)
    else:
        check_grammar(events)


@pytest.mark.sdk
@given(ms.error_replies(profile="anthropic"))
@settings(max_examples=30)
def test_error_replies_reach_the_client(failure: Any) -> None:
    fake = MockSpike(profile="anthropic")
    fake.fail(failure)
    client = fake.anthropic_client(max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )
    assert info.value.status_code == failure.status


@pytest.mark.sdk
@given(ms.faults(), st.booleans())
@settings(max_examples=30)
def test_faults_never_break_the_fake(fault: Any, stream: bool) -> None:
    fake = MockSpike()
    fake.fault(fault)
    client = fake.anthropic_client(max_retries=0, timeout=5)
    args: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    try:
        if stream:
            for _ in client.messages.create(stream=True, **args):
                pass
        else:
            client.messages.create(**args)
    except Exception:
        pass  # what the client sees depends on the fault; the fake must stay sound
    assert client.messages.create(**args).content
