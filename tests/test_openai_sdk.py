"""Claude through the official OpenAI SDK: `POST /v1/chat/completions` and `GET /v1/models`,
against a real uvicorn server and in-process, answered by the same engine as Messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from hypothesis import given, settings

from mockspike import MockSpike
from mockspike import strategies as ms
from mockspike.mock import IN_PROCESS_KEY
from tests.conftest import serve_process

ROOT = Path(__file__).resolve().parents[1]
MODEL = "claude-haiku-4-5"
HI = [{"role": "user", "content": "Classify this support ticket: My order is late."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
        "strict": True,
    },
}


@pytest.fixture(params=["in-process", "server"])
def fake(request: pytest.FixtureRequest) -> MockSpike:
    """The fake of the test, reached in-process or through a real uvicorn server."""
    name = "mockspike" if request.param == "in-process" else "mockspike_server"
    served: MockSpike = request.getfixturevalue(name)
    served.via = request.param  # type: ignore[attr-defined]
    return served


def client_of(fake: MockSpike, **kwargs: Any) -> openai.OpenAI:
    """An OpenAI SDK client of `fake`: in-process, or over the socket of its server."""
    if fake.base_url is None:
        return fake.openai_client(**kwargs)
    kwargs = {"api_key": IN_PROCESS_KEY, **kwargs}
    return openai.OpenAI(base_url=fake.base_url + "/v1", **kwargs)


def async_client_of(fake: MockSpike, **kwargs: Any) -> openai.AsyncOpenAI:
    if fake.base_url is None:
        return fake.async_openai_client(**kwargs)
    kwargs = {"api_key": IN_PROCESS_KEY, **kwargs}
    return openai.AsyncOpenAI(base_url=fake.base_url + "/v1", **kwargs)


@pytest.fixture
def client(fake: MockSpike) -> Iterator[openai.OpenAI]:
    with client_of(fake, max_retries=0) as c:
        yield c


# -- text, streaming, async ----------------------------------------------------------------


def test_text_and_the_journal(fake: MockSpike, client: openai.OpenAI) -> None:
    fake.on(text="order is late").reply("Logistics: delivery delay.")
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You triage tickets."},
            {"role": "developer", "content": "Answer in one line."},
            *HI,
        ],
    )
    assert completion.object == "chat.completion"
    assert completion.model == MODEL  # the gateway echoes the model
    (choice,) = completion.choices
    assert choice.message.content == "Logistics: delivery delay."
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    entry = fake.requests.last
    assert entry.dialect == "openai" and entry.path == "/v1/chat/completions"
    assert entry.body is not None and entry.body["messages"][0]["role"] == "system"  # as sent
    assert entry.translated is not None
    assert entry.translated["system"] == "You triage tickets.\nAnswer in one line."  # hoisted
    assert entry.translated["messages"] == HI
    assert entry.rule is not None and "order is late" in entry.rule


def test_streaming_with_usage(fake: MockSpike, client: openai.OpenAI) -> None:
    fake.on(text="late").reply("Logistics: a delivery delay, so apologise.")
    stream = client.chat.completions.create(
        model=MODEL, messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Logistics: a delivery delay, so apologise."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None  # include_usage
    assert chunks[-1].usage.completion_tokens == fake.requests.last.output_tokens
    reply = fake.requests.last.reply
    assert reply is not None and reply.end == "[DONE]"


def test_streaming_without_usage_and_the_stream_helper(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=HI, stream=True))
    assert all(c.usage is None for c in chunks) and chunks[-1].choices
    with client.chat.completions.stream(model=MODEL, messages=HI) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content


def test_async_client(fake: MockSpike) -> None:
    fake.on(text="late").reply("Delay.")

    async def main() -> tuple[str | None, str]:
        async with async_client_of(fake, max_retries=0) as client:
            completion = await client.chat.completions.create(model=MODEL, messages=HI)
            stream = await client.chat.completions.create(model=MODEL, messages=HI, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            return completion.choices[0].message.content, text

    assert asyncio.run(main()) == ("Delay.", "Delay.")


def test_max_tokens_cuts_the_reply_with_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=HI, max_completion_tokens=3)
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens <= 3


# -- tools ---------------------------------------------------------------------------------


def test_tool_call_loop(fake: MockSpike, client: openai.OpenAI) -> None:
    """Two turns: the model calls the tool, the client answers it, the model concludes."""
    fake.on(tool_result=True).reply("It is sunny in Paris.")
    fake.on(text="weather").reply_tool_use("get_weather", {"city": "Paris"})
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 24 C"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "It is sunny in Paris."
    sent = fake.requests.last.translated
    assert sent is not None
    assert sent["messages"][1]["content"] == [
        {"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "Paris"}}
    ]
    assert sent["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 24 C"}
    ]
    assert fake.requests.last.ignored == ["tools.0.function.strict"]  # documented: ignored


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    """A forced tool (`tool_choice="required"`, the Messages `any`): the synthetic default
    calls it with arguments valid against its parameters, streamed in pieces."""
    with client.chat.completions.stream(
        model=MODEL, messages=HI, tools=[WEATHER], tool_choice="required"
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert isinstance(json.loads(call.function.arguments)["city"], str)


def test_named_tool_choice_and_parallel_calls(fake: MockSpike, client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model=MODEL,
        messages=HI,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    )
    sent = fake.requests.last.translated
    assert sent is not None
    assert sent["tool_choice"] == {
        "type": "tool",
        "name": "get_weather",
        "disable_parallel_tool_use": True,
    }


# -- what the layer ignores and refuses ----------------------------------------------------


def test_ignored_fields_are_accepted_and_journalled(fake: MockSpike, client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Hi", "name": "ann"}],
        temperature=1.7,  # capped at 1
        logprobs=True,
        top_logprobs=2,
        seed=7,
        user="ann",
        response_format={"type": "json_object"},
        reasoning_effort="low",
        stop=["END", "  "],
    )
    assert completion.choices[0].message.content
    entry = fake.requests.last
    assert sorted(entry.ignored or []) == [
        "logprobs",
        "messages.0.name",
        "reasoning_effort",
        "response_format",
        "seed",
        "stop.1",
        "top_logprobs",
        "user",
    ]
    assert entry.translated is not None
    assert entry.translated["temperature"] == 1.0
    assert entry.translated["stop_sequences"] == ["END"]


def test_refusals_keep_their_status_and_message(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=MODEL, messages=HI, n=2)
    assert info.value.status_code == 400
    assert info.value.body == {
        "type": "invalid_request_error",
        "message": "n: must be exactly 1 (got 2); Claude returns one choice",
        "param": None,
        "code": "invalid_request_error",
    }
    assert info.value.response.headers["request-id"].startswith("req_")
    with pytest.raises(openai.BadRequestError, match="8193 > 8192"):  # the profile's cap
        client.chat.completions.create(model=MODEL, messages=HI, max_tokens=8193)
    with pytest.raises(openai.BadRequestError, match="top_p"):  # a Messages contract rule
        client.chat.completions.create(model=MODEL, messages=HI, temperature=0.5, top_p=0.9)
    with pytest.raises(openai.NotFoundError, match="model: gpt-4o"):
        client.chat.completions.create(model="gpt-4o", messages=HI)


def test_thinking_through_extra_body(fake: MockSpike, client: openai.OpenAI) -> None:
    """The documented way to enable thinking; the reply's thinking is not returned."""
    thinking = {"type": "enabled", "budget_tokens": 1024}
    completion = client.chat.completions.create(
        model=MODEL, messages=HI, max_tokens=2048, extra_body={"thinking": thinking}
    )
    assert completion.choices[0].message.content
    assert fake.requests.last.translated is not None
    assert fake.requests.last.translated["thinking"] == thinking


