"""Byte-exact SSE over the wire, the full grammar, and real event-by-event streaming."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from mockspike import MockSpike, Pacing
from tests.conftest import HEADERS, SEED_BODY, call_asgi
from tests.sse_grammar import check_grammar, parse_frames

TOOL = {
    "name": "lookup_order",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "urgent": {"type": "boolean"}},
        "required": ["order_id", "urgent"],
    },
}


def body(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(SEED_BODY)
    out.update(changes)
    return out


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"max_tokens": 7},
        {"stop_sequences": ["###"]},
        {"tools": [TOOL], "tool_choice": {"type": "any"}},
        {"max_tokens": 4000, "thinking": {"type": "enabled", "budget_tokens": 1024}},
    ],
    ids=["text", "max_tokens", "stop_sequence", "tool_use", "thinking"],
)
def test_stream_matches_the_json_reply(http: httpx.Client, changes: dict[str, Any]) -> None:
    plain = http.post("/v1/messages", json=body(**changes)).json()
    with http.stream("POST", "/v1/messages", json=body(stream=True, **changes)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["request-id"].startswith("req_")
        raw = response.read()
    frames = parse_frames(raw)
    assert [name for name, _ in frames].count("ping") >= 1
    built = check_grammar(frames)
    assert built["content"] == plain["content"]
    assert built["stop_reason"] == plain["stop_reason"]
    assert built["stop_sequence"] == plain["stop_sequence"]
    assert built["usage"] == plain["usage"]


def test_first_input_json_delta_is_empty(http: httpx.Client) -> None:
    payload = body(stream=True, tools=[TOOL], tool_choice={"type": "tool", "name": "lookup_order"})
    frames = parse_frames(http.post("/v1/messages", json=payload).content)
    deltas = [d["delta"] for n, d in frames if n == "content_block_delta"]
    assert deltas[0] == {"type": "input_json_delta", "partial_json": ""}
    assert len(deltas) > 1


def test_credits_header_arrives_before_the_first_event(server_url: str) -> None:
    with (
        httpx.Client(base_url=server_url, headers=HEADERS) as client,
        client.stream("POST", "/v1/messages", json=body(stream=True)) as response,
    ):
        credits = response.headers["x-bytespike-estimated-credits"]
        assert float(credits) == pytest.approx((18 * 1.0 + 1024 * 5.0) / 1_000_000 * 100)
        first = next(response.iter_bytes())
    assert first.startswith(b"event: message_start\n")


def test_upstream_profile_sends_no_credits_header(anthropic_server_url: str) -> None:
    response = httpx.post(anthropic_server_url + "/v1/messages", headers=HEADERS, json=body())
    assert "x-bytespike-estimated-credits" not in response.headers


@pytest.mark.anyio
@pytest.mark.parametrize("pacing", [None, Pacing(ttft=0.001, tokens_per_second=1_000_000)])
async def test_body_is_sent_in_whole_frames_each_when_due(pacing: Pacing | None) -> None:
    """Drive the ASGI app directly: no body message splits a frame; frames due together
    share one, and each paced event starts its own."""
    sent = await call_asgi(
        MockSpike(pacing=pacing).app,
        "POST",
        "/v1/messages",
        body=json.dumps(body(stream=True)).encode(),
        headers={**HEADERS, "content-type": "application/json"},
    )
    chunks = [m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")]
    frames = parse_frames(b"".join(chunks))
    check_grammar(frames)
    assert all(chunk.startswith(b"event: ") and chunk.endswith(b"\n\n") for chunk in chunks)
    deltas = sum(n == "content_block_delta" for n, _ in frames)
    leading = [c for c in chunks if c.startswith(b"event: content_block_delta\n")]
    assert len(leading) == (deltas if pacing else 0)
    if pacing is None:
        assert len(chunks) < len(frames)
