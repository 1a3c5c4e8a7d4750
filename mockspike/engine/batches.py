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
What a batch holds is plain data (`state/batches.py`'s `Batch`), kept by the batches store:
in this process, or in Redis, where every change of a batch holds a lock so two processes
never answer the same request twice.

Requests are answered in slices of `SLICE`: before a slice, the batch notes it as claimed
(`claimed`) and its store's `checkpoint` saves that (in Redis, and renews the lock's lease).
A process that dies mid-slice thus leaves a claim without results: whoever advances the
batch next ends those requests `errored` (saying why) instead of answering them again, so
no request is answered, journaled or billed twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mockspike import _json
from mockspike._ids import random_id
from mockspike.model.errors import ApiError, error_body
from mockspike.state.batches import RETENTION_SECONDS, Batch

MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
"""A batch holds at most 100,000 requests or 256 MB, whichever comes first."""
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SLICE = 100
"""Requests answered between two checkpoints of a batch (see the module's doc)."""
LOST = (
    "mockspike: the process answering this request stopped before it saved the answer; "
    "the request was not answered again, so that nothing is answered or billed twice"
)

Runner = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Answers one request (`custom_id`, `params`): its `result` (`succeeded` or `errored`)."""


def advance(batch: Batch, now: float, run: Runner) -> None:
    """Answer what is due by `now`, then end, expire or archive as the time says (call
    it inside the store's `changing`)."""
    if batch.stale:
        return
    if batch.ended_at is None:
        _process(batch, now, run)
    if not batch.archived and now >= batch.created_at + RETENTION_SECONDS:
        batch.archived = True
        for item in batch.items:
            item.line = item.params = None


def _process(batch: Batch, now: float, run: Runner) -> None:
    stop = min(now, batch.expires_at)
    if batch.cancel_initiated_at is not None:
        stop = min(stop, batch.cancel_initiated_at)
    if batch.claimed > batch.answered:  # a process died mid-slice: never answer twice
        lost = {
            "type": "errored",
            "error": error_body("api_error", LOST, random_id("req_011C", 20)),
        }
        for item in batch.items[batch.answered : batch.claimed]:
            item.outcome = "errored"
            item.line = _json.dumps({"custom_id": item.custom_id, "result": lost}) + b"\n"
            item.params = None
        batch.answered = batch.claimed
    due = _due(batch, stop)
    while batch.answered < due:
        batch.claimed = min(due, batch.answered + SLICE)
        if batch.checkpoint is not None:
            batch.checkpoint(batch)
        for item in batch.items[batch.answered : batch.claimed]:
            assert item.params is not None
            result = run(item.custom_id, item.params)
            item.outcome = result["type"]
            item.line = _json.dumps({"custom_id": item.custom_id, "result": result}) + b"\n"
            item.params = None
            batch.answered += 1
    if batch.answered == len(batch.items):
        done = batch.created_at + batch.settings.processing_seconds
        if batch.cancel_initiated_at is not None:
            done = min(done, batch.cancel_initiated_at)
        batch.ended_at = min(max(done, batch.created_at), now)
    elif batch.cancel_initiated_at is not None:
        end = batch.cancel_initiated_at + batch.settings.canceling_seconds
        if now >= end:
            _close(batch, "canceled", end)
    elif now >= batch.expires_at:
        _close(batch, "expired", batch.expires_at)


def _due(batch: Batch, at: float) -> int:
    """How many requests are answered by `at`."""
    total = len(batch.items)
    duration = batch.settings.processing_seconds
    if duration <= 0:
        return total
    share = (at - batch.created_at) / duration
    return max(0, min(total, int(total * share)))


def _close(batch: Batch, outcome: str, at: float) -> None:
    result = {"type": outcome}
    for item in batch.items[batch.answered :]:
        item.outcome = outcome
        item.line = _json.dumps({"custom_id": item.custom_id, "result": result}) + b"\n"
        item.params = None
    batch.ended_at = at


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
