"""The prompt-cache store: which prompt prefixes are cached, by (API key, model, digest of
the prefix), with their size, TTL name and expiry. The cache's rules (breakpoints,
lookback, minimum sizes) are the gateway's (`gateway/cache.py`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

CacheKey = tuple[str, str, str]
"""(API key, model id, digest of the prefix)."""


@dataclass
class CachedPrefix:
    tokens: int
    ttl: str
    expires: float


class CacheStore(Protocol):
    def get(self, entry: CacheKey, ttls: Mapping[str, int], now: float) -> bool:
        """True if `entry` is fresh (and refresh its TTL: `ttls` maps a TTL name to
        seconds)."""
        ...

    def put(self, entry: CacheKey, prefix: CachedPrefix) -> None: ...
    def entries(self, now: float) -> list[tuple[CacheKey, CachedPrefix]]: ...
    def clear(self) -> None: ...


class MemoryCache:
    """Cached prefixes in this process. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[CacheKey, CachedPrefix] = {}

    def get(self, entry: CacheKey, ttls: Mapping[str, int], now: float) -> bool:
        with self._lock:
            found = self._cache.get(entry)
            if found is None or found.expires <= now:
                return False
            found.expires = now + ttls[found.ttl]
            return True

    def put(self, entry: CacheKey, prefix: CachedPrefix) -> None:
        with self._lock:
            self._cache[entry] = prefix

    def entries(self, now: float) -> list[tuple[CacheKey, CachedPrefix]]:
        with self._lock:
            return [(k, v) for k, v in self._cache.items() if v.expires > now]

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
