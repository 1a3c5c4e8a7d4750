"""What a store answers when it cannot be reached (its own module: every store, the gateway
and the adapters name it, and it names nothing but the error envelope)."""

from __future__ import annotations

from mockspike.model.errors import ApiError


class StateUnavailable(ApiError):
    """The shared state cannot be reached: answered as the gateway's retryable 5xx."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            503,
            "The gateway's shared state is unavailable; please retry.",
            headers={"x-should-retry": "true"},
        )
        self.detail = detail
