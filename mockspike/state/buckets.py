"""The buckets store: each API key's rate-limit buckets (requests, input tokens, output
tokens a minute), and the one decision of the gateway's arithmetic that must be atomic.

`take` checks the key's wallet holds the estimate and that every bucket holds its need,
then takes the needs, in one step; `settle` gives back unused output tokens and debits the
wallet, in one step. So a buckets store works over its wallets store (in memory under
the wallets' lock, in Redis in one Lua script): two processes never both spend the last
token. Capacities are plain numbers, a minute each, in the order of `BUCKETS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from mockspike.state.wallets import MemoryWallets

BUCKETS = ("requests", "input-tokens", "output-tokens")

Capacities = tuple[int, int, int]
"""Requests, input tokens and output tokens a minute (the order of `BUCKETS`)."""


class Bucket:
    """A token bucket refilled continuously: `capacity` a minute."""

    __slots__ = ("capacity", "capacity_text", "level", "updated")

    def __init__(self, capacity: int, now: float, level: float | None = None) -> None:
        self.capacity = capacity
        self.capacity_text = str(capacity)
        self.level = float(capacity) if level is None else level
        self.updated = now

    def refill(self, now: float) -> None:
        elapsed = now - self.updated
        if elapsed > 0:
            self.level = min(self.capacity, self.level + elapsed * self.capacity / 60)
        self.updated = now

    def wait(self, amount: float) -> float:
        """Seconds until `amount` fits (a minute at most: more can never fit)."""
        if amount <= self.level:
            return 0.0
        if amount > self.capacity:
            return 60.0
        return (amount - self.level) * 60 / self.capacity

    def reset_at(self, now: float) -> float:
        return now + (self.capacity - self.level) * 60 / self.capacity


Buckets = dict[str, Bucket]


@dataclass
class Taken:
    """The result of `take`: the buckets after it, and when refused the bucket that would
    wait longest and for how many seconds."""

    buckets: Buckets
    worst: str | None = None
    wait: float = 0.0
    broke: float | None = None
    """When the wallet held less than the estimate: its balance (nothing was taken)."""


class BucketStore(Protocol):
    def take(
        self,
        key: str,
        capacities: Capacities,
        needs: Mapping[str, float],
        now: float,
        estimate: float = 0.0,
    ) -> Taken:
        """Check the key's wallet holds `estimate` and that every bucket holds its need;
        then, in the same step, take the needs from the buckets."""
        ...

    def settle(
        self, key: str, capacities: Capacities, give_back: float | None, credits: float, now: float
    ) -> Buckets:
        """Return `give_back` output tokens (None: the call was not limited) and debit the
        key's wallet, if it has one, by `credits`; the buckets after it."""
        ...

    def reset(self) -> None: ...
    def all(self, now: float, capacities_of: Callable[[str], Capacities]) -> dict[str, Buckets]:
        """Every key's buckets, refilled to `now`."""
        ...


class MemoryBuckets:
    """Buckets in this process, spending from `wallets`. Thread-safe."""

    def __init__(self, wallets: MemoryWallets) -> None:
        self._lock = wallets.lock
        self._wallets = wallets.balances
        self._buckets: dict[str, Buckets] = {}

    def _buckets_of(self, key: str, capacities: Capacities, now: float) -> Buckets:
        buckets = self._buckets.get(key)
        if buckets is None:
            buckets = self._buckets[key] = {
                name: Bucket(capacity, now)
                for name, capacity in zip(BUCKETS, capacities, strict=True)
            }
        for bucket in buckets.values():
            bucket.refill(now)
        return buckets

    def take(
        self,
        key: str,
        capacities: Capacities,
        needs: Mapping[str, float],
        now: float,
        estimate: float = 0.0,
    ) -> Taken:
        with self._lock:
            balance = self._wallets.get(key)
            if balance is not None and estimate > balance:
                return Taken({}, broke=balance)
            buckets = self._buckets_of(key, capacities, now)
            worst, longest = None, 0.0
            for name, amount in needs.items():
                wait = buckets[name].wait(amount)
                if wait > longest:
                    worst, longest = name, wait
            if worst is not None:
                return Taken(buckets, worst, longest)
            for name, amount in needs.items():
                buckets[name].level -= amount
            return Taken(buckets)

    def settle(
        self, key: str, capacities: Capacities, give_back: float | None, credits: float, now: float
    ) -> Buckets:
        with self._lock:
            buckets = self._buckets_of(key, capacities, now)
            if give_back is not None:
                output = buckets["output-tokens"]
                output.level = min(output.capacity, output.level + give_back)
            if key in self._wallets:
                self._wallets[key] -= credits
            return buckets

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def all(self, now: float, capacities_of: Callable[[str], Capacities]) -> dict[str, Buckets]:
        with self._lock:
            for buckets in self._buckets.values():
                for bucket in buckets.values():
                    bucket.refill(now)
            return {key: dict(buckets) for key, buckets in self._buckets.items()}
