"""The journal in Redis: a stream capped by entries and by bytes (one Lua step appends
and drops the oldest), that every process appends to and any one reads whole."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, cast, overload

import redis

from mockspike import _json
from mockspike.state.journal import HIDDEN_FIELDS, Entry, Journal
from mockspike.state.redis.client import guarded

log = logging.getLogger("mockspike")

# Append entry ARGV[1] to stream KEYS[1] (its size counted in KEYS[2]), then drop the oldest
# while over ARGV[2] entries or ARGV[3] bytes (the newest always stays).
_APPEND = """
local size = string.len(ARGV[1])
redis.call('XADD', KEYS[1], '*', 'entry', ARGV[1], 'n', size)
local total = redis.call('INCRBY', KEYS[2], size)
local count = redis.call('XLEN', KEYS[1])
local max_entries, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3])
while count > 1 and (count > max_entries or total > max_bytes) do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local n = 0
  for i = 1, #oldest[2], 2 do
    if oldest[2][i] == 'n' then n = tonumber(oldest[2][i + 1]) end
  end
  redis.call('XDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[2], n)
  count = count - 1
end
return count
"""


@dataclass
class StoredEntry(Entry):
    """A journal entry read back from Redis: its JSON form, as it was written."""

    stored: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return self.stored


def _entry(data: dict[str, Any]) -> StoredEntry:
    """The entry back from its JSON form (`Entry.to_json`: the Python names)."""
    kept = {k: v for k, v in data.items() if k in _STORED_FIELDS}
    return StoredEntry(**kept, _body=data.get("body"), stored=data)


_STORED_FIELDS = frozenset(f.name for f in fields(Entry)) - HIDDEN_FIELDS - {"response", "reply"}
"""The fields an entry's JSON form carries as they are (the response and reply are only
described there)."""


class RedisJournal(Journal):
    """The journal as a capped Redis stream: every process appends, any one reads all."""

    def __init__(self, client: redis.Redis, stream: str, like: Journal) -> None:
        super().__init__(
            max_entries=like.max_entries,
            max_bytes=like.max_bytes,
            summary_bytes=like.summary_bytes,
            redaction=like.redaction,
        )
        self._client = client
        self._stream = stream
        self._append = client.register_script(_APPEND)

    def adopt(self, journal: Journal) -> Journal:
        return RedisJournal(self._client, self._stream, journal)

    def append(self, entry: Entry, raw: bytes = b"") -> None:
        """Write the entry, redacted and summarised as in memory (this process keeps its
        own bounded copy too), within `max_entries` and `max_bytes` of entries' JSON; sent
        once (never re-sent: see the module's doc). A lost or full Redis loses the entry,
        never the answer, and says so in the log."""
        super().append(entry, raw)
        try:
            self._append(
                keys=[self._stream, self._stream + ":bytes"],
                args=[_json.dumps(entry.to_json()).decode(), self.max_entries, self.max_bytes],
            )
        except redis.RedisError as exc:
            full = "maxmemory" in str(exc) or isinstance(exc, redis.exceptions.OutOfMemoryError)
            log.log(
                logging.ERROR if full else logging.WARNING,
                "mockspike: journal entry not written to Redis: %s%s",
                exc,
                " (Redis is at maxmemory: raise it, or keep a smaller journal)" if full else "",
            )

    @guarded
    def _all(self) -> list[Entry]:
        found = cast(list[tuple[str, dict[str, str]]], self._client.xrange(self._stream))
        return [_entry(_json.loads(fields["entry"])) for _, fields in found]

    @guarded
    def clear(self) -> None:
        super().clear()
        self._client.delete(self._stream, self._stream + ":bytes")

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        return self._all()[index]

    @guarded
    def __len__(self) -> int:
        return int(self._client.xlen(self._stream))

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._all())

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def last(self) -> Entry:
        newest = cast(
            list[tuple[str, dict[str, str]]], self._client.xrevrange(self._stream, count=1)
        )
        if not newest:
            raise IndexError("the fake has received no request yet")
        return _entry(_json.loads(newest[0][1]["entry"]))
