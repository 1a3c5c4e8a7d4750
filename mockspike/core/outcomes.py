"""What a responder decides: a `Reply`, a `Failure` (an error status) or a `Fault`
(`core/faults.py`).

These are plain values: build them by hand, draw them with Hypothesis, load them from a
script file, or let the synthetic responder make one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from .._ids import random_id
from ..gateway.accounting import content_tokens
from ..render.pacing import Pacing


@dataclass
class Reply:
    """What the assistant says: content blocks in API form, why it stopped, its size."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    output_tokens: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    """Overrides merged into the rendered `usage` (e.g. `{"cache_read_input_tokens": 9}`)."""
    model: str | None = None
    """Overrides the `model` field of the message."""
    timing: Pacing | None = None
    """Overrides the fake's pacing for this reply."""


@dataclass(frozen=True)
class Failure:
    """Answer with an error status in the exact envelope (type and message default from
    the status). `retry_after` (seconds) sets `retry-after` and `retry-after-ms`."""

    status: int
    type: str | None = None
    message: str | None = None
    headers: dict[str, str] | None = None
    retry_after: float | None = None


if TYPE_CHECKING:
    from .faults import Fault

Response: TypeAlias = "Reply | Failure | Fault"
"""What a responder decides."""


def make_reply(
    text: str | Reply | None = None,
    *,
    content: list[dict[str, Any]] | None = None,
    stop_reason: str | None = None,
    stop_sequence: str | None = None,
    usage: dict[str, Any] | None = None,
    model: str | None = None,
    timing: Pacing | None = None,
) -> Reply:
    """A `Reply` from the friendly arguments of `fake.reply(...)`."""
    if isinstance(text, Reply):
        return text
    if text is not None and content is not None:
        raise TypeError("reply() takes text or content=, not both")
    blocks = [{"type": "text", "text": text}] if text is not None else list(content or [])
    if not blocks:
        raise TypeError("reply() needs text or content=[...] blocks")
    blocks = [_complete(block) for block in blocks]
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        stop_reason = "stop_sequence" if stop_sequence is not None else stop_reason
    overrides = dict(usage or {})
    return Reply(
        content=blocks,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=overrides.pop("output_tokens", max(1, content_tokens(blocks))),
        usage=overrides,
        model=model,
        timing=timing,
    )


def tool_use_block(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id or new_tool_id(), "name": name, "input": input}


def new_tool_id() -> str:
    return random_id("toolu_01", 22)


_BLOCK_FIELDS = {
    "text": {"text"},
    "tool_use": {"name", "input"},
    "thinking": {"thinking"},
    "redacted_thinking": {"data"},
}


def _complete(block: dict[str, Any]) -> dict[str, Any]:
    """Check a scripted block and fill what the API always sends (ids, signatures)."""
    kind = block.get("type")
    if kind not in _BLOCK_FIELDS:
        raise ValueError(
            f"a reply block must have type text, tool_use, thinking or redacted_thinking: {block!r}"
        )
    missing = _BLOCK_FIELDS[kind] - set(block)
    if missing:
        raise ValueError(f"a {kind} block needs {', '.join(sorted(missing))}: {block!r}")
    out = dict(block)
    if kind == "tool_use":
        out.setdefault("id", new_tool_id())
    if kind == "thinking":
        out.setdefault("signature", "mockspike-signature")
    return out