# -- errors, retries, faults --------------------------------------------------------------


def test_429_is_retried_after_retry_after(fake: MockSpike) -> None:
    fake.fail(429, times=2, retry_after=0.01)
    with client_of(fake, max_retries=2) as client:
        assert client.chat.completions.create(model=MODEL, messages=HI).choices
    assert [r.status for r in fake.requests] == [429, 429, 200]
    refused = fake.requests[0]
    assert refused.reply is not None and refused.reply.headers["retry-after"] == "1"
    assert refused.reply.headers["retry-after-ms"] == "10"
    assert json.loads(refused.reply.body)["error"]["type"] == "rate_limit_error"


def test_rate_limit_error_when_retries_run_out(fake: MockSpike, client: openai.OpenAI) -> None:
    fake.fail(429, times=1, retry_after=3)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=HI)
    assert info.value.response.headers["retry-after"] == "3"


def test_overloaded_after_retries(fake: MockSpike) -> None:
    fake.fail(529, times=3, retry_after=0.01)
    client = client_of(fake, max_retries=2)
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=MODEL, messages=HI)
    assert info.value.status_code == 529
    assert isinstance(info.value.body, dict) and info.value.body["type"] == "overloaded_error"
    assert len(fake.requests) == 3


def test_cut_stream(fake: MockSpike, client: openai.OpenAI) -> None:
    fake.fault("break", after=2)
    with pytest.raises(openai.APIConnectionError):
        for _ in client.chat.completions.create(model=MODEL, messages=HI, stream=True):
            pass
    reply = fake.requests.last.reply
    assert reply is not None and reply.end == "cut"


