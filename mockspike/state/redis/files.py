"""The files store in Redis: a file is its metadata (a hash field) and its bytes (a key of
their own, up to the API's 500 MB cap, within Redis's default 512 MB value limit), listed
in upload order by one Redis list. Bytes stay in Redis, so replicas need no shared disk."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from mockspike import _json
from mockspike.state.files import FileStore, StoredFile, not_found
from mockspike.state.redis.client import Connection, guarded


class RedisFiles(FileStore):
    """`FileStore` in Redis: metadata in a hash, bytes by id (read and written by a client
    that does not decode)."""

    def __init__(self, connection: Connection) -> None:
        self._client = connection.client
        self._raw = connection.raw
        self._metadata = connection.prefix + "files"
        self._order = connection.prefix + "files:order"
        self._prefix = connection.prefix + "file:"

    @guarded
    def keep(self, stored: StoredFile, content: bytes) -> None:
        pipe = self._raw.pipeline(transaction=True)
        pipe.set(self._prefix + stored.id, content)
        pipe.hset(self._metadata, stored.id, _json.dumps(asdict(stored)))
        pipe.rpush(self._order, stored.id)
        pipe.execute()

    @guarded
    def delete(self, file_id: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.hdel(self._metadata, file_id)
        pipe.delete(self._prefix + file_id)
        pipe.lrem(self._order, 0, file_id)
        removed, _, _ = pipe.execute()
        if not removed:
            raise not_found(file_id)

    @guarded
    def find(self, file_id: str) -> StoredFile | None:
        stored = self._client.hget(self._metadata, file_id)
        return None if stored is None else StoredFile(**_json.loads(cast(str, stored)))

    @guarded
    def content(self, file_id: str) -> bytes:
        content = self._raw.get(self._prefix + file_id)
        if content is None:
            raise not_found(file_id)
        return cast(bytes, content)

    @guarded
    def list(self) -> list[StoredFile]:
        pipe = self._client.pipeline(transaction=True)
        pipe.lrange(self._order, 0, -1)
        pipe.hgetall(self._metadata)
        order, found = pipe.execute()
        return [StoredFile(**_json.loads(found[i])) for i in order if i in found]

    @guarded
    def __len__(self) -> int:
        return int(self._client.hlen(self._metadata))
