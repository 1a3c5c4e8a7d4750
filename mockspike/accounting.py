"""Token estimates and credits: one deterministic estimator for every endpoint.

The estimate is documented in docs/contract.md: about four characters a token, plus a small
fixed overhead a request and a message. `count_tokens`, `usage.input_tokens`, the context
window check and the credits estimate all use it, so they always agree.
"""

from __future__ import annotations

from typing import Any

from . import _json
from .contract.catalog import Model

REQUEST_OVERHEAD = 3
MESSAGE_OVERHEAD = 3
IMAGE_TOKENS = 1600
#: 1 credit is one US cent at list price.
CREDITS_PER_USD = 100


CHARS_PER_TOKEN = 4


def text_tokens(text: str) -> int:
    """Four characters a token, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _block_tokens(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return text_tokens(block.get("text", ""))
    if kind == "image":
        return IMAGE_TOKENS
    if kind == "document":
        source = block.get("source", {})
        if source.get("type") == "text":
            return text_tokens(source.get("data", ""))
        if source.get("type") == "content":
            return content_tokens(source.get("content", ""))
        return IMAGE_TOKENS
    if kind == "tool_use":
        return text_tokens(block.get("name", "")) + text_tokens(
            _json.dumps(block.get("input", {})).decode()
        )
    if kind == "tool_result":
        return MESSAGE_OVERHEAD + content_tokens(block.get("content", ""))
    if kind == "thinking":
        return text_tokens(block.get("thinking", ""))
    if kind == "redacted_thinking":
        return text_tokens(block.get("data", ""))
    return 0


def content_tokens(content: Any) -> int:
    """Tokens of a `content` or `system` value: a string or a list of blocks."""
    if isinstance(content, str):
        return text_tokens(content)
    if isinstance(content, list):
        return sum(_block_tokens(b) for b in content if isinstance(b, dict))
    return 0


def input_tokens(body: dict[str, Any]) -> int:
    """The prompt's size: tools, then system, then messages."""
    total = REQUEST_OVERHEAD
    for tool in body.get("tools") or []:
        total += text_tokens(_json.dumps(tool).decode())
    total += content_tokens(body.get("system"))
    for message in body.get("messages") or []:
        total += MESSAGE_OVERHEAD + content_tokens(message.get("content"))
    return total


def credits(model: Model, input_tokens: int, output_tokens: int) -> float:
    usd = (input_tokens * model.price_input + output_tokens * model.price_output) / 1_000_000
    return usd * CREDITS_PER_USD


def format_credits(value: float) -> str:
    return f"{value:.6f}"
