"""The 2026 request surface, through the engine (no socket, no SDK): beta headers, per-model
facts, the new refusals and the rate-limit headers as the API reports them."""

from __future__ import annotations

from typing import Any

import pytest

from mockspike import _json
from mockspike.engine.engine import Engine
from mockspike.model.wire import WireRequest, WireResponse

HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hi"}],
}


def post(engine: Engine, body: dict[str, Any], beta: str | None = None) -> WireResponse:
    headers = {**HEADERS, **({"anthropic-beta": beta} if beta is not None else {})}
    return engine.handle(WireRequest("POST", "/v1/messages", headers, _json.dumps(body)))


def error(response: WireResponse) -> tuple[int, str]:
    return response.status, _json.loads(response.body)["error"]["message"]


@pytest.fixture
def engine() -> Engine:
    return Engine("anthropic")


def test_known_betas_are_accepted_several_at_once(engine: Engine) -> None:
    beta = "claude-code-20250219, interleaved-thinking-2025-05-14,context-1m-2025-08-07"
    assert post(engine, BODY, beta).status == 200


def test_an_unknown_beta_is_refused_naming_it(engine: Engine) -> None:
    status, message = error(post(engine, BODY, "files-api-2025-04-14,nope-2030-01-01"))
    assert status == 400
    assert message.startswith("Unexpected value(s) `nope-2030-01-01` for the `anthropic-beta`")


def test_context_management_needs_its_beta(engine: Engine) -> None:
    body = {**BODY, "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}}
    assert error(post(engine, body)) == (400, "context_management: Extra inputs are not permitted")
    assert post(engine, body, "context-management-2025-06-27").status == 200


def test_context_1m_beta_widens_the_window_only_where_the_model_has_it(engine: Engine) -> None:
    long = {"role": "user", "content": "word " * 300_000}
    body = {**BODY, "model": "claude-opus-4-6", "messages": [long]}
    assert error(post(engine, body))[1].startswith("prompt is too long")
    assert post(engine, body, "context-1m-2025-08-07").status == 200
    haiku = {**body, "model": "claude-haiku-4-5"}
    assert error(post(engine, haiku, "context-1m-2025-08-07"))[1].startswith("prompt is too long")


def test_haiku_output_cap_differs_by_profile() -> None:
    body = {**BODY, "max_tokens": 64000}
    assert post(Engine("anthropic"), body).status == 200
    assert error(post(Engine("bytespike"), body))[1].startswith("max_tokens: 64000 > 8192")


def test_effort_levels_are_per_model(engine: Engine) -> None:
    on = {**BODY, "model": "claude-sonnet-4-6"}
    assert post(engine, {**on, "output_config": {"effort": "max"}}).status == 200
    assert error(post(engine, {**on, "output_config": {"effort": "xhigh"}})) == (
        400,
        "This model does not support effort level 'xhigh'. "
        "Supported levels: high, low, max, medium.",
    )
    opus = {**BODY, "model": "claude-opus-4-7", "output_config": {"effort": "xhigh"}}
    assert post(engine, opus).status == 200


def test_whitespace_only_text_blocks_are_refused(engine: Engine) -> None:
    body = {**BODY, "messages": [{"role": "user", "content": [{"type": "text", "text": "\n "}]}]}
    assert error(post(engine, body)) == (
        400,
        "messages: text content blocks must contain non-whitespace text",
    )


@pytest.mark.parametrize(
    "content, accepted, message",
    [
        ([{"type": "text", "text": " "}, {"type": "text", "text": "ok"}], True, ""),
        (
            [{"type": "text", "text": " "}, {"type": "text", "text": "\t"}],
            False,
            "contain non-whitespace text",
        ),
        ([{"type": "text", "text": " "}, {"type": "text", "text": ""}], False, "be non-empty"),
    ],
)
def test_blank_and_empty_text_blocks_are_told_apart(
    engine: Engine, content: list[dict[str, Any]], accepted: bool, message: str
) -> None:
    body = {**BODY, "messages": [{"role": "user", "content": content}]}
    answer = post(engine, body)
    assert (answer.status == 200) is accepted
    if not accepted:
        assert error(answer) == (400, f"messages: text content blocks must {message}")


def test_an_empty_system_text_block_is_not_refused_as_blank(engine: Engine) -> None:
    body = {**BODY, "system": [{"type": "text", "text": ""}, {"type": "text", "text": " "}]}
    assert post(engine, body).status == 200
    blank = {**BODY, "system": [{"type": "text", "text": " "}]}
    assert error(post(engine, blank)) == (
        400,
        "system: text content blocks must contain non-whitespace text",
    )


def test_a_tool_result_must_follow_the_assistant_turn_that_used_the_tool(engine: Engine) -> None:
    use = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1"}
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    paired = [
        {"role": "user", "content": "Go"},
        {"role": "assistant", "content": [use]},
        {"role": "user", "content": [result]},
    ]
    assert post(engine, {**BODY, "tools": tools, "messages": paired}).status == 200
    late = [*paired[:2], {"role": "user", "content": "wait"}, {"role": "user", "content": [result]}]
    status, message = error(post(engine, {**BODY, "tools": tools, "messages": late}))
    assert status == 400 and message.startswith("messages.1: `tool_use` ids were found without")
    again = [*paired, {"role": "user", "content": [result]}]
    status, message = error(post(engine, {**BODY, "tools": tools, "messages": again}))
    assert status == 400 and message.startswith("messages.3.content.0: unexpected `tool_use_id`")


def _loop(first: dict[str, Any]) -> dict[str, Any]:
    use = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    return {
        **BODY,
        "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "Go"},
            {"role": "assistant", "content": [first, use] if first else [use]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]},
        ],
    }


def test_a_thinking_tool_loop_must_keep_its_thinking_block(engine: Engine) -> None:
    status, message = error(post(engine, _loop({"type": "text", "text": "Let me check."})))
    assert status == 400
    assert message.startswith(
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`."
    )
    kept = {"type": "thinking", "thinking": "Use f.", "signature": "sig"}
    assert post(engine, _loop(kept)).status == 200


def test_system_role_turns_get_the_apis_message(engine: Engine) -> None:
    body = {**BODY, "messages": [*BODY["messages"], {"role": "system", "content": "Be brief."}]}
    status, message = error(post(engine, body))
    assert (status, message.split(".")[0]) == (400, 'messages: Unexpected role "system"')


def test_models_list_capabilities_and_limits(engine: Engine) -> None:
    response = engine.handle(WireRequest("GET", "/v1/models/claude-sonnet-4-6", HEADERS))
    info = _json.loads(response.body)
    assert (info["max_input_tokens"], info["max_tokens"]) == (1_000_000, 64000)
    assert info["capabilities"]["effort"]["max"] == {"supported": True}
    assert info["capabilities"]["effort"]["xhigh"] == {"supported": False}


def test_tokens_ratelimit_headers_sum_input_and_output(engine: Engine) -> None:
    headers = post(engine, BODY).headers
    limits = [
        int(headers[f"anthropic-ratelimit-{n}-limit"]) for n in ("input-tokens", "output-tokens")
    ]
    assert int(headers["anthropic-ratelimit-tokens-limit"]) == sum(limits)
    left = [
        int(headers[f"anthropic-ratelimit-{n}-remaining"])
        for n in ("input-tokens", "output-tokens")
    ]
    assert int(headers["anthropic-ratelimit-tokens-remaining"]) == sum(left)
