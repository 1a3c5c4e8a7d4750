"""A top-level `cache_control` marks the request's last cacheable block: the prefix it writes
is the one an explicit marker there writes, and the same request reads it back."""

from __future__ import annotations

from typing import Any

from mockspike import Engine, FakeClock
from mockspike.gateway.cache import PromptCache
from tests.unit.conftest import BODY

SYSTEM = "You are a support agent for Acme. Keep replies short. " * 500
AUTOMATIC: dict[str, Any] = {**BODY, "system": SYSTEM, "cache_control": {"type": "ephemeral"}}
EXPLICIT: dict[str, Any] = {
    **BODY,
    "system": SYSTEM,
    "messages": [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": BODY["messages"][0]["content"],
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        }
    ],
}


def test_a_top_level_cache_control_caches_up_to_the_last_block() -> None:
    model = Engine().profile.model("claude-haiku-4-5")
    automatic, explicit = PromptCache(FakeClock()), PromptCache(FakeClock())
    first = automatic.use("k", model, AUTOMATIC)
    assert first.in_play and first.write_5m > model.cache_min_tokens
    assert first.write_5m == explicit.use("k", model, EXPLICIT).write_5m
    again = automatic.use("k", model, AUTOMATIC)
    assert again.read == first.write_5m and again.written == 0


def test_without_any_cache_control_nothing_is_cached() -> None:
    cache = PromptCache(FakeClock())
    usage = cache.use("k", Engine().profile.model("claude-haiku-4-5"), {**BODY, "system": SYSTEM})
    assert not usage.in_play and cache.entries() == []


def test_a_later_turn_reads_the_prefix_an_earlier_breakpoint_wrote() -> None:
    """The lookback: the next turn's breakpoint moved on, and the prefix the last turn wrote
    is found within the 20 blocks before it."""
    model = Engine().profile.model("claude-haiku-4-5")
    cache = PromptCache(FakeClock())
    first = cache.use("k", model, AUTOMATIC)
    later = {
        **AUTOMATIC,
        "messages": [
            *AUTOMATIC["messages"],
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "My order is late."},
        ],
    }
    second = cache.use("k", model, later)
    assert second.read == first.write_5m and 0 < second.write_5m < first.write_5m
    far = {
        **later,
        "messages": [
            *later["messages"],
            *[
                {"role": r, "content": f"turn {i}"}
                for i in range(12)
                for r in ("assistant", "user")
            ],
        ],
    }
    # more than 20 items on: the earlier prefixes are out of reach
    assert cache.use("k", model, far).read == 0
