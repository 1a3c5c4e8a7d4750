"""Every rule a request can break answers with the gateway's status, type and message,
in the exact envelope, over a real server."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import HEADERS, SEED_BODY

REQUEST_ID = re.compile(r"^req_[0-9A-Za-z]{24}$")
TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}


def body(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(SEED_BODY)
    out.update(changes)
    return out


def assert_error(response: httpx.Response, status: int, type: str, message: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"type", "error", "request_id"}
    assert payload["type"] == "error"
    assert payload["error"] == {"type": type, "message": message}
    assert REQUEST_ID.match(payload["request_id"])
    assert response.headers["request-id"] == payload["request_id"]
    assert response.headers["content-type"] == "application/json"


CASES = [
    pytest.param(
        body(max_tokens=8193),
        400,
        "max_tokens: 8193 > 8192, which is the maximum allowed number of output tokens for "
        "claude-haiku-4-5-20251001",
        id="max_tokens-over-cap",
    ),
    pytest.param(
        {k: v for k, v in SEED_BODY.items() if k != "max_tokens"},
        400,
        "max_tokens: Field required",
        id="missing-field",
    ),
    pytest.param(
        {k: v for k, v in SEED_BODY.items() if k != "messages"},
        400,
        "messages: Field required",
        id="missing-messages",
    ),
    pytest.param(body(foo=1), 400, "foo: Extra inputs are not permitted", id="extra-field"),
    pytest.param(
        body(messages=[{"role": "user", "content": "hi", "name": "x"}]),
        400,
        "messages.0.name: Extra inputs are not permitted",
        id="nested-extra-field",
    ),
    pytest.param(
        body(max_tokens="10"),
        400,
        "max_tokens: Input should be a valid integer",
        id="wrong-type-int",
    ),
    pytest.param(body(model=7), 400, "model: Input should be a valid string", id="wrong-type-str"),
    pytest.param(
        body(stream="yes"), 400, "stream: Input should be a valid boolean", id="wrong-type-bool"
    ),
    pytest.param(
        body(messages={"role": "user"}),
        400,
        "messages: Input should be a valid list",
        id="wrong-type-list",
    ),
    pytest.param(
        body(max_tokens=-1),
        400,
        "max_tokens: Input should be greater than or equal to 0",
        id="max_tokens-negative",
    ),
    pytest.param(
        body(temperature=1.5),
        400,
        "temperature: Input should be less than or equal to 1",
        id="temperature-high",
    ),
    pytest.param(
        body(temperature=-0.1),
        400,
        "temperature: Input should be greater than or equal to 0",
        id="temperature-low",
    ),
    pytest.param(
        body(temperature=0.5, top_p=0.9),
        400,
        "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
        id="temperature-and-top_p",
    ),
    pytest.param(
        body(tools=[{"name": "get weather", "input_schema": {"type": "object"}}]),
        400,
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
        id="tool-name-pattern",
    ),
    pytest.param(
        body(tool_choice={"type": "auto"}),
        400,
        "tool_choice may only be specified while providing tools.",
        id="tool_choice-without-tools",
    ),
    pytest.param(
        body(tools=[TOOL], tool_choice={"type": "tool", "name": "get_time"}),
        400,
        "tool_choice.name: Tool 'get_time' not found in tools",
        id="tool_choice-unknown-tool",
    ),
    pytest.param(
        body(
            tools=[TOOL],
            messages=[
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}}
                    ],
                },
                {"role": "user", "content": "never mind"},
            ],
        ),
        400,
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_01A. Each `tool_use` block must have a corresponding `tool_result` block in the "
        "next message.",
        id="tool_use-without-result",
    ),
    pytest.param(
        body(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01Z", "content": "18C"}
                    ],
                }
            ]
        ),
        400,
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01Z. "
        "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
        "message.",
        id="tool_result-without-use",
    ),
    pytest.param(
        body(messages=[{"role": "user", "content": ""}]),
        400,
        "messages.0: all messages must have non-empty content except for the optional final "
        "assistant message",
        id="empty-user-content",
    ),
    pytest.param(
        body(messages=[{"role": "user", "content": []}]),
        400,
        "messages.0: all messages must have non-empty content except for the optional final "
        "assistant message",
        id="empty-user-list",
    ),
    pytest.param(
        body(messages=[]), 400, "messages: at least one message is required", id="no-messages"
    ),
    pytest.param(
        body(
            system=[
                {"type": "text", "text": f"s{i}", "cache_control": {"type": "ephemeral"}}
                for i in range(5)
            ]
        ),
        400,
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        id="five-cache-breakpoints",
    ),
    pytest.param(
        body(thinking={"type": "enabled", "budget_tokens": 512}, max_tokens=4000),
        400,
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        id="thinking-budget-min",
    ),
    pytest.param(
        body(thinking={"type": "enabled", "budget_tokens": 2048}, max_tokens=2048),
        400,
        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
        "documentation at https://docs.claude.com/en/docs/build-with-claude/"
        "extended-thinking#max-tokens-and-context-window-size",
        id="thinking-budget-vs-max_tokens",
    ),
    pytest.param(
        body(thinking={"type": "enabled", "budget_tokens": 2048}, max_tokens=4096, temperature=0.3),
        400,
        "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
        "documentation at https://docs.claude.com/en/docs/build-with-claude/"
        "extended-thinking#feature-compatibility",
        id="thinking-temperature",
    ),
    pytest.param(
        body(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/bmp", "data": "AAAA"},
                        }
                    ],
                }
            ]
        ),
        400,
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
        "'image/png', 'image/gif' or 'image/webp'",
        id="image-media-type",
    ),
    pytest.param(
        body(messages=[{"role": "user", "content": [{"text": "hi"}]}]),
        400,
        "messages.0.content.0: Unable to extract tag using discriminator 'type'",
        id="block-without-type",
    ),
    pytest.param(
        body(messages=[{"role": "user", "content": [{"type": "text"}]}]),
        400,
        "messages.0.content.0.text.text: Field required",
        id="text-block-without-text",
    ),
    pytest.param(
        body(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x "}]),
        400,
        "messages: final assistant content cannot end with trailing whitespace",
        id="prefill-trailing-space",
    ),
    pytest.param(
        body(messages=[{"role": "user", "content": "word " * 170_000}]),
        400,
        "prompt is too long: 212506 tokens > 200000 maximum",
        id="context-window",
    ),
]


@pytest.mark.parametrize(("payload", "status", "message"), CASES)
def test_contract_rule(http: httpx.Client, payload: Any, status: int, message: str) -> None:
    assert_error(http.post("/v1/messages", json=payload), status, "invalid_request_error", message)


def test_max_tokens_at_the_cap_is_accepted(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=body(max_tokens=8192))
    assert response.status_code == 200
    assert response.json()["stop_reason"] == "end_turn"


def test_unknown_model_is_404(http: httpx.Client) -> None:
    assert_error(
        http.post("/v1/messages", json=body(model="claude-haiku-9")),
        404,
        "not_found_error",
        "model: claude-haiku-9",
    )


def test_missing_key_is_401(server_url: str) -> None:
    response = httpx.post(
        server_url + "/v1/messages", json=SEED_BODY, headers={"anthropic-version": "2023-06-01"}
    )
    assert_error(response, 401, "authentication_error", "x-api-key header is required")


def test_bearer_token_is_accepted(server_url: str) -> None:
    response = httpx.post(
        server_url + "/v1/messages",
        json=SEED_BODY,
        headers={"authorization": "Bearer k", "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 200


def test_unsupported_parameter_is_422_on_the_gateway(http: httpx.Client) -> None:
    assert_error(
        http.post("/v1/messages", json=body(output_config={"effort": "low"})),
        422,
        "invalid_request_error",
        "output_config.effort: this parameter is not supported by model claude-haiku-4-5-20251001",
    )


def test_unsupported_parameter_is_400_upstream(anthropic_server_url: str) -> None:
    response = httpx.post(
        anthropic_server_url + "/v1/messages",
        headers=HEADERS,
        json=body(output_config={"effort": "low"}),
    )
    assert response.status_code == 400


def test_body_not_json(http: httpx.Client) -> None:
    response = http.post(
        "/v1/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The request body is not valid JSON: ")


def test_unknown_path_is_404(http: httpx.Client) -> None:
    assert_error(http.get("/v1/nothing"), 404, "not_found_error", "Not Found")


def test_wrong_method_is_405(http: httpx.Client) -> None:
    assert_error(http.get("/v1/messages"), 405, "invalid_request_error", "Method Not Allowed")


def test_request_id_header_on_success(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=SEED_BODY)
    assert REQUEST_ID.match(response.headers["request-id"])


def test_consecutive_same_role_turns_are_accepted(http: httpx.Client) -> None:
    response = http.post(
        "/v1/messages",
        json=body(
            messages=[{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
        ),
    )
    assert response.status_code == 200


def test_tool_loop_turns_are_accepted(http: httpx.Client) -> None:
    response = http.post(
        "/v1/messages",
        json=body(
            tools=[TOOL],
            messages=[
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {}}
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18C"}
                    ],
                },
            ],
        ),
    )
    assert response.status_code == 200, response.text


# -- the December 2026 surface (anthropic 2.17.0) ------------------------------------------


@pytest.fixture
def upstream(anthropic_server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=anthropic_server_url, headers=HEADERS, timeout=30) as client:
        yield client


def test_max_tokens_zero_warms_the_cache_without_generating(upstream: httpx.Client) -> None:
    """The SDK's `max_tokens` docstring: 0 populates the prompt cache and generates nothing."""
    system = [{"type": "text", "text": "policy " * 3000, "cache_control": {"type": "ephemeral"}}]
    warm = body(model="claude-sonnet-4-6", max_tokens=0, system=system)
    reply = upstream.post("/v1/messages", json=warm).json()
    assert (reply["content"], reply["stop_reason"]) == ([], "max_tokens")
    assert reply["usage"]["output_tokens"] == 0
    assert reply["usage"]["cache_creation_input_tokens"] > 0
    again = upstream.post("/v1/messages", json={**warm, "max_tokens": 100}).json()
    assert (
        again["usage"]["cache_read_input_tokens"] == reply["usage"]["cache_creation_input_tokens"]
    )
    with upstream.stream("POST", "/v1/messages", json={**warm, "stream": True}) as streamed:
        events = [line[7:] for line in streamed.iter_lines() if line.startswith("event: ")]
    assert events == ["message_start", "message_delta", "message_stop"]


