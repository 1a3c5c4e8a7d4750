"""Message Batches and Files in Redis, so every process pointed at one Redis lists, reads
and processes the same ones.

- A batch is one JSON value (`Batch.to_state`: its requests, then its results), listed in
  creation order by one Redis list; the settings of new batches are one hash. Every change
  of a batch (answering what is due, cancelling) holds a Redis lock on it, loads it, and
  saves it before letting go: two processes never answer the same request twice. The lock
  is a lease of `LEASE_SECONDS`, renewed at each checkpoint (every `batches.SLICE`
  requests, when the progress is saved too), so a process killed while holding it costs
  the others at most that long; a look at a batch another process is changing does not
  wait (`looking`): it sees the batch as last saved.
- A thread is one JSON value a reply (`Record.to_state`), and beside it what became of the
  reply: continued (`done`), or claimed by a continuation until a time. Claiming is one Lua
  script, so of two processes continuing the same reply one is refused.
- A file is its metadata (a hash field) and its bytes (a key of their own, up to the API's
  500 MB cap, within Redis's default 512 MB value limit), listed in upload order by one
  Redis list. Bytes stay in Redis, so replicas need no shared disk.

Every call goes through `_guarded`: Redis gone is the gateway's retryable 5xx.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from typing import Any, cast

import redis
from redis.typing import EncodableT, FieldT

from mockspike import _json
from mockspike.engine.batches import Batch, BatchSettings, changed_settings, new_batch, not_found
from mockspike.engine.files import FileStorage, StoredFile
from mockspike.engine.files import not_found as file_not_found
from mockspike.engine.threads import Record, already_continued, in_flight
from mockspike.engine.threads import not_found as thread_not_found
from mockspike.model.errors import ApiError
from mockspike.state.redis import _guarded, _Keys

LEASE_SECONDS = 10.0
"""How long a batch's lock outlives a process that died holding it (renewed by its holder
at every checkpoint), and how long a change (a cancel) waits for it."""
LOOK_SECONDS = 0.5
"""How long a look waits for the lock before taking the batch as last saved."""


class RedisBatchStore:
    """`BatchStorage` in Redis."""

    def __init__(self, client: redis.Redis, keys: _Keys) -> None:
        self._client = client
        self._keys = keys

    @_guarded
    def configure(self, **changes: Any) -> BatchSettings:
        settings = changed_settings(self._settings(), changes)
        if changes:
            values: dict[FieldT, EncodableT] = {k: float(v) for k, v in asdict(settings).items()}
            self._client.hset(self._keys.batch_settings, mapping=values)
        return settings

    def _settings(self) -> BatchSettings:
        stored = cast(dict[str, str], self._client.hgetall(self._keys.batch_settings))
        known = {f.name for f in fields(BatchSettings)}
        return BatchSettings(**{k: float(v) for k, v in stored.items() if k in known})

    @_guarded
    def create(
        self, requests: list[tuple[str, dict[str, Any]]], *, key: str, now: float, base: str
    ) -> Batch:
        batch = new_batch(requests, key=key, now=now, base=base, settings=self._settings())
        pipe = self._client.pipeline(transaction=True)
        pipe.set(self._keys.batch(batch.id), _json.dumps(batch.to_state()))
        pipe.rpush(self._keys.batches, batch.id)
        pipe.execute()
        return batch

    @_guarded
    def get(self, batch_id: str) -> Batch:
        stored = self._client.get(self._keys.batch(batch_id))
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
            self._keys.batch(batch_id) + ":lock", timeout=LEASE_SECONDS, blocking_timeout=wait
        )
        if not _guarded(lock.acquire)():
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
                _guarded(lock.extend)(LEASE_SECONDS, replace_ttl=True)
                self._save(progress)

            batch.checkpoint = checkpoint
            yield batch
            self._save(batch)
        finally:
            with contextlib.suppress(redis.RedisError):  # expired, or Redis gone: let it be
                lock.release()

    @_guarded
    def _save(self, batch: Batch) -> None:
        # xx: a batch deleted meanwhile stays deleted
        self._client.set(self._keys.batch(batch.id), _json.dumps(batch.to_state()), xx=True)

    @_guarded
    def ids(self) -> list[str]:
        return list(reversed(cast(list[str], self._client.lrange(self._keys.batches, 0, -1))))

    @_guarded
    def delete(self, batch_id: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self._keys.batch(batch_id))
        pipe.lrem(self._keys.batches, 0, batch_id)
        pipe.execute()

    @_guarded
    def clear(self) -> None:
        ids = cast(list[str], self._client.lrange(self._keys.batches, 0, -1))
        self._client.delete(self._keys.batches, *[self._keys.batch(i) for i in ids])

    @_guarded
    def __len__(self) -> int:
        return int(self._client.llen(self._keys.batches))


class RedisFileStore(FileStorage):
    """`FileStorage` in Redis: metadata in a hash, bytes by id (`raw`: a client that does
    not decode)."""

    def __init__(self, client: redis.Redis, raw: redis.Redis, keys: _Keys) -> None:
        self._client = client
        self._raw = raw
        self._keys = keys

    @_guarded
    def _keep(self, stored: StoredFile, content: bytes) -> None:
        pipe = self._raw.pipeline(transaction=True)
        pipe.set(self._keys.file(stored.id), content)
        pipe.hset(self._keys.files, stored.id, _json.dumps(asdict(stored)))
        pipe.rpush(self._keys.file_order, stored.id)
        pipe.execute()

    @_guarded
    def delete(self, file_id: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.hdel(self._keys.files, file_id)
        pipe.delete(self._keys.file(file_id))
        pipe.lrem(self._keys.file_order, 0, file_id)
        removed, _, _ = pipe.execute()
        if not removed:
            raise file_not_found(file_id)

    @_guarded
    def find(self, file_id: str) -> StoredFile | None:
        stored = self._client.hget(self._keys.files, file_id)
        return None if stored is None else StoredFile(**_json.loads(cast(str, stored)))

    @_guarded
    def content(self, file_id: str) -> bytes:
        content = self._raw.get(self._keys.file(file_id))
        if content is None:
            raise file_not_found(file_id)
        return cast(bytes, content)

    @_guarded
    def list(self) -> list[StoredFile]:
        pipe = self._client.pipeline(transaction=True)
        pipe.lrange(self._keys.file_order, 0, -1)
        pipe.hgetall(self._keys.files)
        order, found = pipe.execute()
        return [StoredFile(**_json.loads(found[i])) for i in order if i in found]

    @_guarded
    def __len__(self) -> int:
        return int(self._client.hlen(self._keys.files))


KEEP_SECONDS = 3600
"""How long Redis keeps a thread's keys: the API deletes a thread within an hour of its last
use; expiry itself is on the fake's clock (`Record.expires`)."""