def test_mid_stream_error(fake: MockSpike, client: openai.OpenAI) -> None:
    fake.fault("break", after=2, error=529)
    with pytest.raises(openai.APIError) as info:
        for _ in client.chat.completions.create(model=MODEL, messages=HI, stream=True):
            pass
    assert isinstance(info.value.body, dict) and info.value.body["type"] == "overloaded_error"


@pytest.mark.parametrize("via", ["in-process", "server"])
def test_wallet_and_keys_apply(via: str) -> None:
    """The gateway in front of the dialect: an empty wallet is a 402, an unknown key 401."""
    gated = MockSpike(config={"keys": {"sk-poor": {"wallet": 0.0}}})
    with contextlib.ExitStack() as stack:
        if via == "server":
            stack.enter_context(gated.serve())
        poor = stack.enter_context(client_of(gated, api_key="sk-poor", max_retries=0))
        with pytest.raises(openai.APIStatusError) as info:
            poor.chat.completions.create(model=MODEL, messages=HI)
        assert info.value.status_code == 402
        assert isinstance(info.value.body, dict) and info.value.body["type"] == "billing_error"
        stranger = stack.enter_context(client_of(gated, api_key="sk-unknown", max_retries=0))
        with pytest.raises(openai.AuthenticationError):
            stranger.chat.completions.create(model=MODEL, messages=HI)
    assert [e.status for e in gated.requests] == [402, 401]


# -- one engine, two dialects --------------------------------------------------------------


@pytest.mark.sdk
def test_one_rule_answers_both_dialects(fake: MockSpike) -> None:
    fake.on(text="x").reply("y")
    ask = [{"role": "user", "content": "x"}]
    with client_of(fake, max_retries=0) as oa:
        completion = oa.chat.completions.create(model=MODEL, messages=ask)
    if fake.base_url is None:
        native = fake.anthropic_client(max_retries=0)
    else:
        native = anthropic.Anthropic(base_url=fake.base_url, api_key=IN_PROCESS_KEY)
    message = native.messages.create(model=MODEL, max_tokens=64, messages=ask)
    assert completion.choices[0].message.content == "y"
    assert message.content[0].type == "text" and message.content[0].text == "y"
    assert len(fake.requests.filter(dialect="openai")) == 1
    assert [(r.dialect, r.rule) for r in fake.requests] == [
        ("openai", "rule #1 on(text='x')"),
        ("anthropic", "rule #1 on(text='x')"),
    ]
    assert fake.requests[0].credits == fake.requests[1].credits  # the same bill


def test_models_in_the_openai_shape(fake: MockSpike, client: openai.OpenAI) -> None:
    models = client.models.list()
    ids = [m.id for m in models]
    assert "claude-haiku-4-5-20251001" in ids
    assert all(m.object == "model" and m.owned_by == "anthropic" for m in models)
    assert client.models.retrieve(MODEL).id == "claude-haiku-4-5-20251001"
    assert fake.requests.last.dialect == "openai"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


# -- `mockspike serve`, cassettes, the README ---------------------------------------------


