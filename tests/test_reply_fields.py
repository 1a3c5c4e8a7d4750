"""The reply fields the API returns beside the content, in JSON and in the stream, each
validated against the SDK's own response types: `usage.server_tool_use` when server tools
ran, the top-level `container` of code execution, `usage.output_tokens_details` with
thinking, `context_management` when the request asked for it, and `usage.iterations` with
compaction or a task budget. The stream, accumulated by the SDK, builds the same message as
the JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest

from mockspike import MockSpike

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.skipif(
        not hasattr(anthropic.types, "OutputTokensDetails"),
        reason="this SDK generation predates these reply fields",
    ),
]

MODEL = "claude-haiku-4-5"
PROMPT = [{"role": "user", "content": "What's new with the order?"}]
TOOL = {"name": "get_order", "input_schema": {"type": "object"}}


def web_search(fake: MockSpike) -> dict[str, Any]:
    fake.reply_web_search("order 42 status", ["https://example.com/orders/42"], "It shipped.")
    return {}


def code_execution(fake: MockSpike) -> dict[str, Any]:
    fake.reply_code_execution("print(6 * 7)", stdout="42\n", text="The answer is 42.")
    return {}


def thinking(fake: MockSpike) -> dict[str, Any]:
    fake.reply_tool_use("get_order", {"id": 42})
    return {
        "max_tokens": 4096,
        "tools": [TOOL],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }


def compaction(fake: MockSpike) -> dict[str, Any]:
    return {
        "betas": ["compact-2026-01-12"],
        "context_management": {"edits": [{"type": "compact_20260112"}]},
    }


def task_budget(fake: MockSpike) -> dict[str, Any]:
    return {
        "betas": ["task-budgets-2026-03-13"],
        "output_config": {"task_budget": {"type": "tokens", "total": 20000}},
    }


def has(path: str) -> Callable[[Any], bool]:
    """A check that the dotted `path` of a message is set (not None, not empty)."""

    def check(message: Any) -> bool:
        value = message
        for name in path.split("."):
            value = getattr(value, name, None)
        return value is not None and value != []

    return check


CASES = {
    "server tools": (web_search, ["usage.server_tool_use"]),
    "code execution": (code_execution, ["container", "usage.server_tool_use"]),
    "thinking": (thinking, ["usage.output_tokens_details"]),
    "compaction": (compaction, ["context_management", "usage.iterations"]),
    "task budget": (task_budget, ["usage.iterations"]),
}


def both_ways(client: Any, fields: dict[str, Any]) -> tuple[Any, Any]:
    args = {"model": MODEL, "max_tokens": 1024, "messages": PROMPT, **fields}
    created = client.beta.messages.create(**args)
    with client.beta.messages.stream(**args) as stream:
        streamed = stream.get_final_message()
    return created, streamed


def data(message: Any) -> dict[str, Any]:
    """What the two ways must agree on (each scripted reply has ids of its own)."""
    dumped: dict[str, Any] = message.model_dump(exclude_none=True)
    return {
        "blocks": [block["type"] for block in dumped["content"]],
        "usage": dumped["usage"],
        "stop_reason": dumped["stop_reason"],
        "fields": sorted(dumped),
    }


@pytest.mark.parametrize("profile", ["bytespike", "anthropic"])
@pytest.mark.parametrize("case", list(CASES))
def test_each_reply_field_in_json_and_stream(case: str, profile: str) -> None:
    script, fields = CASES[case]
    fake = MockSpike(profile=profile)
    request = script(fake)
    script(fake)  # once for the JSON, once for the stream
    created, streamed = both_ways(fake.anthropic_client(max_retries=0), request)
    for message in (created, streamed):
        raw = message.model_dump(mode="json", exclude_none=True)
        anthropic.types.beta.BetaMessage.model_validate(raw)
        for field in fields:
            assert has(field)(message), (case, field, raw)
    assert data(created) == data(streamed)


def test_the_fields_validate_as_the_plain_message_too() -> None:
    """The non-beta `Message` type (what `client.messages.create` returns) takes them too."""
    fake = MockSpike(profile="anthropic")
    web_search(fake)
    thinking_fields = thinking(fake)
    client = fake.anthropic_client(max_retries=0)
    searched = client.messages.create(model=MODEL, max_tokens=1024, messages=PROMPT)
    thought = client.messages.create(model=MODEL, messages=PROMPT, **thinking_fields)
    for message in (searched, thought):
        anthropic.types.Message.model_validate(message.model_dump(mode="json"))
    assert searched.usage.server_tool_use.web_search_requests == 1
    assert thought.usage.output_tokens_details.thinking_tokens > 0
