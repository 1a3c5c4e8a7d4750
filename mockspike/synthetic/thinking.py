"""Thinking in replies, whoever decided them (a script, a cassette-free default):

- with thinking on (`enabled` or `adaptive`), a reply that calls a tool starts with a
  `thinking` block with a signature, as the model's does: the client's next turn must start
  its assistant turn with that block, and now it can;
- `display: "omitted"` returns each thinking block with an empty `thinking` and its
  signature (the SDK's `display` docstring: "thinking content is redacted but a signature
  is returned for multi-turn continuity");
- `usage.output_tokens_details.thinking_tokens` counts the thinking the reply carries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from typing import Any

from mockspike._json import canonical
from mockspike.model.outcomes import Reply
from mockspike.model.tokens import text_tokens

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_THOUGHT = "The user needs a tool for this; I will call it with the arguments the request gives."
THINKING_BLOCKS = ("thinking", "redacted_thinking")


def mode(body: dict[str, Any]) -> dict[str, Any] | None:
    """The request's thinking config when thinking is on, else None."""
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        return thinking
    return None


def signature(rng: random.Random) -> str:
    """An opaque signature of the API's shape (base64 characters)."""
    return "".join(rng.choice(_ALPHABET) for _ in range(96))


def before_tools(reply: Reply, body: dict[str, Any]) -> Reply:
    """`reply` as a thinking-enabled request gets it: a tool call preceded by thinking,
    thinking shown or omitted as asked, and its thinking tokens counted."""
    thinking = mode(body)
    if thinking is None:
        return reply
    content = reply.content
    added = 0
    calls = any(block["type"] == "tool_use" for block in content)
    if calls and (not content or content[0]["type"] not in THINKING_BLOCKS):
        rng = random.Random(hashlib.sha256(canonical(content)).digest())
        content = [{"type": "thinking", "thinking": _THOUGHT, "signature": signature(rng)}]
        content += reply.content
        added = text_tokens(_THOUGHT)
    if thinking.get("display") == "omitted":
        content = [
            {**block, "thinking": ""} if block["type"] == "thinking" else block for block in content
        ]
    thought = sum(
        text_tokens(block["thinking"]) for block in reply.content if block["type"] == "thinking"
    )
    thinking_tokens = thought + added
    if content is reply.content and not thinking_tokens:
        return reply
    usage = dict(reply.usage)
    output_tokens = reply.output_tokens + added
    if thinking_tokens:
        details = {"thinking_tokens": min(thinking_tokens, output_tokens)}
        usage.setdefault("output_tokens_details", details)
    return dataclasses.replace(reply, content=content, output_tokens=output_tokens, usage=usage)
