"""Turn a decided reply into the Message object the API returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockspike.gateway.cache import CacheUsage
from mockspike.model.outcomes import Reply


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
    inference_geo: str = "global"
    """Where the model ran (`usage.inference_geo`): the request's `inference_geo`, or the
    API's default."""
    iterations: bool = False
    """Report `usage.iterations` (one `message` iteration: the fake samples once), as the
    API does for requests with compaction or a task budget."""

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
        if "server_tool_use" in self.reply.usage:
            usage["server_tool_use"] = None  # its place in the API's key order
        if self.full_usage:
            usage["service_tier"] = "standard"
            usage["inference_geo"] = self.inference_geo
        if self.iterations:
            usage["iterations"] = [
                {
                    "type": "message",
                    "model": self.model,
                    "input_tokens": self.input_tokens,
                    "output_tokens": output_tokens,
                    "cache_creation_input_tokens": self.cache.written,
                    "cache_read_input_tokens": self.cache.read,
                }
            ]
        usage.update(self.reply.usage)
        return usage

    def message(self) -> dict[str, Any]:
        """The Message in the API's key order (recorded traffic: `model` first, then `id`,
        …, `stop_details`, `usage`); `container` and `context_management` when present."""
        reply = self.reply
        message = {
            "model": self.model,
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "content": reply.content,
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "stop_details": reply.stop_details,
            "usage": self.usage(reply.output_tokens),
        }
        if reply.container is not None:
            message["container"] = reply.container
        if reply.context_management is not None:
            message["context_management"] = reply.context_management
        return message
