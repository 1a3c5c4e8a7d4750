"""Record real traffic and replay it: the cassette responder and the record-through proxy.

A cassette holds the truth about real traffic, so this stage answers before the fake's own
contract checks: a recorded 400 replays as recorded, and recording forwards the client's
request untouched (its own key included, which never reaches the file).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from .. import _json
from ..contract.errors import ApiError
from ..core.front import CassetteMiss
from ..core.journal import Entry
from ..core.wire import Chunk, StreamBreak, WireRequest, WireResponse
from ..render import sse
from ..settings import CassetteOptions, RecordMode, ReplayTiming
from .format import HOP_HEADERS, Cassette, CassetteError, request_record
from .upstream import MAX_RECORDINGS, QUEUE_TIMEOUT, Flight, Upstream

log = logging.getLogger("mockspike")


class Recorder:
    """Replays from `cassette` and, as `record_mode` allows, records misses via `upstream`.

    Modes, as VCR names them: `none` replays only; `once` records only if the cassette did
    not exist; `new_episodes` replays hits and records misses; `all` records everything,
    replacing the cassette's contents.

    At most `max_recordings` requests are in flight to the upstream; others wait up to
    `queue_timeout` seconds, then get a 529 (see `upstream.Upstream`). A recording that
    cannot be saved (a full disk) still answers the client as the upstream did; the failure
    is logged and noted in the journal entry (`cassette_error`)."""

    def __init__(
        self,
        cassette: Cassette,
        record_mode: RecordMode | str = RecordMode.NONE,
        upstream: str | None = None,
        replay_timing: ReplayTiming | str = ReplayTiming.INSTANT,
        timeout: float = 600.0,
        max_recordings: int = MAX_RECORDINGS,
        queue_timeout: float = QUEUE_TIMEOUT,
    ) -> None:
        mode = RecordMode(record_mode)
        if max_recordings < 1 or queue_timeout < 0:
            raise CassetteError("max_recordings must be at least 1 and queue_timeout >= 0")
        self.cassette = cassette
        self.record_mode = mode.value
        self._upstream = (
            Upstream(
                upstream,
                timeout=timeout,
                max_recordings=max_recordings,
                queue_timeout=queue_timeout,
            )
            if upstream
            else None
        )
        self.upstream = self._upstream.url if self._upstream else None
        """The upstream's base URL as shown: without any credentials it carried."""
        self.replay_timing = ReplayTiming(replay_timing).value
        existed = cassette.path.exists()
        if not existed and mode is RecordMode.NONE:
            raise CassetteError(missing(cassette.path))
        if mode is RecordMode.ALL:
            cassette.clear()
        self.replays = mode is not RecordMode.ALL
        self.records = mode in (RecordMode.NEW_EPISODES, RecordMode.ALL) or (
            mode is RecordMode.ONCE and not existed
        )

    @property
    def blocking(self) -> bool:
        """True when answering may wait on the network (adapters then use a thread)."""
        return self.records and self.upstream is not None

    def describe(self) -> str:
        return f"cassette {self.cassette.path}"

    def handle(self, request: WireRequest, entry: Entry | None = None) -> WireResponse:
        """Replay or record `request`; `entry` (its journal entry) notes a failed save."""
        record = request_record(request.method, request.path, request.headers, request.body)
        if self.replays:
            position = self.cassette.take_position(record, repeat_last=not self.records)
            if position is not None:
                replayed = self._replay(self.cassette.interactions[position]["response"])
                replayed.answered_by = f"cassette interaction {position}"
                return replayed
        if self.records:
            if self.upstream is None:
                raise CassetteMiss(
                    f"mockspike: cassette {self.cassette.path} has no match and there is no "
                    "upstream to record from (give an upstream URL)"
                )
            recorded = self._forward(request, record, entry)
            recorded.answered_by = f"recorded from {self.upstream}"
            return recorded
        raise self.miss(record)

    def miss(self, record: dict[str, Any]) -> CassetteMiss:
        """A clear 400 naming the cassette, the closest recorded request and the diff."""
        closest, diff = self.cassette.closest(record)
        where = f"{record['method']} {record['path']}"
        message = (
            f"mockspike: no interaction in cassette {self.cassette.path} matches {where} "
            f"(record mode {self.record_mode})."
        )
        if closest is None:
            message += " The cassette is empty."
        else:
            message += (
                f" Closest recorded request: {closest['method']} {closest['path']}; "
                "how it differs (- recorded, + sent):\n" + "\n".join(diff)
            )
        return CassetteMiss(message)

    # -- replay -----------------------------------------------------------------------

    def _replay(self, response: dict[str, Any]) -> WireResponse:
        headers = dict(response.get("headers") or {})
        if "events" in response:
            return WireResponse(
                response["status"], headers, stream=self._frames(response["events"])
            )
        body = response.get("body")
        raw = (
            body.encode() if isinstance(body, str) else (b"" if body is None else _json.dumps(body))
        )
        delay = float(response.get("elapsed", 0.0)) if self.replay_timing == "recorded" else 0.0
        return WireResponse(response["status"], headers, raw, delay=delay)

    def _frames(self, events: list[dict[str, Any]]) -> Iterator[Chunk]:
        previous = 0.0
        for event in events:
            data = event["data"]
            delay = (
                max(0.0, event.get("t", 0.0) - previous)
                if self.replay_timing == "recorded"
                else 0.0
            )
            previous = event.get("t", previous)
            yield delay, sse.frame(event["event"], data)

    # -- record -----------------------------------------------------------------------

    def _forward(
        self, request: WireRequest, record: dict[str, Any], entry: Entry | None
    ) -> WireResponse:
        assert self._upstream is not None
        start = time.monotonic()
        flight = self._upstream.send(request)
        upstream = flight.response
        headers = {
            k.lower(): v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS
        }
        if headers.get("content-type", "").startswith("text/event-stream"):
            recording = _Recording(self, flight, record, headers, start, entry)
            return WireResponse(upstream.status_code, headers, blocking=True, stream=recording)
        try:
            raw = upstream.read()
        except httpx.HTTPError as exc:
            raise self._upstream_broke(exc) from None
        finally:
            flight.close()
        response = {
            "status": upstream.status_code,
            "headers": headers,
            "elapsed": round(time.monotonic() - start, 4),
            "body": _json.loads_or_text(raw),
        }
        self.keep(record, response, entry)
        return WireResponse(upstream.status_code, headers, raw)

    def _upstream_broke(self, exc: httpx.HTTPError) -> ApiError:
        assert self._upstream is not None
        message = self._upstream.hide(f"{type(exc).__name__}: {exc}")
        log.warning("mockspike recorder: the upstream %s broke off: %s", self.upstream, message)
        return ApiError(
            502, f"mockspike recorder: the upstream {self.upstream} broke off: {message}"
        )

    def keep(self, record: dict[str, Any], response: dict[str, Any], entry: Entry | None) -> None:
        """Add the interaction and save. A failed save never fails the answer: it is logged
        and noted on the journal entry; the interaction stays in memory for the next save."""
        self.cassette.add(record, response)
        try:
            self.cassette.save()
        except (OSError, CassetteError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            message = (
                f"mockspike recorder: could not save the cassette {self.cassette.path}: "
                f"{reason}. The upstream's answer was passed through, the file on disk is "
                "unchanged, and the next successful save writes this interaction too."
            )
            log.error(message)
            if entry is not None:
                entry.cassette_error = message

    def close(self) -> None:
        if self._upstream is not None:
            self._upstream.close()


class _Recording:
    """The upstream's stream, forwarded chunk by chunk as it arrives and noted event by
    event with its time; kept once complete (a client that leaves early records nothing).
    Closing it, or reaching the end, closes the upstream response and frees its slot."""

    def __init__(
        self,
        recorder: Recorder,
        flight: Flight,
        record: dict[str, Any],
        headers: dict[str, str],
        start: float,
        entry: Entry | None,
    ) -> None:
        self._recorder, self._flight, self._record = recorder, flight, record
        self._headers, self._start, self._entry = headers, start, entry
        self._chunks = flight.response.iter_bytes()
        self._parser = sse.EventParser()
        self._events: list[dict[str, Any]] = []
        self._kept = False

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._flight.close()
            self._keep()
            raise
        except httpx.HTTPError as exc:  # the upstream cut the stream: cut the client's too
            self._flight.close()
            self._recorder._upstream_broke(exc)
            raise StreamBreak from None
        t = round(time.monotonic() - self._start, 4)
        self._events += [
            {"t": t, "event": name, "data": data} for name, data in self._parser.feed(chunk)
        ]
        if self._events and self._events[-1]["data"] == "[DONE]":
            self._keep()  # the OpenAI dialect's last event: its client stops reading here
        return 0.0, chunk

    def _keep(self) -> None:
        """Keep the recording, once."""
        if self._kept:
            return
        self._kept = True
        response = {
            "status": self._flight.response.status_code,
            "headers": self._headers,
            "events": self._events,
        }
        self._recorder.keep(self._record, response, self._entry)

    def close(self) -> None:
        self._flight.close()


def missing(path: Path) -> str:
    """No cassette to replay: say so, and how to record one."""
    return (
        f"no cassette at {path} (record mode none only replays). Record it first: "
        "record_mode='once' (pytest: --mockspike-record-mode once, or the marker's "
        "record_mode), or `mockspike serve --cassette PATH --record-mode once --upstream URL`"
    )


def open_recorder(options: CassetteOptions) -> Recorder:
    """The recorder for a cassette's settings (the file is read now)."""
    cassette = Cassette.load(options.path, **options.cassette_kwargs())
    limits = {
        name: getattr(options, name)
        for name in ("max_recordings", "queue_timeout")
        if getattr(options, name) is not None
    }
    return Recorder(
        cassette, options.record_mode, options.upstream, options.replay_timing, **limits
    )
