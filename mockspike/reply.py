"""A reply: the plain value a responder decides and the renderer turns into JSON or SSE."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What the assistant says: content blocks in API form, why it stopped, its cost."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    output_tokens: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