def test_against_mockspike_serve() -> None:
    """The CLI's server (a process of its own): text, stream, tools and models."""
    with serve_process() as (_, url):
        with openai.OpenAI(base_url=url + "/v1", api_key="sk-any", max_retries=0) as client:
            completion = client.chat.completions.create(model=MODEL, messages=HI)
            assert completion.choices[0].message.content
            stream = client.chat.completions.create(
                model=MODEL, messages=HI, stream=True, stream_options={"include_usage": True}
            )
            assert list(stream)[-1].usage is not None
            forced = client.chat.completions.create(
                model=MODEL, messages=HI, tools=[WEATHER], tool_choice="required"
            )
            assert forced.choices[0].finish_reason == "tool_calls"
            assert MODEL + "-20251001" in [m.id for m in client.models.list()]
        journal = httpx.get(url + "/_mockspike/requests").json()
        entries = journal.get("requests", journal) if isinstance(journal, dict) else journal
        assert {e["dialect"] for e in entries} == {"openai"}


def test_cassette_records_and_replays_the_dialect(tmp_path: Path) -> None:
    upstream = MockSpike()
    upstream.on(text="late").reply("Recorded delay.")
    path = tmp_path / "chat.json"
    with upstream.serve() as url:
        recorder = MockSpike(cassette=str(path), record_mode="once", upstream=url)
        with recorder.openai_client(max_retries=0) as client:
            first = client.chat.completions.create(model=MODEL, messages=HI)
            streamed = client.chat.completions.create(model=MODEL, messages=HI, stream=True)
            streamed_text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        recorder.close()
    saved = json.loads(path.read_text())
    interactions = saved["interactions"]
    assert {i["request"]["path"] for i in interactions} == {"/v1/chat/completions"}
    replay = MockSpike(cassette=str(path), record_mode="none")
    with replay.openai_client(max_retries=0) as client:
        again = client.chat.completions.create(model=MODEL, messages=HI)
        restreamed = client.chat.completions.create(model=MODEL, messages=HI, stream=True)
        restreamed_text = "".join(c.choices[0].delta.content or "" for c in restreamed if c.choices)
    assert again.choices[0].message.content == first.choices[0].message.content
    assert restreamed_text == streamed_text == "Recorded delay."
    assert {e.dialect for e in replay.requests} == {"openai"}


pytest_plugins = ["pytester"]


@given(body=ms.openai_chat_requests())
@settings(max_examples=15, derandomize=True, deadline=None)
def test_drawn_requests_through_the_sdk(body: dict[str, Any]) -> None:
    fake = MockSpike()
    with fake.openai_client(max_retries=0) as client:
        answer = client.chat.completions.create(**body)
        if body["stream"]:
            chunks = list(answer)
            assert chunks and all(c.object == "chat.completion.chunk" for c in chunks)
        else:
            assert answer.choices[0].finish_reason in ("stop", "length", "tool_calls")
    assert [e.status for e in fake.requests] == [200]


def test_shared_state_journals_the_dialect() -> None:
    """Two fakes on one Redis: an OpenAI-dialect request answered by one is in both
    journals with its dialect, ignored fields and Messages request."""
    from mockspike.testing.redis_server import RedisServer

    with RedisServer() as server:
        one, two = MockSpike(state=server.url), MockSpike(state=server.url)
        try:
            with one.openai_client(max_retries=0) as client:
                client.chat.completions.create(model=MODEL, messages=HI, seed=3)
            entry = two.requests.last
            assert (entry.dialect, entry.ignored) == ("openai", ["seed"])
            assert entry.translated is not None and entry.translated["messages"] == HI
        finally:
            one.close()
            two.close()


def test_the_verdict_judges_the_openai_dialect(fake: MockSpike, client: openai.OpenAI) -> None:
    """A client that takes a cut stream's text as the whole answer and carries on: the same
    finding as for a Messages client."""
    fake.fault("break", after=3)
    text = ""
    with contextlib.suppress(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model=MODEL, messages=HI, stream=True):
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    follow_up = [*HI, {"role": "assistant", "content": text}, {"role": "user", "content": "ok"}]
    client.chat.completions.create(model=MODEL, messages=follow_up)
    assert [f.rule for f in fake.verdict()] == ["accepted-cut-stream"]
