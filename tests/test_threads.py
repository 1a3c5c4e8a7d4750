"""Server-held message threads through the real SDK: its tool runner (which runs over a
thread) drives a multi-step tool loop to the end in-process and against a real uvicorn
server, on both profiles, with and without thinking and streaming; its thread helper
continues, and replays a thread the fake no longer holds; and every thread refusal reaches
the caller as the SDK's own error class."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from mockspike import MockSpike
from mockspike.engine.threads import THREAD_TTL
from mockspike.model.clock import FakeClock

HAS_THREADS = hasattr(anthropic.types, "ThreadNotFoundError")
pytestmark = [
    pytest.mark.sdk,
    pytest.mark.skipif(not HAS_THREADS, reason="this SDK generation has no message threads"),
]

MODEL = "claude-haiku-4-5"
BETA = "message-threads-2026-08-12"
PROFILES = ["bytespike", "anthropic"]


def weather_tools() -> tuple[list[Any], list[str]]:
    """Two `@beta_tool` functions and the log of their calls."""
    calls: list[str] = []

    @anthropic.beta_tool
    def find_city(name: str) -> str:
        """Find a city by name; returns its id."""
        calls.append(f"find_city({name})")
        return "city-75"

    @anthropic.beta_tool
    def get_weather(city_id: str) -> str:
        """The weather in a city, by its id."""
        calls.append(f"get_weather({city_id})")
        return "Sunny, 21 C"

    return [find_city, get_weather], calls


def script_loop(fake: MockSpike) -> None:
    """Two tool calls, then the answer: a loop of three turns."""
    fake.reply_tool_use("find_city", {"name": "Paris"})
    fake.reply_tool_use("get_weather", {"city_id": "city-75"})
    fake.reply("It is sunny in Paris, 21 C.")


@pytest.fixture(params=["in-process", "served"])
def where(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def client_for(fake: MockSpike, where: str, stack: list[Any]) -> Any:
    if where == "in-process":
        return fake.anthropic_client(max_retries=0)
    serving = fake.serve()
    url = serving.__enter__()
    stack.append(serving)
    return anthropic.Anthropic(base_url=url, api_key="sk-test", max_retries=0)


@pytest.fixture
def stack() -> Iterator[list[Any]]:
    entered: list[Any] = []
    yield entered
    for context in reversed(entered):
        context.__exit__(None, None, None)


def check_threaded(fake: MockSpike, turns: int) -> None:
    """Every turn went out threaded: a create with the tools, then continuations that send
    the new turn only, each from the reply before it."""
    entries = list(fake.requests)
    assert [e.status for e in entries] == [200] * turns
    first, *rest = (e.body for e in entries)
    assert first["thread"] == {"type": "create"} and "tools" in first
    assert BETA in entries[0].headers["anthropic-beta"]
    for body in rest:
        assert body["thread"]["type"] == "continue"
        assert "tools" not in body and "system" not in body
        assert [m["role"] for m in body["messages"]] == ["user"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("stream", [False, True])
def test_the_tool_runner_runs_a_loop_to_the_end(
    profile: str, stream: bool, where: str, stack: list[Any]
) -> None:
    fake = MockSpike(profile=profile)
    script_loop(fake)
    client = client_for(fake, where, stack)
    tools, calls = weather_tools()
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        system="You answer weather questions.",
        tools=tools,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        stream=stream,
    )
    final = runner.until_done()
    assert calls == ["find_city(Paris)", "get_weather(city-75)"]
    assert final.stop_reason == "end_turn"
    assert final.content[-1].text == "It is sunny in Paris, 21 C."
    anthropic.types.beta.BetaMessage.model_validate(final.model_dump())
    check_threaded(fake, 3)


@pytest.mark.parametrize("profile", PROFILES)
def test_the_tool_runner_with_thinking_sends_the_thinking_back(profile: str) -> None:
    fake = MockSpike(profile=profile)
    script_loop(fake)
    client = fake.anthropic_client(max_retries=0)
    tools, calls = weather_tools()
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        tools=tools,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
    )
    replies = list(runner)
    assert [r.stop_reason for r in replies] == ["tool_use", "tool_use", "end_turn"]
    for reply in replies[:2]:
        assert reply.content[0].type == "thinking" and reply.content[0].signature
        assert reply.usage.output_tokens_details.thinking_tokens > 0
    assert len(calls) == 2
    check_threaded(fake, 3)


def test_the_agent_mode_runs_the_tool_runner_unscripted() -> None:
    fake = MockSpike(synthetic="agent")
    tools, calls = weather_tools()
    runner = fake.anthropic_client().beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=tools,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
    )
    assert runner.until_done().stop_reason == "end_turn"
    assert len(calls) == 1
    check_threaded(fake, 2)


@pytest.mark.parametrize("stream", [False, True])
def test_the_async_tool_runner_runs_a_loop_to_the_end(stream: bool) -> None:
    import asyncio

    fake = MockSpike()
    script_loop(fake)
    calls: list[str] = []

    @anthropic.beta_async_tool
    async def find_city(name: str) -> str:
        """Find a city by name; returns its id."""
        calls.append(name)
        return "city-75"

    @anthropic.beta_async_tool
    async def get_weather(city_id: str) -> str:
        """The weather in a city, by its id."""
        calls.append(city_id)
        return "Sunny, 21 C"

    async def run() -> Any:
        runner = fake.async_anthropic_client(max_retries=0).beta.messages.tool_runner(
            model=MODEL,
            max_tokens=1024,
            tools=[find_city, get_weather],
            messages=[{"role": "user", "content": "What's the weather in Paris?"}],
            stream=stream,
        )
        return await runner.until_done()

    final = asyncio.run(run())
    assert final.stop_reason == "end_turn" and calls == ["Paris", "city-75"]
    check_threaded(fake, 3)


def test_the_thread_helper_replays_a_thread_the_fake_no_longer_holds() -> None:
    clock = FakeClock()
    fake = MockSpike(clock=clock)
    thread = fake.anthropic_client(max_retries=0).beta.messages.thread(
        model=MODEL, max_tokens=256, system="Keep replies short."
    )
    thread.send({"role": "user", "content": "Hello"})
    thread.send({"role": "user", "content": "And again"})
    clock.advance(THREAD_TTL + 1)
    reply = thread.send({"role": "user", "content": "Still there?"})
    assert reply.stop_reason == "end_turn"
    statuses = [(e.status, e.body["thread"]["type"]) for e in fake.requests]
    # the last continuation found no thread (404), and the helper replayed it as a create
    assert statuses == [(200, "create"), (200, "continue"), (404, "continue"), (200, "create")]
    replayed = list(fake.requests)[-1].body
    assert len(replayed["messages"]) == 5 and replayed["system"] == "Keep replies short."


def test_the_thread_helpers_automatic_caching_reads_what_the_last_turn_wrote() -> None:
    """The docs page's example: top-level `cache_control` on a thread caches each turn."""
    fake = MockSpike(profile="anthropic")
    thread = fake.anthropic_client(max_retries=0).beta.messages.thread(
        model=MODEL,
        max_tokens=256,
        cache_control={"type": "ephemeral"},
        system="You are a support agent for Acme. Keep replies short. " * 500,
    )
    first = thread.send({"role": "user", "content": "Hello"})
    second = thread.send({"role": "user", "content": "My order is late."})
    assert first.usage.cache_creation_input_tokens > 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert 0 < second.usage.cache_creation_input_tokens < first.usage.cache_creation_input_tokens


