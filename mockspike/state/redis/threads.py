"""The threads store in Redis: a thread is one JSON value a reply (`Record.to_state`), and
beside it what became of the reply: continued (`done`), or claimed by a continuation until
a time. Claiming is one Lua script (a decision, `Connection.decision`), so of two
processes continuing the same reply one is refused."""

from __future__ import annotations

from typing import cast

from mockspike import _json
from mockspike.state.redis.client import Connection, guarded
from mockspike.state.threads import (
    FLIGHT_SECONDS,
    Record,
    already_continued,
    in_flight,
    not_found,
)

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


class RedisThreads:
    """`ThreadStore` in Redis."""

    def __init__(self, connection: Connection) -> None:
        self._client = connection.client
        self._prefix = connection.prefix + "thread:"
        self._set = connection.prefix + "threads"
        # a claim is a decision like a rule's: applied once however often it is re-sent
        self._claim = connection.decision(_CLAIM_THREAD)
        self._release = connection.decision(_RELEASE_THREAD)

    def _next(self, message_id: str) -> str:
        return self._prefix + message_id + ":next"

    @guarded
    def claim(self, message_id: str, now: float) -> Record:
        keys = [self._prefix + message_id, self._next(message_id)]
        found = cast(
            list[str], self._claim(keys=keys, args=[now, now + FLIGHT_SECONDS, KEEP_SECONDS])
        )
        if found[0] == "missing":
            raise not_found(message_id)
        if found[0] == "done":
            raise already_continued(message_id)
        if found[0] == "flight":
            raise in_flight(message_id)
        return Record.from_state(_json.loads(found[1]))

    @guarded
    def keep(self, message_id: str, record: Record, previous: str | None) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.set(self._prefix + message_id, _json.dumps(record.to_state()), ex=KEEP_SECONDS)
        pipe.sadd(self._set, message_id)
        if previous is not None:
            pipe.set(self._next(previous), "done", ex=KEEP_SECONDS)
        pipe.execute()

    @guarded
    def release(self, message_id: str) -> None:
        self._release(keys=[self._next(message_id)], args=[])

    @guarded
    def clear(self) -> None:
        ids = cast(set[str], self._client.smembers(self._set))
        names = [self._prefix + i for i in ids] + [self._next(i) for i in ids]
        self._client.delete(self._set, *names)

    @guarded
    def __len__(self) -> int:
        return int(self._client.scard(self._set))
