"""Message Batches: what a batch holds and how it moves through its lifecycle on the
engine's clock (`FakeClock` in tests: advance time instead of sleeping).

A batch is created `in_progress` with every request `processing`. Its requests are
answered in order, spread evenly over `processing_seconds` from creation (0 by default:
all of them are due at once), each when the batch is next looked at (retrieve, list,
cancel, results) — so creating a batch is quick, and the first look after it ends it.
`request_counts` stay `processing` until the batch ends, as the API documents.

- Cancel: the batch is `canceling` for `canceling_seconds`; the requests answered by the
  time it was canceled keep their results, the rest end `canceled`.
- Expiry: 24 hours after creation; requests not answered by then end `expired`.
- Retention: 29 days after creation the batch is archived (`archived_at`) and its results
  are gone.

Answering a request is the engine's business (`Runner`); this module only decides when.
Where batches are kept is the state's (`BatchStorage`): `BatchStore` in this process, or
`state/redis_stores.py` in Redis, where every change of a batch holds a lock so two
processes never answer the same request twice.

Requests are answered in slices of `SLICE`: before a slice, the batch notes it as claimed
(`claimed`) and its store's `checkpoint` saves that (in Redis, and renews the lock's lease).
A process that dies mid-slice thus leaves a claim without results: whoever advances the
batch next ends those requests `errored` (saying why) instead of answering them again, so
no request is answered, journaled or billed twice.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from mockspike import _json
from mockspike._ids import random_id
from mockspike.gateway.limits import rfc3339
from mockspike.model.errors import ApiError, error_body

MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
"""A batch holds at most 100,000 requests or 256 MB, whichever comes first."""
EXPIRY_SECONDS = 24 * 3600
RETENTION_SECONDS = 29 * 24 * 3600
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
OUTCOMES = ("succeeded", "errored", "canceled", "expired")
SLICE = 100
"""Requests answered between two checkpoints of a batch (see the module's doc)."""
LOST = (
    "mockspike: the process answering this request stopped before it saved the answer; "
    "the request was not answered again, so that nothing is answered or billed twice"
)

Runner = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Answers one request (`custom_id`, `params`): its `result` (`succeeded` or `errored`)."""


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

    # -- the lifecycle ------------------------------------------------------------------

    def advance(self, now: float, run: Runner) -> None:
        """Answer what is due by `now`, then end, expire or archive as the time says (call
        it inside `BatchStorage.changing`)."""
        if self.stale:
            return
        if self.ended_at is None:
            self._process(now, run)
        if not self.archived and now >= self.created_at + RETENTION_SECONDS:
            self.archived = True
            for item in self.items:
                item.line = item.params = None

    def _process(self, now: float, run: Runner) -> None:
        stop = min(now, self.expires_at)
        if self.cancel_initiated_at is not None:
            stop = min(stop, self.cancel_initiated_at)
        if self.claimed > self.answered:  # a process died mid-slice: never answer twice
            lost = {
                "type": "errored",
                "error": error_body("api_error", LOST, random_id("req_011C", 20)),
            }
            for item in self.items[self.answered : self.claimed]:
                item.outcome = "errored"
                item.line = _json.dumps({"custom_id": item.custom_id, "result": lost}) + b"\n"
                item.params = None
            self.answered = self.claimed
        due = self._due(stop)
        while self.answered < due:
            self.claimed = min(due, self.answered + SLICE)
            if self.checkpoint is not None:
                self.checkpoint(self)
            for item in self.items[self.answered : self.claimed]:
                assert item.params is not None
                result = run(item.custom_id, item.params)
                item.outcome = result["type"]
                item.line = _json.dumps({"custom_id": item.custom_id, "result": result}) + b"\n"
                item.params = None
                self.answered += 1
        if self.answered == len(self.items):
            done = self.created_at + self.settings.processing_seconds
            if self.cancel_initiated_at is not None:
                done = min(done, self.cancel_initiated_at)
            self.ended_at = min(max(done, self.created_at), now)
        elif self.cancel_initiated_at is not None:
            end = self.cancel_initiated_at + self.settings.canceling_seconds
            if now >= end:
                self._close("canceled", end)
        elif now >= self.expires_at:
            self._close("expired", self.expires_at)

    def _due(self, at: float) -> int:
        """How many requests are answered by `at`."""
        total = len(self.items)
        duration = self.settings.processing_seconds
        if duration <= 0:
            return total
        share = (at - self.created_at) / duration
        return max(0, min(total, int(total * share)))

    def _close(self, outcome: str, at: float) -> None:
        result = {"type": outcome}
        for item in self.items[self.answered :]:
            item.outcome = outcome
            item.line = _json.dumps({"custom_id": item.custom_id, "result": result}) + b"\n"
            item.params = None
        self.ended_at = at

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


class BatchStorage(Protocol):
    """Where the batches live: this process (`BatchStore`) or a shared state."""

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


class BatchStore:
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


def check_requests(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """The `requests` of a create body as (custom_id, params), or the API's 400: the count
    limit, a malformed or repeated `custom_id`, a `params` that is not an object. The
    params themselves are checked per request, when answered, so a bad one becomes an
    `errored` result rather than refusing the batch."""
    if not isinstance(body, dict):
        raise ApiError(400, "Input should be a valid dictionary")
    extra = sorted(set(body) - {"requests"})
    if extra:
        raise ApiError(400, f"{extra[0]}: Extra inputs are not permitted")
    requests = body.get("requests")
    if requests is None:
        raise ApiError(400, "requests: Field required")
    if not isinstance(requests, list):
        raise ApiError(400, "requests: Input should be a valid list")
    if not requests:
        raise ApiError(400, "requests: List should have at least 1 item after validation, not 0")
    if len(requests) > MAX_REQUESTS:
        raise ApiError(
            400,
            f"requests: List should have at most {MAX_REQUESTS} items after validation, "
            f"not {len(requests)}",
        )
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, request in enumerate(requests):
        where = f"requests.{index}"
        if not isinstance(request, dict):
            raise ApiError(400, f"{where}: Input should be a valid dictionary")
        for name in sorted(set(request) - {"custom_id", "params"}):
            raise ApiError(400, f"{where}.{name}: Extra inputs are not permitted")
        custom_id = request.get("custom_id")
        params = request.get("params")
        if custom_id is None:
            raise ApiError(400, f"{where}.custom_id: Field required")
        if not isinstance(custom_id, str):
            raise ApiError(400, f"{where}.custom_id: Input should be a valid string")
        if len(custom_id) > 64:
            raise ApiError(400, f"{where}.custom_id: String should have at most 64 characters")
        if not CUSTOM_ID.match(custom_id):
            raise ApiError(
                400,
                f"{where}.custom_id: String should match pattern '{CUSTOM_ID.pattern}'",
            )
        if custom_id in seen:
            raise ApiError(
                400,
                f"{where}.custom_id: Duplicate custom_id `{custom_id}`; each custom_id must "
                "be unique within a Message Batch.",
            )
        seen.add(custom_id)
        if params is None:
            raise ApiError(400, f"{where}.params: Field required")
        if not isinstance(params, dict):
            raise ApiError(400, f"{where}.params: Input should be a valid dictionary")
        out.append((custom_id, params))
    return out


def too_large() -> ApiError:
    return ApiError(413, f"A Message Batch may be at most {MAX_BYTES // (1024 * 1024)} MB in size.")
