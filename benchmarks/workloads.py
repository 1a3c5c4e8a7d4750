"""The three request bodies every server benchmark sends, and the answers each server is
set up to give them, so mockspike, the peer and the bare floor answer alike.

- `one_turn`: one user message, a short JSON answer;
- `agent`: a 13-turn agent history (system prompt, two tools, six tool_use / tool_result
  rounds; about 2.3 KB), a short JSON answer;
- `stream`: one user message, `stream: true`, an 8192-token answer as SSE, no pacing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MODEL = "claude-haiku-4-5"
HEADERS = {
    "x-api-key": "bench",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
SHORT_ANSWER = "Logistics — delivery delay."
AGENT_ANSWER = "The order shipped on Monday and arrives Thursday; I have emailed the customer."
LONG_TEXT = " ".join(["word"] * 6552)
"""8190 tokens at mockspike's four characters a token: the 8192-token class."""

ONE_TURN: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Classify this support ticket: My order is late."}],
}


def _agent_body() -> dict[str, Any]:
    tools = [
        {
            "name": "lookup_order",
            "description": "Look up an order's status.",
            "input_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "A-1042"}},
                "required": ["order_id"],
            },
        },
        {
            "name": "send_email",
            "description": "Email the customer.",
            "input_schema": {
                "type": "object",
                "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
                "required": ["subject", "body"],
            },
        },
    ]
    calls = [
        ("lookup_order", {"order_id": "A-1042"}, '{"status": "packed", "warehouse": "Leeds"}'),
        ("lookup_order", {"order_id": "A-1043"}, '{"status": "shipped", "carrier": "DPD"}'),
        ("lookup_order", {"order_id": "A-1044"}, '{"status": "cancelled", "refund": true}'),
        ("lookup_order", {"order_id": "A-1042"}, '{"status": "shipped", "eta": "Thursday"}'),
        ("send_email", {"subject": "Your order", "body": "It ships today."}, "sent"),
        ("send_email", {"subject": "Update", "body": "Arrives Thursday."}, "sent"),
    ]
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Where is my order A-1042? It was due yesterday."}
    ]
    for n, (name, args, result) in enumerate(calls):
        tool_id = f"toolu_01Bench{n:017d}"
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": tool_id, "name": name, "input": args},
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": result}],
            }
        )
    return {
        "model": MODEL,
        "max_tokens": 1024,
        "system": "You are a support agent for an online shop. Use the tools to look up "
        "orders and to write to customers.",
        "tools": tools,
        "messages": messages,
    }


AGENT = _agent_body()
STREAM: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 8192,
    "stream": True,
    "messages": [{"role": "user", "content": "Write the full quarterly report."}],
}


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    body: dict[str, Any]
    unit: str
    bare_path: str
    """Where the bare app serves the same answer as pre-made bytes."""

    @property
    def raw(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


WORKLOADS = [
    Workload("one_turn", "one-turn JSON request", ONE_TURN, "req/s", "/v1/messages"),
    Workload("agent", "13-turn agent request (2.3 KB)", AGENT, "req/s", "/v1/agent"),
    Workload("stream", "8192-token-class stream", STREAM, "streams/s", "/stream"),
]


def mockspike_script() -> dict[str, Any]:
    """Rules for `mockspike serve --script`: the same answers the peer's fixtures give."""
    return {
        "rules": [
            {"match": {"stream": True}, "respond": {"reply": {"text": LONG_TEXT}}},
            {"match": {"tool_result": True}, "respond": {"reply": {"text": AGENT_ANSWER}}},
            {"respond": {"reply": {"text": SHORT_ANSWER}}},
        ]
    }


def unlimited_config() -> dict[str, Any]:
    """A gateway configuration whose limits no benchmark reaches: it measures answers, not
    429s (with the default limits a sustained load is rate-limited within a second)."""
    limits = {
        "requests_per_minute": 10**9,
        "input_tokens_per_minute": 10**12,
        "output_tokens_per_minute": 10**12,
    }
    return {"keys": {"bench": {"rate_limits": limits}}}


def aimock_fixtures(chunk_chars: int) -> dict[str, Any]:
    """aimock fixtures giving the same answers; `chunk_chars` is set so its stream has as
    many text deltas as mockspike's."""
    return {
        "fixtures": [
            {
                "match": {"userMessage": "quarterly report"},
                "response": {"content": LONG_TEXT},
                "chunkSize": chunk_chars,
            },
            {"match": {"hasToolResult": True}, "response": {"content": AGENT_ANSWER}},
            {"match": {"userMessage": "support ticket"}, "response": {"content": SHORT_ANSWER}},
        ]
    }