def test_a_retired_model_is_answered_as_the_api_answers_it(upstream: httpx.Client) -> None:
    """Sonnet 4.5 reached end of life on 2026-11-30: a request naming it is a 404 worded as for
    an unknown model; `/v1/models` lists it only when retired models are asked for."""
    for name in ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"):
        assert_error(
            upstream.post("/v1/messages", json=body(model=name)),
            404,
            "not_found_error",
            f"model: {name}",
        )
    listed = [m["id"] for m in upstream.get("/v1/models", params={"limit": 100}).json()["data"]]
    assert "claude-sonnet-4-5-20250929" not in listed and "claude-opus-5-5" in listed
    retired = upstream.get("/v1/models?lifecycle[]=retired&limit=100").json()["data"]
    assert {m["id"]: m["lifecycle"] for m in retired} == {
        "claude-sonnet-4-5-20250929": "retired",
        "claude-opus-4-1-20250805": "retired",
        "claude-sonnet-4-20250514": "retired",
    }
    one = upstream.get("/v1/models/claude-sonnet-4-5").json()
    assert (one["lifecycle"], one["retires_at"]) == ("retired", "2026-11-30T00:00:00Z")
    deprecated = upstream.get("/v1/models/claude-opus-4-5").json()
    assert (deprecated["lifecycle"], deprecated["retires_at"]) == (
        "deprecated",
        "2027-01-22T00:00:00Z",
    )
    assert upstream.get("/v1/models?lifecycle[]=dormant").status_code == 400


