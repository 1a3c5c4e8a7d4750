"""The wallets store in Redis: one hash, a field a key (its balance as text). Spending
is the buckets' `settle`, in the same Lua step as giving back output tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from mockspike.state.redis.client import Connection, guarded


class RedisWallets:
    """`WalletStore` in Redis."""

    def __init__(self, connection: Connection, wallets: Mapping[str, float]) -> None:
        self._client = connection.client
        self.key = connection.prefix + "wallets"
        """The hash the buckets store debits."""
        for key, credits in wallets.items():  # a wallet already shared keeps its balance
            self._client.hsetnx(self.key, key, repr(credits))

    @guarded
    def get(self, key: str) -> float | None:
        value = self._client.hget(self.key, key)
        return None if value is None else float(value)

    @guarded
    def all(self) -> dict[str, float]:
        found = cast(dict[str, str], self._client.hgetall(self.key))
        return {k: float(v) for k, v in found.items()}

    @guarded
    def credit(self, key: str, credits: float) -> float:
        return float(self._client.hincrbyfloat(self.key, key, credits))

    @guarded
    def set(self, key: str, credits: float) -> None:
        self._client.hset(self.key, key, repr(credits))
