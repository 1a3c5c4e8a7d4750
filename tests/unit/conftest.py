"""Helpers for the core's unit tests: plain `WireRequest`s into an `Engine`, no socket."""

from __future__ import annotations

import json
from typing import Any

from mockspike import WireRequest, WireResponse

KEY = "sk-unit"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Say hello."}],
}


COUNT_BODY = {k: v for k, v in BODY.items() if k != "max_tokens"}


def post(
    path: str = "/v1/messages", body: Any = None, headers: dict[str, str] | None = None
) -> WireRequest:
    if body is None:
        body = COUNT_BODY if path.endswith("count_tokens") else BODY
    return WireRequest("POST", path, {**HEADERS, **(headers or {})}, json.dumps(body).encode())


def get(path: str, query: str = "") -> WireRequest:
    return WireRequest("GET", path, HEADERS, query=query)


def error(response: WireResponse) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(response.body)
    assert envelope["type"] == "error"
    return dict(envelope["error"])


def body(response: WireResponse) -> bytes:
    return b"".join(chunk for _, chunk in response.iter_chunks())