def test_the_gateway_keeps_its_own_catalog(http: httpx.Client) -> None:
    listed = [m["id"] for m in http.get("/v1/models").json()["data"]]
    assert sorted(listed) == ["claude-haiku-4-5-20251001", "claude-opus-4-7", "claude-sonnet-4-6"]
    assert http.get("/v1/models/claude-haiku-4-5").json()["max_tokens"] == 8192


def test_betas_the_sdks_add_themselves_are_accepted(upstream: httpx.Client) -> None:
    """TS 1.17's `beta.messages.parse()` adds structured-outputs-2025-12-15; both SDKs' OIDC
    federation adds oidc-federation-2026-04-01."""
    for beta in ("structured-outputs-2025-12-15", "oidc-federation-2026-04-01"):
        sent = upstream.post("/v1/messages", json=SEED_BODY, headers={"anthropic-beta": beta})
        assert sent.status_code == 200, sent.text


def test_a_fallback_credit_token_no_refusal_minted_is_refused(upstream: httpx.Client) -> None:
    for token in ("fct_made_up", {"token": "fct_made_up", "mode": "best_effort"}):
        assert_error(
            upstream.post(
                "/v1/messages?beta=true",
                json=body(fallback_credit_token=token),
                headers={"anthropic-beta": "fallback-credit-2026-07-01"},
            ),
            400,
            "invalid_request_error",
            "fallback_credit_token: invalid or malformed",
        )


def test_every_model_the_sdk_lists_is_served_with_its_facts(upstream: httpx.Client) -> None:
    from anthropic.types.model_param import ModelParam

    from tools.drift import literals

    for name in literals(ModelParam):
        info = upstream.get(f"/v1/models/{name}").json()
        assert info["lifecycle"] in ("active", "deprecated"), name
        assert info["max_input_tokens"] >= 200_000 and info["max_tokens"] >= 64_000, name
        sent = upstream.post("/v1/messages", json=body(model=name, max_tokens=16))
        assert sent.status_code == 200, (name, sent.text)
