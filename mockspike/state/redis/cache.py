"""The prompt-cache store in Redis: a key an entry (`tokens ttl`), with Redis's own TTL
as its expiry, refreshed when read."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import cast

from mockspike.state.cache import CachedPrefix, CacheKey
from mockspike.state.redis.client import Connection, guarded


class RedisCache:
    """`CacheStore` in Redis."""

    def __init__(self, connection: Connection) -> None:
        self._client = connection.client
        self._prefix = connection.prefix + "cache:"

    def _name(self, entry: CacheKey) -> str:
        return self._prefix + "|".join(entry)

    @guarded
    def get(self, entry: CacheKey, ttls: Mapping[str, int], now: float) -> bool:
        name = self._name(entry)
        value = cast(str | None, self._client.get(name))
        if value is None:
            return False
        ttl = value.split(" ")[1]
        self._client.expire(name, ttls[ttl])
        return True

    @guarded
    def put(self, entry: CacheKey, prefix: CachedPrefix) -> None:
        seconds = max(1, round(prefix.expires - time.time()))
        self._client.set(self._name(entry), f"{prefix.tokens} {prefix.ttl}", ex=seconds)

    @guarded
    def entries(self, now: float) -> list[tuple[CacheKey, CachedPrefix]]:
        found: list[tuple[CacheKey, CachedPrefix]] = []
        for name in self._client.scan_iter(match=self._name(("*", "*", "*")), count=500):
            pipe = self._client.pipeline()
            pipe.get(name)
            pipe.pttl(name)
            value, left = pipe.execute()
            if value is None or left < 0:
                continue
            tokens, ttl = value.split(" ")
            scope, model, digest = name.removeprefix(self._prefix).rsplit("|", 2)
            found.append(
                ((scope, model, digest), CachedPrefix(int(tokens), ttl, now + left / 1000))
            )
        return found

    @guarded
    def clear(self) -> None:
        for name in self._client.scan_iter(match=self._name(("*", "*", "*")), count=500):
            self._client.delete(name)
