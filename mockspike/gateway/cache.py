"""The prompt cache: prefixes in the order tools -> system -> messages, up to each
`cache_control` breakpoint; written on first use, read while fresh (a read refreshes the
TTL); prefixes shorter than the model's minimum are not cached, silently. Kept per API key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from mockspike import _json
from mockspike.contract.catalog import Model
from mockspike.gateway import accounting
from mockspike.model.clock import Clock
from mockspike.state.cache import CachedPrefix, CacheStore, MemoryCache

TTL_SECONDS = {"5m": 300, "1h": 3600}


@dataclass(frozen=True)
class CacheUsage:
    """What one request read from and wrote to the cache, in tokens."""

    read: int = 0
    write_5m: int = 0
    write_1h: int = 0
    in_play: bool = False
    """The request asked for caching (it has a `cache_control` breakpoint)."""

    @property
    def written(self) -> int:
        return self.write_5m + self.write_1h


_UNUSED = CacheUsage()
"""A request without breakpoints (most): one value, not one a request."""


@dataclass(frozen=True)
class _Breakpoint:
    tokens: int
    digest: str
    ttl: str
    earlier: tuple[tuple[int, str], ...] = ()
    """The prefixes ending at the `LOOKBACK` items before it (size, digest), nearest first:
    where a read may also hit."""


LOOKBACK = 20
"""How many blocks before a breakpoint the API looks for an earlier cached prefix (the
prompt-caching docs: "up to 20 blocks before the explicit breakpoint"). Counted in prompt
items: blocks, plus one for each message's turn."""


def breakpoints(body: dict[str, Any]) -> list[_Breakpoint]:
    """Each breakpoint's prefix: its size (the same estimate as `input_tokens`) and a digest
    of its content without the `cache_control` markers. A top-level `cache_control` marks
    the last cacheable block (the SDK's `cache_control` docstring: it "automatically applies
    a cache_control marker to the last cacheable block in the request"): the prompt's last
    item, the final message's last block or its text."""
    prompt = accounting.prompt_of(body)
    automatic = body.get("cache_control")
    if not prompt.marked and not automatic:
        return []
    items = prompt.items
    last = len(items) - 1 if isinstance(automatic, dict) else -1
    hasher = hashlib.sha256(body["model"].encode())
    tokens = accounting.REQUEST_OVERHEAD
    found: list[_Breakpoint] = []
    boundaries: list[tuple[int, str]] = []
    for index, (item_tokens, item) in enumerate(items):
        tokens += item_tokens
        marker = item.get("cache_control") if isinstance(item, dict) else None
        if index == last:
            marker = marker or automatic
        content = (
            {k: v for k, v in item.items() if k != "cache_control"}
            if isinstance(item, dict)
            else item
        )
        hasher.update(_json.canonical(content))
        digest = hasher.hexdigest()
        if marker:
            earlier = tuple(reversed(boundaries[-LOOKBACK:]))
            found.append(_Breakpoint(tokens, digest, marker.get("ttl") or "5m", earlier))
        boundaries.append((tokens, digest))
    return found


class PromptCache:
    """The cache's rules; its entries live in the cache store."""

    def __init__(self, clock: Clock, store: CacheStore | None = None) -> None:
        self.clock = clock
        self.store: CacheStore = store or MemoryCache()

    def use(self, scope: str, model: Model, body: dict[str, Any]) -> CacheUsage:
        """Read the longest fresh cached prefix, write the longer ones."""
        points = breakpoints(body)
        if not points:
            return _UNUSED
        now = self.clock.now()
        read = self._longest_hit(scope, model, points, now)
        written, by_ttl = read, {"5m": 0, "1h": 0}
        for point in points:
            if point.tokens <= read or point.tokens < model.cache_min_tokens:
                continue
            self.store.put(
                (scope, model.id, point.digest),
                CachedPrefix(point.tokens, point.ttl, now + TTL_SECONDS[point.ttl]),
            )
            by_ttl[point.ttl] += point.tokens - written
            written = point.tokens
        return CacheUsage(read, by_ttl["5m"], by_ttl["1h"], in_play=True)

    def _longest_hit(self, scope: str, model: Model, points: list[_Breakpoint], now: float) -> int:
        """The size of the longest fresh cached prefix ending at a breakpoint or in the
        lookback window before one (refreshed as it is read); 0 when none is."""
        candidates: dict[str, int] = {}
        for point in points:
            candidates[point.digest] = point.tokens
            for tokens, digest in point.earlier:
                candidates.setdefault(digest, tokens)
        for digest, tokens in sorted(candidates.items(), key=lambda c: -c[1]):
            if tokens < model.cache_min_tokens:
                break  # nothing this short was ever written
            if self.store.get((scope, model.id, digest), TTL_SECONDS, now):
                return tokens
        return 0

    def entries(self) -> list[dict[str, Any]]:
        """What is cached now: key, model, prefix size, TTL and seconds left."""
        now = self.clock.now()
        return [
            {
                "api_key": scope,
                "model": model,
                "tokens": e.tokens,
                "ttl": e.ttl,
                "expires_in": round(e.expires - now, 3),
            }
            for (scope, model, _), e in self.store.entries(now)
        ]

    def clear(self) -> None:
        self.store.clear()
