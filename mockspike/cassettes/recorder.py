"""Record real traffic and replay it: the cassette responder and the record-through proxy.

A cassette holds the truth about real traffic, so this stage answers before the fake's own
contract checks: a recorded 400 replays as recorded, and recording forwards the client's
request untouched (its own key included, which never reaches the file).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from mockspike import _json
from mockspike.cassettes.format import HOP_HEADERS, Cassette, CassetteError, request_record
from mockspike.cassettes.storage import HEADER_NAME, HEADER_VALUE, check_shape
from mockspike.cassettes.upstream import (
    MAX_ANSWER_BYTES,
    MAX_RECORDINGS,
    QUEUE_TIMEOUT,
    Flight,
    Upstream,
    watching,
)
from mockspike.model.cassette import CassetteMiss, Notes
from mockspike.model.errors import ApiError
from mockspike.model.wire import Chunk, StreamBreak, WireRequest, WireResponse
from mockspike.render import sse
from mockspike.settings import CassetteOptions, RecordMode, ReplayTiming

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

    @property
    def credentialed(self) -> bool:
        return self.records and self._upstream is not None and self._upstream.credentialed

    def forwards(self, request: WireRequest) -> bool:
        if not self.records or self.upstream is None:
            return False
        if not self.replays:
            return True
        record = request_record(request.method, request.path, request.headers, request.body)
        return not self.cassette.has_turn(record, repeat_last=False)

    def describe(self) -> str:
        return f"cassette {self.cassette.path}"

    def handle(self, request: WireRequest, entry: Notes | None = None) -> WireResponse:
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
        self, request: WireRequest, record: dict[str, Any], entry: Notes | None
    ) -> WireResponse:
        assert self._upstream is not None
        start = time.monotonic()
        flight = self._upstream.send(request, request.gone)
        upstream = flight.response
        headers = _headers_of(upstream)
        if headers.get("content-type", "").startswith("text/event-stream"):
            recording = _Recording(self, flight, record, headers, start, entry, request.gone)
            return WireResponse(upstream.status_code, headers, blocking=True, stream=recording)
        try:
            with watching(request.gone):
                raw = self._read_bounded(upstream)
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

    def _read_bounded(self, upstream: httpx.Response) -> bytes:
        """The body, decoded, up to `MAX_ANSWER_BYTES` (past it: a 502, nothing kept)."""
        parts: list[bytes] = []
        size = 0
        for part in upstream.iter_bytes():
            size += len(part)
            if size > MAX_ANSWER_BYTES:
                message = (
                    f"mockspike recorder: the upstream {self.upstream}'s answer is over "
                    f"{MAX_ANSWER_BYTES:,} bytes decoded (content-encoding "
                    f"{upstream.headers.get('content-encoding', 'none')!r}); it was cut, not "
                    "passed on or recorded"
                )
                log.warning(message)
                raise ApiError(502, message)
            parts.append(part)
        return b"".join(parts)

    def _upstream_broke(self, exc: httpx.HTTPError) -> ApiError:
        assert self._upstream is not None
        message = self._upstream.hide(f"{type(exc).__name__}: {exc}")
        log.warning("mockspike recorder: the upstream %s broke off: %s", self.upstream, message)
        return ApiError(
            502, f"mockspike recorder: the upstream {self.upstream} broke off: {message}"
        )

    def keep(self, record: dict[str, Any], response: dict[str, Any], entry: Notes | None) -> None:
        """Add the interaction and save. A failed save never fails the answer: it is logged
        and noted on the journal entry; the interaction stays in memory for the next save.
        An interaction the cassette's own shape check would refuse is not kept at all (so
        the file never becomes one that `mockspike cassette` tools refuse)."""
        try:
            check_shape(
                {"version": 1, "interactions": [{"request": record, "response": response}]}, ""
            )
        except CassetteError as exc:
            message = (
                f"mockspike recorder: not recorded in {self.cassette.path}: the upstream's "
                f"answer would make it {str(exc).removeprefix(': ')}"
            )
            log.error(message)
            if entry is not None:
                entry.cassette_error = message
            return
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
        entry: Notes | None,
        gone: threading.Event | None,
    ) -> None:
        self._recorder, self._flight, self._record = recorder, flight, record
        self._gone = gone
        self._headers, self._start, self._entry = headers, start, entry
        self._chunks = flight.response.iter_bytes()
        self._parser = sse.EventParser()
        self._events: list[dict[str, Any]] = []
        self._size = 0
        self._kept = False

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        try:
            with watching(self._gone):
                chunk = next(self._chunks)
        except StopIteration:
            self._flight.close()
            self._keep()
            raise
        except httpx.HTTPError as exc:  # the upstream cut the stream: cut the client's too
            self._flight.close()
            self._recorder._upstream_broke(exc)
            raise StreamBreak from None
        self._size += len(chunk)
        if self._size > MAX_ANSWER_BYTES:  # a bomb: cut it, record nothing
            self._flight.close()
            log.warning(
                "mockspike recorder: the upstream %s's stream is over %s bytes decoded; "
                "it was cut and not recorded",
                self._recorder.upstream,
                f"{MAX_ANSWER_BYTES:,}",
            )
            raise StreamBreak
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


_TOKEN = re.compile(HEADER_NAME)
_LINE = re.compile(HEADER_VALUE)


def _headers_of(upstream: httpx.Response) -> dict[str, str]:
    """The upstream's headers as HTTP carries them: bytes read as latin-1, so a UTF-8 value
    goes back to the client (and into the cassette) byte for byte; hop-by-hop headers, and
    any a cassette could not hold (a name that is no token, a control character), left out;
    a repeated name joined with commas."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in upstream.headers.raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in HOP_HEADERS or not _TOKEN.match(name) or not _LINE.match(value):
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


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