_CLAIM_THREAD = """
local record = redis.call('GET', KEYS[1])
if not record then return {'missing'} end
if tonumber(cjson.decode(record)['expires']) <= tonumber(ARGV[1]) then return {'missing'} end
local next = redis.call('GET', KEYS[2])
if next == 'done' then return {'done'} end
if next and tonumber(next) > tonumber(ARGV[1]) then return {'flight'} end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return {'ok', record}
"""

_RELEASE_THREAD = """
local next = redis.call('GET', KEYS[1])
if next and next ~= 'done' then redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisThreadStore:
    """`ThreadStorage` in Redis."""

    def __init__(
        self, client: redis.Redis, keys: _Keys, decision: Callable[[str], Callable[..., Any]]
    ) -> None:
        self._client = client
        self._keys = keys
        # a claim is a decision like a rule's: applied once however often it is re-sent
        self._claim = decision(_CLAIM_THREAD)
        self._release = decision(_RELEASE_THREAD)

    @_guarded
    def claim(self, message_id: str, now: float) -> Record:
        from mockspike.engine.threads import FLIGHT_SECONDS

        keys = [self._keys.thread(message_id), self._keys.thread_next(message_id)]
        found = cast(
            list[str], self._claim(keys=keys, args=[now, now + FLIGHT_SECONDS, KEEP_SECONDS])
        )
        if found[0] == "missing":
            raise thread_not_found(message_id)
        if found[0] == "done":
            raise already_continued(message_id)
        if found[0] == "flight":
            raise in_flight(message_id)
        return Record.from_state(_json.loads(found[1]))

    @_guarded
    def keep(self, message_id: str, record: Record, previous: str | None) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.set(self._keys.thread(message_id), _json.dumps(record.to_state()), ex=KEEP_SECONDS)
        pipe.sadd(self._keys.threads, message_id)
        if previous is not None:
            pipe.set(self._keys.thread_next(previous), "done", ex=KEEP_SECONDS)
        pipe.execute()

    @_guarded
    def release(self, message_id: str) -> None:
        self._release(keys=[self._keys.thread_next(message_id)], args=[])

    @_guarded
    def clear(self) -> None:
        ids = cast(set[str], self._client.smembers(self._keys.threads))
        names = [self._keys.thread(i) for i in ids] + [self._keys.thread_next(i) for i in ids]
        self._client.delete(self._keys.threads, *names)

    @_guarded
    def __len__(self) -> int:
        return int(self._client.scard(self._keys.threads))
