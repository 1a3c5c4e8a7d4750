"""The batches store: Message Batches as plain data (`Batch`: its requests, then its
results, and where it stands in its lifecycle), the settings new batches take, and the
holding of a batch while it changes.

Moving a batch through its lifecycle (answering what is due, ending, expiring, archiving)
is the engine's (`engine/batches.py`); a store keeps batches and keeps two changes of one
batch apart: `MemoryBatches` with a lock a batch, `state/redis/batches.py` with a Redis
lock leased to one process (a checkpoint saves the progress and renews the lease).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from mockspike._ids import random_id
from mockspike.model.clock import rfc3339
from mockspike.model.errors import ApiError

EXPIRY_SECONDS = 24 * 3600
RETENTION_SECONDS = 29 * 24 * 3600
OUTCOMES = ("succeeded", "errored", "canceled", "expired")


@dataclass(frozen=True)
class BatchSettings:
    """How batches created from now on are processed (`fake.batches.settings(...)`)."""

    processing_seconds: float = 0.0
    """Time from creation until every request is answered, spread evenly. 0: the first
    look after creation ends the batch. Longer than `expiry_seconds`: the rest expire."""
    canceling_seconds: float = 0.0
    """How long a canceled batch stays `canceling` before it ends."""
    expiry_seconds: float = EXPIRY_SECONDS
    """When an unfinished batch expires (the API: 24 hours). Shorten it to script
    expired requests without advancing a clock by a day."""

    def __post_init__(self) -> None:
        for name in ("processing_seconds", "canceling_seconds", "expiry_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass
class Item:
    custom_id: str
    params: dict[str, Any] | None
    """Dropped once the request is answered: a batch holds its requests or its results."""
    line: bytes | None = None
    """The answered result, as its JSONL line."""
    outcome: str | None = None


@dataclass
class Batch:
    id: str
    key: str
    created_at: float
    settings: BatchSettings
    items: list[Item]
    results_base: str
    answered: int = 0
    cancel_initiated_at: float | None = None
    ended_at: float | None = None
    archived: bool = False
    claimed: int = 0
    """Requests claimed for answering (`answered` up to here: a slice in progress)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    checkpoint: Callable[[Batch], None] | None = field(default=None, repr=False, compare=False)
    """Set by a store that keeps the batch elsewhere: saves it before each slice."""
    stale: bool = field(default=False, repr=False, compare=False)
    """A copy as last saved while another process changes it: shown, never advanced."""

    @property
    def expires_at(self) -> float:
        return self.created_at + self.settings.expiry_seconds

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "canceling" if self.cancel_initiated_at is not None else "in_progress"

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("processing", *OUTCOMES), 0)
        if self.ended_at is None:
            counts["processing"] = len(self.items)
            return counts
        for item in self.items:
            counts[item.outcome or "processing"] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        def at(value: float | None) -> str | None:
            return rfc3339(value) if value is not None else None

        ended = self.ended_at is not None and not self.archived
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": self.counts(),
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at),
            "ended_at": at(self.ended_at),
            "cancel_initiated_at": at(self.cancel_initiated_at),
            "archived_at": at(self.created_at + RETENTION_SECONDS) if self.archived else None,
            "results_url": f"{self.results_base}/v1/messages/batches/{self.id}/results"
            if ended
            else None,
        }

    def cancel(self, now: float) -> None:
        if self.ended_at is None and self.cancel_initiated_at is None:
            self.cancel_initiated_at = now

    def results(self, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
        """The results as JSONL, in chunks of about `chunk_bytes`: a generator, so a large
        batch is never one string in memory."""
        buffer: list[bytes] = []
        size = 0
        for item in self.items:
            line = item.line
            if line is None:
                continue
            buffer.append(line)
            size += len(line)
            if size >= chunk_bytes:
                yield b"".join(buffer)
                buffer, size = [], 0
        if buffer:
            yield b"".join(buffer)

    def to_state(self) -> dict[str, Any]:
        """The batch as plain JSON data, for a shared state."""
        return {
            "id": self.id,
            "key": self.key,
            "created_at": self.created_at,
            "settings": asdict(self.settings),
            "items": [
                [i.custom_id, i.params, i.line.decode() if i.line else None, i.outcome]
                for i in self.items
            ],
            "results_base": self.results_base,
            "answered": self.answered,
            "cancel_initiated_at": self.cancel_initiated_at,
            "ended_at": self.ended_at,
            "archived": self.archived,
            "claimed": self.claimed,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Batch:
        items = [
            Item(cid, params, line.encode() if line else None, outcome)
            for cid, params, line, outcome in data["items"]
        ]
        fields = {k: v for k, v in data.items() if k not in ("settings", "items")}
        return cls(**fields, settings=BatchSettings(**data["settings"]), items=items)


def not_found(batch_id: str) -> ApiError:
    return ApiError(404, f"message_batch_id: {batch_id} not found")


def new_batch(
    requests: list[tuple[str, dict[str, Any]]],
    *,
    key: str,
    now: float,
    base: str,
    settings: BatchSettings,
) -> Batch:
    return Batch(
        id=random_id("msgbatch_01", 24),
        key=key,
        created_at=now,
        settings=settings,
        items=[Item(custom_id, params) for custom_id, params in requests],
        results_base=base,
    )


def changed_settings(settings: BatchSettings, changes: dict[str, Any]) -> BatchSettings:
    """`settings` with `changes` (unknown names fail)."""
    known = set(BatchSettings.__dataclass_fields__)
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(
            f"unknown batch setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return replace(settings, **changes)


class BatchStore(Protocol):
    def configure(self, **changes: Any) -> BatchSettings:
        """Change the settings of batches created from now on; no changes: the current."""
        ...

    def create(
        self, requests: list[tuple[str, dict[str, Any]]], *, key: str, now: float, base: str
    ) -> Batch: ...

    def get(self, batch_id: str) -> Batch:
        """The batch as it is now (the API's 404 when there is none)."""
        ...

    def changing(self, batch_id: str) -> contextlib.AbstractContextManager[Batch]:
        """The batch, kept from every other change (in any process) until the block ends,
        then saved."""
        ...

    def looking(self, batch_id: str) -> contextlib.AbstractContextManager[Batch]:
        """`changing`, to bring the batch up to date for a look: when another process is
        changing it right now, the batch as last saved instead (changes are not kept),
        so a look never waits on another process's work."""
        ...

    def ids(self) -> list[str]:
        """Newest first, as the API lists them."""
        ...

    def delete(self, batch_id: str) -> None: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...


class MemoryBatches:
    """Every batch by id, in creation order, and the settings new batches take: in this
    process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: dict[str, Batch] = {}
        self.settings = BatchSettings()

    def configure(self, **changes: Any) -> BatchSettings:
        self.settings = changed_settings(self.settings, changes)
        return self.settings

    def create(
        self, requests: list[tuple[str, dict[str, Any]]], *, key: str, now: float, base: str
    ) -> Batch:
        batch = new_batch(requests, key=key, now=now, base=base, settings=self.settings)
        with self._lock:
            self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> Batch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise not_found(batch_id)
        return batch

    @contextlib.contextmanager
    def changing(self, batch_id: str) -> Iterator[Batch]:
        batch = self.get(batch_id)
        with batch.lock:
            yield batch

    def looking(self, batch_id: str) -> contextlib.AbstractContextManager[Batch]:
        return self.changing(batch_id)

    def ids(self) -> list[str]:
        with self._lock:
            return list(reversed(self._batches))

    def delete(self, batch_id: str) -> None:
        with self._lock:
            self._batches.pop(batch_id, None)

    def clear(self) -> None:
        with self._lock:
            self._batches.clear()

    def __len__(self) -> int:
        return len(self._batches)
