"""Turn a decided reply into the Message object the API returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.outcomes import Reply
from ..gateway.cache import CacheUsage


@dataclass(frozen=True)
class Rendered:
    """Everything both renderings share, so JSON and stream always agree."""

    id: str
    model: str
    reply: Reply
    input_tokens: int
    """Uncached input tokens: the prompt less what the cache read or wrote."""
    full_usage: bool
    cache: CacheUsage = field(default_factory=CacheUsage)

    def usage(self, output_tokens: int) -> dict[str, Any]:
        usage: dict[str, Any] = {"input_tokens": self.input_tokens}
        if self.full_usage or self.cache.in_play:
            usage.update(
                cache_creation_input_tokens=self.cache.written,
                cache_read_input_tokens=self.cache.read,
                cache_creation={
                    "ephemeral_5m_input_tokens": self.cache.write_5m,
                    "ephemeral_1h_input_tokens": self.cache.write_1h,
                },
            )
        usage["output_tokens"] = output_tokens
        if self.full_usage:
            usage["service_tier"] = "standard"
        usage.update(self.reply.usage)
        return usage

    def message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.reply.content,
            "stop_reason": self.reply.stop_reason,
            "stop_sequence": self.reply.stop_sequence,
            "usage": self.usage(self.reply.output_tokens),
        }
