"""The gateway's mutable state behind one interface: rate-limit buckets, wallets, the prompt
cache, scripted-rule uses, the journal, Message Batches, Files and message threads.

`MemoryState` (the default) keeps it in this process, as fast as plain dicts.
`state/redis.py` keeps it in Redis so several processes behave as one fake. Every
operation that decides something (take tokens, claim a rule's use) is one atomic step of
the state, so two processes never both spend the last token or the last use of a rule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mockspike.gateway.keys import RateLimits
from mockspike.model.errors import ApiError

if TYPE_CHECKING:
    from mockspike.engine.batches import BatchStorage
    from mockspike.engine.files import FileStorage
    from mockspike.engine.threads import ThreadStorage
    from mockspike.script.rules import Claimed, Rule, Script
    from mockspike.state.journal import Journal

BUCKETS = ("requests", "input-tokens", "output-tokens")


class StateUnavailable(ApiError):
    """The shared state cannot be reached: answered as the gateway's retryable 5xx."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            503,
            "The gateway's shared state is unavailable; please retry.",
            headers={"x-should-retry": "true"},
        )
        self.detail = detail


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


def capacities(limits: RateLimits) -> tuple[int, int, int]:
    """The capacities of `BUCKETS`, in that order."""
    return (
        limits.requests_per_minute,
        limits.input_tokens_per_minute,
        limits.output_tokens_per_minute,
    )


@dataclass
class Taken:
    """The result of `State.take`: the buckets after it, and when refused the bucket that
    would wait longest and for how many seconds."""

    buckets: Buckets
    worst: str | None = None
    wait: float = 0.0
    broke: float | None = None
    """When the wallet held less than the estimate: its balance (nothing was taken)."""


STARTED = "started"
"""Every scenario's state until a rule moves it (or it is set)."""


@dataclass
class CachedPrefix:
    tokens: int
    ttl: str
    expires: float


class State(Protocol):
    """What the gateway and the engine change while answering."""

    shared: bool
    """True when other processes see the same state (rules must then be data)."""
    blocking: bool
    """True when its calls wait on the network: async adapters then answer on a worker
    thread, so a round trip never stalls the event loop."""
    journal: Journal

    # rate limits
    def take(
        self,
        key: str,
        limits: RateLimits,
        needs: Mapping[str, float],
        now: float,
        estimate: float = 0.0,
    ) -> Taken:
        """Check the key's wallet holds `estimate` and that every bucket holds its need;
        then, in the same step, take the needs from the buckets."""
        ...

    def settle(
        self, key: str, limits: RateLimits, give_back: float | None, credits: float, now: float
    ) -> Buckets:
        """Return `give_back` output tokens (None: the call was not limited) and debit the
        key's wallet, if it has one, by `credits`; the buckets after it."""
        ...

    def reset_buckets(self) -> None: ...
    def buckets(self, now: float, limits_of: Callable[[str], RateLimits]) -> dict[str, Buckets]:
        """Every key's buckets, refilled to `now`."""
        ...

    # wallets
    def wallet(self, key: str) -> float | None: ...
    def wallets(self) -> dict[str, float]: ...
    def credit(self, key: str, credits: float) -> float: ...
    def set_wallet(self, key: str, credits: float) -> None: ...

    # prompt cache
    def cache_get(self, entry: tuple[str, str, str], ttls: Mapping[str, int], now: float) -> bool:
        """True if `entry` is fresh (and refresh its TTL)."""
        ...

    def cache_put(self, entry: tuple[str, str, str], prefix: CachedPrefix) -> None: ...
    def cache_entries(self, now: float) -> list[tuple[tuple[str, str, str], CachedPrefix]]: ...
    def cache_clear(self) -> None: ...

    # scripted rules
    def claim(self, rule: Rule) -> Claimed | None:
        """Take one use of `rule`: its position in the rule's sequence (0 first) and, for a
        rule in a scenario, the state it saw; None when its uses ran out or its scenario is
        not in the state it needs. A scenario rule's `next_state` is set in the same step.
        Called with the script's lock held."""
        ...

    def scenarios(self) -> dict[str, str]:
        """The state of every scenario that has moved from `STARTED`."""
        ...

    def set_scenario(self, name: str, state: str) -> None: ...
    def reset_scenarios(self) -> None: ...

    def sync(self, script: Script) -> None:
        """Bring `script` up to date with rules other processes added (no-op in memory)."""
        ...

    def store_rules(self, specs: list[dict[str, Any]]) -> None:
        """Share rules in their script-file form, after those shared before (no-op in
        memory)."""
        ...

    def store_script(self, specs: list[dict[str, Any]], digest: str) -> bool:
        """Share a script source's rules in place of the source's rules before them, ahead
        of the rules added otherwise, in one step; False (nothing done) when the rules in
        force already came from a source of this `digest` (processes loading or reloading
        the same files at once store them once). Uses of the other rules are kept."""
        ...

    def clear(self) -> None:
        """Forget the rules, the scenarios' states and the journal."""
        ...

    def close(self) -> None: ...
    def use_journal(self, journal: Journal) -> Journal:
        """The journal to keep, with `journal`'s bounds and redaction."""
        ...

    # batches and files
    def batch_store(self) -> BatchStorage: ...
    def file_store(self, directory: Path | None) -> FileStorage:
        """Where uploads are kept; `directory`: in that folder (memory state only)."""
        ...

    def thread_store(self) -> ThreadStorage:
        """Where server-held message threads are kept (`engine/threads.py`)."""
        ...


