"""The official anthropic SDK against a real uvicorn server: everything a normal client does.

Runs under whichever SDK generation is installed; the test command runs it under both."""

from __future__ import annotations

import anthropic
import pytest

from tests.conftest import KEY

pytestmark = pytest.mark.sdk

PROMPT = [{"role": "user", "content": "Classify this support ticket: My order is late."}]


def _texts(message: anthropic.types.Message) -> list[tuple[str, str]]:
    return [(block.type, getattr(block, "text", "")) for block in message.content]


@pytest.fixture
def client(server_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server_url, api_key=KEY, max_retries=0)


@pytest.fixture
def upstream(anthropic_server_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=anthropic_server_url, api_key=KEY, max_retries=0)


def test_create(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT)
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "claude-haiku-4-5"  # the gateway echoes the request's model
    assert message.id.startswith("msg_haiku_")
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 18
    assert message.usage.output_tokens > 0


def test_upstream_profile_answers_with_the_dated_id(upstream: anthropic.Anthropic) -> None:
    message = upstream.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT)
    assert message.model == "claude-haiku-4-5-20251001"
    assert message.id.startswith("msg_01")
    assert message.usage.cache_read_input_tokens == 0


def test_env_base_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    message = anthropic.Anthropic().messages.create(
        model="claude-haiku-4-5", max_tokens=32, messages=PROMPT
    )
    assert message.stop_reason in ("end_turn", "max_tokens")


async def _acreate(server_url: str) -> anthropic.types.Message:
    async with anthropic.AsyncAnthropic(base_url=server_url, api_key=KEY) as client:
        return await client.messages.create(
            model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT
        )


def test_async_create(server_url: str, client: anthropic.Anthropic) -> None:
    import asyncio

    message = asyncio.run(_acreate(server_url))
    same = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT)
    assert _texts(message) == _texts(same)  # deterministic for the same request


def test_stream_helper(client: anthropic.Anthropic) -> None:
    reference = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT)
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == reference.content[0].text
    assert _texts(final) == _texts(reference)
    assert final.usage.input_tokens == reference.usage.input_tokens
    assert final.usage.output_tokens == reference.usage.output_tokens
    assert final.stop_reason == reference.stop_reason


def test_raw_stream_events(client: anthropic.Anthropic) -> None:
    stream = client.messages.create(
        model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT, stream=True
    )
    kinds = [event.type for event in stream]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert "content_block_delta" in kinds


def test_stream_tool_use(client: anthropic.Anthropic) -> None:
    tool = {
        "name": "get_weather",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=256,
        messages=PROMPT,
        tools=[tool],
        tool_choice={"type": "tool", "name": "get_weather"},
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    block = final.content[0]
    assert block.type == "tool_use" and block.name == "get_weather"
    assert isinstance(block.input, dict) and isinstance(block.input["city"], str)
    assert block.id.startswith("toolu_")


def test_count_tokens(client: anthropic.Anthropic) -> None:
    counted = client.messages.count_tokens(model="claude-haiku-4-5", messages=PROMPT)
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=16, messages=PROMPT)
    assert counted.input_tokens == message.usage.input_tokens == 18


def test_models(client: anthropic.Anthropic) -> None:
    ids = [m.id for m in client.models.list()]
    assert "claude-haiku-4-5-20251001" in ids
    page = client.models.list(limit=1)
    assert len(page.data) == 1 and page.has_more
    model = client.models.retrieve("claude-haiku-4-5")
    assert model.id == "claude-haiku-4-5-20251001"
    assert model.display_name == "Claude Haiku 4.5"


def test_models_paginate_through_everything(client: anthropic.Anthropic) -> None:
    everything = [m.id for m in client.models.list(limit=1)]  # auto-pagination by after_id
    assert everything == [m.id for m in client.models.list(limit=100).data]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_tokens": 8193}, anthropic.BadRequestError),
        ({"model": "claude-nope"}, anthropic.NotFoundError),
        ({"output_config": {"effort": "low"}}, anthropic.UnprocessableEntityError),
    ],
)
def test_errors_map_to_sdk_exceptions(
    client: anthropic.Anthropic, kwargs: dict, error: type[Exception]
) -> None:
    args = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": PROMPT, **kwargs}
    extra = (
        {"extra_body": {"output_config": args.pop("output_config")}}
        if "output_config" in args
        else {}
    )
    with pytest.raises(error) as info:
        client.messages.create(**args, **extra)
    assert info.value.request_id is not None and info.value.request_id.startswith("req_")