def test_the_thread_helper_goes_on_unthreaded_where_threads_are_unsupported() -> None:
    fake = MockSpike(profile="anthropic")
    thread = fake.anthropic_client(max_retries=0).beta.messages.thread(
        model=MODEL,
        max_tokens=256,
        fallbacks="default",
        unsupported_request_behavior="continue_unthreaded",
    )
    thread.send({"role": "user", "content": "Hello"})
    thread.send({"role": "user", "content": "And again"})
    sent = [(e.status, (e.body.get("thread") or {}).get("type")) for e in fake.requests]
    assert sent == [(400, "create"), (200, None), (200, None)]
    refused = fake.requests[0]
    assert refused.error is not None and "`fallbacks`" in refused.error["message"]


def create(client: Any, **fields: Any) -> Any:
    body = {
        "model": MODEL,
        "max_tokens": 64,
        "betas": [BETA],
        "messages": [{"role": "user", "content": "Hi"}],
        **fields,
    }
    return client.beta.messages.create(**body)


def cont(previous: str) -> dict[str, str]:
    return {"type": "continue", "previous_message_id": previous}


@pytest.mark.parametrize(
    ("case", "error_class", "status", "code"),
    [
        ("unknown", "ThreadNotFoundError", 404, "thread_not_found"),
        ("twice", "ThreadAlreadyContinuedError", 400, "thread_already_continued"),
        ("in flight", "ThreadContinueInFlightError", 400, "thread_continue_in_flight"),
        ("other model", "ThreadFingerprintMismatchError", 400, "thread_fingerprint_mismatch"),
        ("fallbacks", "ThreadUnsupportedRequestError", 400, "thread_unsupported_request"),
        ("repeated tools", "BadRequestError", 400, None),
    ],
)
def test_each_thread_refusal_is_the_sdks_own_error(
    case: str, error_class: str, status: int, code: str | None
) -> None:
    fake = MockSpike(profile="anthropic")
    # paced: each text delta after the first waits its turn, so a stream is delivered in
    # parts, each when the client reads on
    text = "Hello there, and thank you for writing to the support desk today."
    fake.reply(text, times=10, timing={"ttft": 0.0, "tokens_per_second": 1000.0})
    client = fake.anthropic_client(max_retries=0)
    first = create(client, thread={"type": "create"})
    with pytest.raises(anthropic.APIStatusError) as raised:
        if case == "unknown":
            create(client, thread=cont("msg_01Nowhere"))
        elif case == "twice":
            create(client, thread=cont(first.id))
            create(client, thread=cont(first.id))
        elif case == "in flight":
            with client.beta.messages.stream(
                model=MODEL,
                max_tokens=64,
                betas=[BETA],
                messages=[{"role": "user", "content": "More"}],
                thread=cont(first.id),
            ) as streaming:
                next(iter(streaming))  # the continuation is under way
                create(client, thread=cont(first.id))
        elif case == "other model":
            create(client, thread=cont(first.id), model="claude-sonnet-4-6")
        elif case == "fallbacks":
            create(client, thread={"type": "create"}, fallbacks="default")
        else:
            tool = {"name": "lookup", "input_schema": {"type": "object"}}
            create(client, thread=cont(first.id), tools=[tool])
    error = raised.value
    assert type(error).__name__ == error_class
    assert (error.status_code, error.error_code) == (status, code)
    assert error.body["error"]["type"] == (
        "not_found_error" if status == 404 else "invalid_request_error"
    )
    if case == "fallbacks":
        assert error.details.unsupported == ["fallbacks"]


def test_the_threads_page_example_runs() -> None:
    from tests.docs_pages import block

    example = block("how-to/threads.md", "py", "tool_runner")
    exec(compile(example, "how-to/threads.md", "exec"), {})
