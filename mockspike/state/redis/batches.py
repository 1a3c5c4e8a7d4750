"""The batches store in Redis, so every process pointed at one Redis lists, reads and
processes the same batches.

A batch is one JSON value (`Batch.to_state`: its requests, then its results), listed in
creation order by one Redis list; the settings of new batches are one hash. Every change
of a batch (answering what is due, cancelling) holds a Redis lock on it, loads it, and
saves it before letting go: two processes never answer the same request twice. The lock
is a lease of `LEASE_SECONDS`, renewed at each checkpoint (every `SLICE` requests of
`engine/batches.py`, when the progress is saved too), so a process killed while holding it
costs the others at most that long; a look at a batch another process is changing does
not wait (`looking`): it sees the batch as last saved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Any, cast

import redis
from redis.typing import EncodableT, FieldT

from mockspike import _json
from mockspike.model.errors import ApiError
from mockspike.state.batches import Batch, BatchSettings, changed_settings, new_batch, not_found
from mockspike.state.redis.client import Connection, guarded

LEASE_SECONDS = 10.0
"""How long a batch's lock outlives a process that died holding it (renewed by its holder
at every checkpoint), and how long a change (a cancel) waits for it."""
LOOK_SECONDS = 0.5
"""How long a look waits for the lock before taking the batch as last saved."""


class RedisBatches:
    """`BatchStore` in Redis."""

    def __init__(self, connection: Connection) -> None:
        self._client = connection.client
        self._list = connection.prefix + "batches"
        self._settings_key = connection.prefix + "batches:settings"
        self._prefix = connection.prefix + "batch:"

    @guarded
    def configure(self, **changes: Any) -> BatchSettings:
        settings = changed_settings(self._settings(), changes)
        if changes:
            values: dict[FieldT, EncodableT] = {k: float(v) for k, v in asdict(settings).items()}
            self._client.hset(self._settings_key, mapping=values)
        return settings

    def _settings(self) -> BatchSettings:
        stored = cast(dict[str, str], self._client.hgetall(self._settings_key))
        known = {f.name for f in fields(BatchSettings)}
        return BatchSettings(**{k: float(v) for k, v in stored.items() if k in known})

    @guarded
    def create(
        self, requests: list[tuple[str, dict[str, Any]]], *, key: str, now: float, base: str
    ) -> Batch:
        batch = new_batch(requests, key=key, now=now, base=base, settings=self._settings())
        pipe = self._client.pipeline(transaction=True)
        pipe.set((self._prefix + batch.id), _json.dumps(batch.to_state()))
        pipe.rpush(self._list, batch.id)
        pipe.execute()
        return batch

    @guarded
    def get(self, batch_id: str) -> Batch:
        stored = self._client.get(self._prefix + batch_id)
        if stored is None:
            raise not_found(batch_id)
        return Batch.from_state(_json.loads(cast(str, stored)))

    @contextlib.contextmanager
    def changing(self, batch_id: str) -> Iterator[Batch]:
        with self._holding(batch_id, LEASE_SECONDS, look=False) as batch:
            yield batch

    @contextlib.contextmanager
    def looking(self, batch_id: str) -> Iterator[Batch]:
        with self._holding(batch_id, LOOK_SECONDS, look=True) as batch:
            yield batch

    @contextlib.contextmanager
    def _holding(self, batch_id: str, wait: float, *, look: bool) -> Iterator[Batch]:
        lock = self._client.lock(
            (self._prefix + batch_id) + ":lock", timeout=LEASE_SECONDS, blocking_timeout=wait
        )
        if not guarded(lock.acquire)():
            if look:  # another process is answering it: its progress as last saved
                batch = self.get(batch_id)
                batch.stale = True
                yield batch
                return
            raise ApiError(
                409,
                f"Message Batch {batch_id} is being changed by another process of this fake "
                f"for over {LEASE_SECONDS:g} s; retry.",
                headers={"x-should-retry": "true"},
            )
        try:
            batch = self.get(batch_id)

            def checkpoint(progress: Batch) -> None:
                guarded(lock.extend)(LEASE_SECONDS, replace_ttl=True)
                self._save(progress)

            batch.checkpoint = checkpoint
            yield batch
            self._save(batch)
        finally:
            with contextlib.suppress(redis.RedisError):  # expired, or Redis gone: let it be
                lock.release()

    @guarded
    def _save(self, batch: Batch) -> None:
        # xx: a batch deleted meanwhile stays deleted
        self._client.set((self._prefix + batch.id), _json.dumps(batch.to_state()), xx=True)

    @guarded
    def ids(self) -> list[str]:
        return list(reversed(cast(list[str], self._client.lrange(self._list, 0, -1))))

    @guarded
    def delete(self, batch_id: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self._prefix + batch_id)
        pipe.lrem(self._list, 0, batch_id)
        pipe.execute()

    @guarded
    def clear(self) -> None:
        ids = cast(list[str], self._client.lrange(self._list, 0, -1))
        self._client.delete(self._list, *[self._prefix + i for i in ids])

    @guarded
    def __len__(self) -> int:
        return int(self._client.llen(self._list))
