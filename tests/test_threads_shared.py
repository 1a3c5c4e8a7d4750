"""Message threads in a shared state: a thread created through one `mockspike serve`
process is continued through another (and through an in-process fake on the same real
redis-server), and each reply is continued once across all of them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from mockspike import MockSpike
from mockspike.testing.redis_server import RedisServer
from mockspike.testing.serve_process import start_serve

pytest.importorskip("redis")

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="needs redis-server (scripts/test installs it)"
    ),
    pytest.mark.skipif(
        not hasattr(anthropic.types, "ThreadNotFoundError"),
        reason="this SDK generation has no message threads",
    ),
]

MODEL = "claude-haiku-4-5"
BETA = "message-threads-2026-08-12"
TOOL = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url


@pytest.fixture(scope="module")
def two(redis_url: str) -> Iterator[list[str]]:
    """Two `serve` processes on one Redis, answering in agent mode (offered tools are called,
    tool results answered in text)."""
    started = [start_serve("--state", redis_url, "--synthetic", "agent") for _ in range(2)]
    yield [url for _, url in started]
    for process, _ in started:
        process.terminate()
        process.communicate(timeout=10)


def client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-test", max_retries=0)


def send(url: str, **fields: Any) -> Any:
    return client(url).beta.messages.create(model=MODEL, max_tokens=256, betas=[BETA], **fields)


def test_a_thread_created_through_one_process_is_continued_through_the_other(
    two: list[str], redis_url: str
) -> None:
    one, other = two
    first = send(
        one,
        tools=[TOOL],
        system="Answer briefly.",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        thread={"type": "create"},
    )
    (call,) = [block for block in first.content if block.type == "tool_use"]
    result = {"type": "tool_result", "tool_use_id": call.id, "content": "Sunny"}
    second = send(
        other,
        messages=[{"role": "user", "content": [result]}],
        thread={"type": "continue", "previous_message_id": first.id},
    )
    # the other process answered the whole conversation: the tool result came back as text
    assert second.stop_reason == "end_turn" and second.content[0].type == "text"
    # and each reply is continued once, whichever process is asked
    with pytest.raises(anthropic.types.ThreadAlreadyContinuedError):
        send(
            one,
            messages=[{"role": "user", "content": [result]}],
            thread={"type": "continue", "previous_message_id": first.id},
        )
    # an in-process fake on the same Redis continues it too
    with MockSpike(state=redis_url) as fake:
        third = fake.anthropic_client(max_retries=0).beta.messages.create(
            model=MODEL,
            max_tokens=256,
            betas=[BETA],
            messages=[{"role": "user", "content": "Thanks!"}],
            thread={"type": "continue", "previous_message_id": second.id},
        )
        assert third.id not in (first.id, second.id)
    with pytest.raises(anthropic.types.ThreadNotFoundError):
        send(
            other,
            messages=[{"role": "user", "content": "Hello?"}],
            thread={"type": "continue", "previous_message_id": "msg_01Nowhere"},
        )


def test_the_tool_runner_runs_against_a_shared_state(two: list[str]) -> None:
    calls: list[str] = []

    @anthropic.beta_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return "Sunny"

    runner = client(two[1]).beta.messages.tool_runner(
        model=MODEL,
        max_tokens=256,
        tools=[get_weather],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert runner.until_done().stop_reason == "end_turn"
    assert len(calls) == 1
