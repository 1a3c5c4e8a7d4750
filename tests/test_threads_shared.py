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

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (scripts/test installs it)"
)
#: The tests that use the SDK's threads.
with_sdk_threads = [
    pytest.mark.sdk,
    pytest.mark.skipif(
        not hasattr(anthropic.types, "ThreadNotFoundError"),
        reason="this SDK generation has no message threads",
    ),
]


def sdk_threads(test: Any) -> Any:
    for mark in with_sdk_threads:
        test = mark(test)
    return test


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


@sdk_threads
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


@sdk_threads
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


def test_the_redis_thread_store_decides_as_the_memory_one(redis_url: str) -> None:
    """Each decision of the store, through real Redis: claim, in flight, given back,
    continued, expired, cleared."""
    from mockspike.model.errors import ApiError
    from mockspike.state.stores import redis_stores
    from mockspike.state.threads import MemoryThreads, Record

    def code(store: Any, message_id: str, now: float) -> str:
        try:
            store.claim(message_id, now)
        except ApiError as error:
            assert error.details is not None
            return str(error.details["error_code"])
        return "claimed"

    shared = redis_stores(redis_url, {}, prefix="mockspike-threads-test:")
    try:
        for store in (MemoryThreads(), shared.threads):
            store.clear()
            record = Record("claude-haiku-4-5-20251001", [{"role": "user", "content": "Hi"}])
            record.expires = 100.0
            store.keep("msg_a", record, None)
            assert code(store, "msg_a", 10.0) == "claimed"
            assert code(store, "msg_a", 11.0) == "thread_continue_in_flight"
            store.release("msg_a")
            assert code(store, "msg_a", 12.0) == "claimed"
            store.keep("msg_b", record, "msg_a")
            assert code(store, "msg_a", 13.0) == "thread_already_continued"
            store.release("msg_a")  # a continued reply stays continued
            assert code(store, "msg_a", 14.0) == "thread_already_continued"
            assert code(store, "msg_b", 100.0) == "thread_not_found"  # expired
            assert code(store, "msg_nowhere", 0.0) == "thread_not_found"
            assert len(store) == 2
            store.clear()
            assert len(store) == 0
    finally:
        shared.close()