class MemoryState:
    """This process's state: today's behaviour and speed. Thread-safe."""

    shared = False
    blocking = False

    def __init__(self, wallets: Mapping[str, float]) -> None:
        from mockspike.state.journal import Journal

        self.journal = Journal()
        self._lock = threading.Lock()
        self._buckets: dict[str, Buckets] = {}
        self._wallets = dict(wallets)
        self._cache: dict[tuple[str, str, str], CachedPrefix] = {}
        self._scenarios: dict[str, str] = {}

    def _buckets_of(self, key: str, limits: RateLimits, now: float) -> Buckets:
        buckets = self._buckets.get(key)
        if buckets is None:
            buckets = self._buckets[key] = {
                name: Bucket(capacity, now)
                for name, capacity in zip(BUCKETS, capacities(limits), strict=True)
            }
        for bucket in buckets.values():
            bucket.refill(now)
        return buckets

    def take(
        self,
        key: str,
        limits: RateLimits,
        needs: Mapping[str, float],
        now: float,
        estimate: float = 0.0,
    ) -> Taken:
        with self._lock:
            balance = self._wallets.get(key)
            if balance is not None and estimate > balance:
                return Taken({}, broke=balance)
            buckets = self._buckets_of(key, limits, now)
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
        self, key: str, limits: RateLimits, give_back: float | None, credits: float, now: float
    ) -> Buckets:
        with self._lock:
            buckets = self._buckets_of(key, limits, now)
            if give_back is not None:
                output = buckets["output-tokens"]
                output.level = min(output.capacity, output.level + give_back)
            if key in self._wallets:
                self._wallets[key] -= credits
            return buckets

    def reset_buckets(self) -> None:
        with self._lock:
            self._buckets.clear()

    def buckets(self, now: float, limits_of: Callable[[str], RateLimits]) -> dict[str, Buckets]:
        with self._lock:
            for buckets in self._buckets.values():
                for bucket in buckets.values():
                    bucket.refill(now)
            return {key: dict(buckets) for key, buckets in self._buckets.items()}

    def wallet(self, key: str) -> float | None:
        return self._wallets.get(key)

    def wallets(self) -> dict[str, float]:
        return dict(self._wallets)

    def credit(self, key: str, credits: float) -> float:
        with self._lock:
            self._wallets[key] = self._wallets.get(key, 0.0) + credits
            return self._wallets[key]

    def set_wallet(self, key: str, credits: float) -> None:
        with self._lock:
            self._wallets[key] = credits

    def cache_get(self, entry: tuple[str, str, str], ttls: Mapping[str, int], now: float) -> bool:
        with self._lock:
            found = self._cache.get(entry)
            if found is None or found.expires <= now:
                return False
            found.expires = now + ttls[found.ttl]
            return True

    def cache_put(self, entry: tuple[str, str, str], prefix: CachedPrefix) -> None:
        with self._lock:
            self._cache[entry] = prefix

    def cache_entries(self, now: float) -> list[tuple[tuple[str, str, str], CachedPrefix]]:
        with self._lock:
            return [(k, v) for k, v in self._cache.items() if v.expires > now]

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def claim(self, rule: Rule) -> Claimed | None:
        if rule.times is not None and rule.call_count >= rule.times:
            return None
        seen = None
        if rule.scenario is not None:
            with self._lock:
                seen = self._scenarios.get(rule.scenario, STARTED)
                if rule.state is not None and seen != rule.state:
                    return None
                if rule.next_state is not None:
                    self._scenarios[rule.scenario] = rule.next_state
        rule.call_count += 1
        return rule.call_count - 1, seen

    def scenarios(self) -> dict[str, str]:
        with self._lock:
            return dict(self._scenarios)

    def set_scenario(self, name: str, state: str) -> None:
        with self._lock:
            self._scenarios[name] = state

    def reset_scenarios(self) -> None:
        with self._lock:
            self._scenarios.clear()

    def sync(self, script: Script) -> None:
        pass

    def store_rules(self, specs: list[dict[str, Any]]) -> None:
        pass

    def store_script(self, specs: list[dict[str, Any]], digest: str) -> bool:
        return True

    def clear(self) -> None:
        with self._lock:
            self._scenarios.clear()
        self.journal.clear()

    def close(self) -> None:
        pass

    def use_journal(self, journal: Journal) -> Journal:
        self.journal = journal
        return journal

    def batch_store(self) -> BatchStorage:
        from mockspike.engine.batches import BatchStore

        return BatchStore()

    def file_store(self, directory: Path | None) -> FileStorage:
        from mockspike.engine.files import FileStore

        return FileStore(directory)

    def thread_store(self) -> ThreadStorage:
        from mockspike.engine.threads import ThreadStore

        return ThreadStore()


def open_state(url: str | None, wallets: Mapping[str, float]) -> State:
    """The state a URL names: None or `memory` in this process, `redis://HOST:PORT/DB`
    shared through Redis."""
    if url is None or url == "memory":
        return MemoryState(wallets)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mockspike.state.redis import RedisState

        return RedisState(url, wallets)
    raise ValueError(f"state is 'memory' or a redis://HOST:PORT/DB URL, not {url!r}")
