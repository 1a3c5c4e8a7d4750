"""What a responder decides: a `Reply`, or one of the two ways to fail (`model/faults.py`):
a `Failure` (an error status) or a `Fault` (the transport breaks).

These are plain values: build them by hand, draw them with Hypothesis, load them from a
script file, or let the synthetic responder make one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from mockspike._ids import random_id
from mockspike.model import blocks
from mockspike.model.faults import Failure, Fault
from mockspike.model.pacing import Pacing
from mockspike.model.tokens import content_tokens


@dataclass
class Reply:
    """What the assistant says: content blocks in API form, why it stopped, its size, and
    the response fields that go with them."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    output_tokens: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    """Overrides merged into the rendered `usage` (e.g. `{"cache_read_input_tokens": 9}`)."""
    stop_details: dict[str, Any] | None = None
    """A refusal's `{"type": "refusal", "category", "explanation"}`; None otherwise."""
    container: dict[str, Any] | None = None
    """The code-execution container (`{"id", "expires_at"}`; a missing `expires_at` is
    filled from the fake's clock when served)."""
    context_management: dict[str, Any] | None = None
    """`{"applied_edits": [...]}` when the request asked for context management."""
    model: str | None = None
    """Overrides the `model` field of the message."""
    timing: Pacing | None = None
    """Overrides the fake's pacing for this reply."""

    def __post_init__(self) -> None:
        blocks.check_stop_reason(self.stop_reason)


Response: TypeAlias = "Reply | Failure | Fault"
"""What a responder decides."""


def make_reply(
    text: str | Reply | None = None,
    *,
    content: list[dict[str, Any]] | None = None,
    stop_reason: str | None = None,
    stop_sequence: str | None = None,
    stop_details: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
    container: dict[str, Any] | bool | None = None,
    context_management: dict[str, Any] | None = None,
    model: str | None = None,
    timing: Pacing | dict[str, Any] | None = None,
) -> Reply:
    """A `Reply` from the friendly arguments of `fake.reply(...)`: any block kind the API
    sends (checked against its shape now, not when served), any of its stop reasons.

    Filled in as the API does: ids, `stop_reason` (`tool_use` after a `tool_use` block),
    a refusal's `stop_details`, `usage.server_tool_use` when the turn ran server tools, and
    the `container` of a code-execution turn (`container=False` leaves it out)."""
    if isinstance(text, Reply):
        return text
    if isinstance(timing, dict):
        timing = Pacing(**timing)
    if text is not None and content is not None:
        raise TypeError("reply() takes text or content=, not both")
    given = [{"type": "text", "text": text}] if text is not None else list(content or [])
    if not given and stop_reason not in ("refusal", "max_tokens", "pause_turn"):
        raise TypeError("reply() needs text or content=[...] blocks")
    content_ = [blocks.complete(block, f"content.{i}") for i, block in enumerate(given)]
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in content_) else "end_turn"
        stop_reason = "stop_sequence" if stop_sequence is not None else stop_reason
    blocks.check_stop_reason(stop_reason)
    if stop_sequence is not None and stop_reason != "stop_sequence":
        raise ValueError("stop_sequence goes with stop_reason='stop_sequence'")
    overrides = dict(usage or {})
    if any(b["type"] == "server_tool_use" for b in content_):
        overrides.setdefault("server_tool_use", blocks.server_tool_requests(content_))
    if container is None or container is True:
        container = (
            {"id": random_id("container_011C", 20)}
            if container or blocks.uses_a_container(content_)
            else None
        )
    return Reply(
        content=content_,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=overrides.pop("output_tokens", max(1, content_tokens(content_))),
        usage=overrides,
        stop_details=blocks.stop_details(stop_reason, stop_details),
        container=container or None,
        context_management=context_management,
        model=model,
        timing=timing,
    )


def tool_use_block(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id or new_tool_id(), "name": name, "input": input}


def new_tool_id() -> str:
    return random_id("toolu_01", 22)
