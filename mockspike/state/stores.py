"""The mutable state of a fake, as a small table of narrow stores: rate-limit buckets,
wallets, the prompt cache, scripted rules (as data) and scenarios, the journal, Message
Batches, files and message threads.

Each store is an interface with its memory implementation beside it (`state/<store>.py`)
and a Redis twin (`state/redis/<store>.py`): a `Protocol`, or for the journal and files,
whose steps above the storage are the same everywhere, a base class the twin extends
(`Journal`, `FileStore`). Stores keep plain data (specs, records, entries,
numbers), never engine or script objects: what they hold becomes a `Rule` or an answer in
the layer that owns it. `memory_stores()` (the default: this process, as fast as plain
dicts) and `redis_stores(url)` (shared by every process pointed at one Redis) build the
set; a new store is its module, its Redis twin and one field here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mockspike.state.batches import BatchStore, MemoryBatches
from mockspike.state.buckets import BucketStore, MemoryBuckets
from mockspike.state.cache import CacheStore, MemoryCache
from mockspike.state.files import FileStore, MemoryFiles
from mockspike.state.journal import Journal
from mockspike.state.rules import MemoryRules, RuleStore
from mockspike.state.threads import MemoryThreads, ThreadStore
from mockspike.state.wallets import MemoryWallets, WalletStore


def _nothing() -> None:
    pass


@dataclass
class Stores:
    """One store a concern; `shared`: every store is seen by other processes too."""

    buckets: BucketStore
    wallets: WalletStore
    cache: CacheStore
    rules: RuleStore
    journal: Journal
    batches: BatchStore
    files: FileStore
    threads: ThreadStore
    shared: bool = False
    """True when other processes see the same stores (rules must then be data)."""
    blocking: bool = False
    """True when their calls wait on the network: async adapters then answer on a worker
    thread, so a round trip never stalls the event loop."""
    close: Callable[[], None] = _nothing
    """Let go of the connection (a shared set)."""
    turn: Callable[[], contextlib.AbstractContextManager[None]] | None = None
    """A shared set: hold it alone among the test fixtures sharing it (one test at a time)."""

    def use_journal(self, journal: Journal) -> Journal:
        """Keep a journal with `journal`'s bounds and redaction; the one kept."""
        self.journal = self.journal.adopt(journal)
        return self.journal

    def clear(self) -> None:
        """Forget the rules, the scenarios' states and the journal."""
        self.rules.clear()
        self.journal.clear()


def memory_stores(wallets: Mapping[str, float], files_dir: Path | None = None) -> Stores:
    """Every store in this process (`files_dir`: files in that folder, not in memory)."""
    kept = MemoryWallets(wallets)
    return Stores(
        buckets=MemoryBuckets(kept),
        wallets=kept,
        cache=MemoryCache(),
        rules=MemoryRules(),
        journal=Journal(),
        batches=MemoryBatches(),
        files=MemoryFiles(files_dir),
        threads=MemoryThreads(),
    )


def redis_stores(url: str, wallets: Mapping[str, float], *, prefix: str = "mockspike:") -> Stores:
    """Every store in the Redis database at `url`, shared by every process pointed at it
    (`wallets`: the balances of wallets Redis does not hold yet)."""
    import redis

    from mockspike.state.redis.batches import RedisBatches
    from mockspike.state.redis.buckets import RedisBuckets
    from mockspike.state.redis.cache import RedisCache
    from mockspike.state.redis.client import Connection
    from mockspike.state.redis.files import RedisFiles
    from mockspike.state.redis.journal import RedisJournal
    from mockspike.state.redis.rules import RedisRules
    from mockspike.state.redis.threads import RedisThreads
    from mockspike.state.redis.wallets import RedisWallets

    connection = Connection(url, prefix=prefix)
    try:
        kept = RedisWallets(connection, wallets)
    except (redis.RedisError, ConnectionError) as exc:
        connection.close()
        raise ConnectionError(f"cannot reach Redis at {url}: {exc}") from None
    return Stores(
        buckets=RedisBuckets(connection, kept),
        wallets=kept,
        cache=RedisCache(connection),
        rules=RedisRules(connection),
        journal=RedisJournal(connection.client, prefix + "journal", Journal()),
        batches=RedisBatches(connection),
        files=RedisFiles(connection),
        threads=RedisThreads(connection),
        shared=True,
        blocking=True,
        close=connection.close,
        turn=connection.turn,
    )


def open_stores(
    url: str | None, wallets: Mapping[str, float], files_dir: Path | None = None
) -> Stores:
    """The stores a URL names: None or `memory` in this process, `redis://HOST:PORT/DB`
    shared through Redis."""
    if url is None or url == "memory":
        return memory_stores(wallets, files_dir)
    if url.startswith(("redis://", "rediss://", "unix://")):
        if files_dir is not None:
            raise ValueError(
                "files_dir is for the in-process state: with a Redis state, files are kept "
                "in Redis so that every process sees them"
            )
        return redis_stores(url, wallets)
    raise ValueError(f"state is 'memory' or a redis://HOST:PORT/DB URL, not {url!r}")
