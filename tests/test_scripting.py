"""Scripted replies, failures and faults, seen by the real SDK over a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx
import pytest

from mockspike import Failure, MockSpike
from tests.conftest import KEY

pytestmark = pytest.mark.sdk

PROMPT = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[MockSpike, str]]:
    fake = MockSpike()
    with fake.serve() as url:
        yield fake, url


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[MockSpike, str]]:
    fake = MockSpike(profile="anthropic")
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
def fake(gateway: tuple[MockSpike, str]) -> Iterator[MockSpike]:
    gateway[0].reset()
    yield gateway[0]
    gateway[0].reset()


@pytest.fixture
def client(gateway: tuple[MockSpike, str], fake: MockSpike) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway[1], api_key=KEY, max_retries=2)


def post(base_url: str) -> httpx.Response:
    """A raw request, to see the wire: status, headers, body bytes."""
    return httpx.post(
        base_url + "/v1/messages",
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        json={"model": "claude-haiku-4-5", "max_tokens": 8, "messages": PROMPT},
    )


def run_tool_loop(client: anthropic.Anthropic) -> tuple[str, int]:
    """A minimal agent loop: call tools until the model answers in text."""
    messages: list[dict] = list(PROMPT)
    turns = 0
    while True:
        turns += 1
        reply = client.messages.create(
            model="claude-haiku-4-5", max_tokens=512, messages=messages, tools=[TOOL]
        )
        if reply.stop_reason != "tool_use":
            return reply.content[0].text, turns
        messages.append({"role": "assistant", "content": [b.model_dump() for b in reply.content]})
        results = [
            {"type": "tool_result", "tool_use_id": b.id, "content": f"18C in {b.input['city']}"}
            for b in reply.content
            if b.type == "tool_use"
        ]
        messages.append({"role": "user", "content": results})


def test_scripted_tool_use_drives_a_two_turn_loop(
    fake: MockSpike, client: anthropic.Anthropic
) -> None:
    fake.on(tool_result=False).reply_tool_use("get_weather", {"city": "Paris"})
    fake.on(tool_result=True).reply("It is 18C and sunny in Paris.")
    text, turns = run_tool_loop(client)
    assert (text, turns) == ("It is 18C and sunny in Paris.", 2)
    second = fake.requests[-1].body
    assert second["messages"][-1]["content"][0]["content"] == "18C in Paris"
    assert [e.rule for e in fake.requests] == [r.describe() for r in fake.rules]


def test_429_twice_then_success_is_retried(fake: MockSpike, client: anthropic.Anthropic) -> None:
    fake.fail(429, times=2, retry_after=0.01)
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT)
    assert message.stop_reason == "end_turn"
    assert [e.status for e in fake.requests] == [429, 429, 200]
    assert len(fake.requests) == 3


def test_429_envelope_and_headers(gateway: tuple[MockSpike, str], fake: MockSpike) -> None:
    fake.fail(429)
    response = post(gateway[1])
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["error"] == {
        "type": "rate_limit_error",
        "message": "Number of request tokens has exceeded your per-minute rate limit",
    }
    assert body["request_id"] == response.headers["request-id"]


def test_gateway_wraps_5xx_in_its_retry_envelope(
    gateway: tuple[MockSpike, str], fake: MockSpike
) -> None:
    fake.fail(500)
    response = post(gateway[1])
    assert response.status_code == 500
    assert response.headers["x-should-retry"] == "true"
    assert response.json()["error"] == {
        "type": "api_error",
        "message": "Upstream provider error (auto-retried, not billed): Internal server error",
    }


def test_529_surfaces_as_overloaded_after_retries(upstream: tuple[MockSpike, str]) -> None:
    fake, url = upstream
    fake.reset()
    fake.fail(529, times=3, retry_after=0.01)
    client = anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=2)
    with pytest.raises(anthropic.OverloadedError) as info:
        client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT)
    assert info.value.body["error"]["type"] == "overloaded_error"
    assert len(fake.requests) == 3


def test_mid_stream_error_surfaces_as_stream_error(
    fake: MockSpike, client: anthropic.Anthropic
) -> None:
    fake.fault("break", after=3, error=529)
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        client.messages.stream(model="claude-haiku-4-5", max_tokens=256, messages=PROMPT) as stream,
    ):
        for _ in stream.text_stream:
            pass
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_silent_break_cuts_the_stream(fake: MockSpike, client: anthropic.Anthropic) -> None:
    fake.fault("break", after=4)
    received = []
    with pytest.raises(Exception) as info:
        for event in client.messages.create(
            model="claude-haiku-4-5", max_tokens=256, messages=PROMPT, stream=True
        ):
            received.append(event.type)
    assert type(info.value).__name__ in ("RemoteProtocolError", "APIConnectionError")
    assert received[0] == "message_start" and "message_stop" not in received


def test_stall_trips_the_client_timeout(gateway: tuple[MockSpike, str], fake: MockSpike) -> None:
    fake.fault("stall", seconds=3)
    impatient = anthropic.Anthropic(base_url=gateway[1], api_key=KEY, max_retries=0, timeout=0.3)
    with pytest.raises(anthropic.APITimeoutError):
        impatient.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)
    # the server keeps serving while that request is still stalled
    fine = anthropic.Anthropic(base_url=gateway[1], api_key=KEY, max_retries=0, timeout=5)
    assert fine.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT).content


def test_dropped_connection_is_a_connection_error(
    gateway: tuple[MockSpike, str], fake: MockSpike
) -> None:
    fake.fault("drop")
    client = anthropic.Anthropic(base_url=gateway[1], api_key=KEY, max_retries=0)
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)
    assert client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT).content


def test_malformed_body_is_a_client_side_error(
    gateway: tuple[MockSpike, str], fake: MockSpike
) -> None:
    fake.fault("malformed")
    response = post(gateway[1])
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_sequence_and_times(fake: MockSpike, client: anthropic.Anthropic) -> None:
    fake.on(text="Paris").reply("first").reply("second")
    fake.on(text="London", times=1).reply("once")
    texts = [
        client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT)
        .content[0]
        .text
        for _ in range(3)
    ]
    assert texts == ["first", "second", "second"]
    london = [{"role": "user", "content": "London?"}]
    first = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=london)
    again = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=london)
    assert first.content[0].text == "once"
    assert again.content[0].text != "once"  # the rule retired; the synthetic default answers
    assert fake.requests.last.rule is None


def test_matchers(fake: MockSpike, client: anthropic.Anthropic) -> None:
    fake.on(model="claude-sonnet-4-6").reply("sonnet")
    fake.on(system="pirate").reply("arr")
    fake.on(regex=r"\bweather\b", tools="get_weather").reply("with tools")
    fake.on(stream=True).reply("streamed")
    fake.on(where=lambda body: body["max_tokens"] == 7).reply("seven")

    def ask(**kw: object) -> str:
        args = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": PROMPT, **kw}
        return client.messages.create(**args).content[0].text  # type: ignore[arg-type]

    assert ask(model="claude-sonnet-4-6") == "sonnet"
    assert ask(system="Talk like a pirate.") == "arr"
    assert ask(tools=[TOOL]) == "with tools"
    assert ask(max_tokens=7) == "seven"
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT) as s:
        assert s.get_final_message().content[0].text == "streamed"


def test_reply_content_blocks_usage_and_model(fake: MockSpike, client: anthropic.Anthropic) -> None:
    fake.reply(
        content=[
            {"type": "thinking", "thinking": "The user wants weather."},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "name": "get_weather", "input": {"city": "Paris"}},
        ],
        usage={"output_tokens": 99},
        model="claude-haiku-4-5-20251001",
    )
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=512, messages=PROMPT, tools=[TOOL]
    ) as stream:
        message = stream.get_final_message()
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[2].input == {"city": "Paris"}
    assert message.stop_reason == "tool_use"
    assert message.usage.output_tokens == 99
    assert message.model == "claude-haiku-4-5-20251001"


def test_strict_mode_names_the_closest_rule() -> None:
    fake = MockSpike(strict=True)
    fake.on(model="claude-sonnet-4-6", text="Paris").reply("x")
    fake.on(text="London").reply("y")
    with fake.serve() as url:
        client = anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0)
        with pytest.raises(anthropic.BadRequestError) as info:
            client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)
    message = info.value.body["error"]["message"]
    assert message.startswith("mockspike strict mode: no rule matched this request; ")
    assert "rule #1 on(model='claude-sonnet-4-6', text='Paris')" in message
    assert "model is 'claude-haiku-4-5', not 'claude-sonnet-4-6'" in message
    assert fake.requests.last.status == 400


def test_journal_helpers(fake: MockSpike, client: anthropic.Anthropic) -> None:
    client.messages.create(
        model="claude-haiku-4-5", max_tokens=8, messages=PROMPT, system="Be brief."
    )
    client.messages.count_tokens(model="claude-haiku-4-5", messages=PROMPT)
    assert fake.requests[0].body["system"] == "Be brief."
    assert fake.requests.last.path == "/v1/messages/count_tokens"
    assert len(fake.requests) == fake.requests.count == 2
    assert [e.path for e in fake.requests.messages] == ["/v1/messages"]
    assert fake.requests.filter(model="claude-haiku-4-5", status=200)[0].body["max_tokens"] == 8
    assert fake.requests[0].headers["anthropic-version"]  # the SDK sends its API version
    assert fake.requests[0].duration >= 0 and fake.requests[0].started_at > 0


def test_scripted_failures_refuse_statuses_the_profile_lacks() -> None:
    fake = MockSpike(profile="anthropic")
    with pytest.raises(ValueError, match="status 422 is not one this profile sends"):
        fake.fail(422)
    with pytest.raises(ValueError, match="unknown fault 'explode'"):
        fake.fault("explode")
    with pytest.raises(TypeError, match="unknown matcher 'colour'"):
        fake.on(colour="red")
    with pytest.raises(TypeError, match="needs text or content"):
        fake.reply()
    assert isinstance(Failure(429), Failure)


def test_invalid_requests_are_refused_before_scripts(
    fake: MockSpike, client: anthropic.Anthropic
) -> None:
    fake.reply("never")
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=9000, messages=PROMPT)
    assert fake.rules[0].call_count == 0
