"""Record real traffic and replay it: the cassette responder and the record-through proxy.

A cassette holds the truth about real traffic, so this stage answers before the fake's own
contract checks: a recorded 400 replays as recorded, and recording forwards the client's
request untouched (its own key included, which never reaches the file).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from .. import _json
from ..contract.errors import ApiError
from ..core.front import CassetteMiss
from ..core.wire import Chunk, WireRequest, WireResponse
from ..render import sse
from ..settings import CassetteOptions, RecordMode, ReplayTiming
from .format import HOP_HEADERS, Cassette, request_record

_NOT_FORWARDED = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"}
)


class Recorder:
    """Replays from `cassette` and, as `record_mode` allows, records misses via `upstream`.

    Modes, as VCR names them: `none` replays only; `once` records only if the cassette did
    not exist; `new_episodes` replays hits and records misses; `all` records everything,
    replacing the cassette's contents."""

    def __init__(
        self,
        cassette: Cassette,
        record_mode: RecordMode | str = RecordMode.NONE,
        upstream: str | None = None,
        replay_timing: ReplayTiming | str = ReplayTiming.INSTANT,
        timeout: float = 600.0,
    ) -> None:
        mode = RecordMode(record_mode)
        self.cassette = cassette
        self.record_mode = mode.value
        self.upstream = upstream.rstrip("/") if upstream else None
        self.replay_timing = ReplayTiming(replay_timing).value
        existed = cassette.path.exists()
        if mode is RecordMode.ALL:
            cassette.clear()
        self.replays = mode is not RecordMode.ALL
        self.records = mode in (RecordMode.NEW_EPISODES, RecordMode.ALL) or (
            mode is RecordMode.ONCE and not existed
        )
        self._client = (
            httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0)) if upstream else None
        )

    @property
    def blocking(self) -> bool:
        """True when answering may wait on the network (adapters then use a thread)."""
        return self.records and self.upstream is not None

    def handle(self, request: WireRequest) -> WireResponse:
        record = request_record(request.method, request.path, request.headers, request.body)
        if self.replays:
            hit = self.cassette.take(record, repeat_last=not self.records)
            if hit is not None:
                return self._replay(hit["response"])
        if self.records:
            if self.upstream is None:
                raise CassetteMiss(
                    f"mockspike: cassette {self.cassette.path} has no match and there is no "
                    "upstream to record from (give an upstream URL)"
                )
            return self._forward(request, record)
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

    def _forward(self, request: WireRequest, record: dict[str, Any]) -> WireResponse:
        assert self._client is not None and self.upstream is not None
        url = self.upstream + request.path + (f"?{request.query}" if request.query else "")
        headers = {k: v for k, v in request.headers.items() if k not in _NOT_FORWARDED}
        outgoing = self._client.build_request(
            request.method,
            url,
            headers=headers,
            content=request.body,
            extensions={"mockspike_upstream": True},
        )
        start = time.monotonic()
        try:
            upstream = self._client.send(outgoing, stream=True)
        except httpx.TimeoutException:
            raise ApiError(
                504, f"mockspike recorder: the upstream {self.upstream} timed out"
            ) from None
        except httpx.HTTPError as exc:
            raise ApiError(
                502, f"mockspike recorder: cannot reach the upstream {self.upstream}: {exc}"
            ) from None
        headers_out = {
            k.lower(): v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS
        }
        if not headers_out.get("content-type", "").startswith("text/event-stream"):
            try:
                raw = upstream.read()
            finally:
                upstream.close()
            response = {
                "status": upstream.status_code,
                "headers": headers_out,
                "elapsed": round(time.monotonic() - start, 4),
                "body": _json.loads_or_text(raw),
            }
            self._keep(record, response)
            return WireResponse(upstream.status_code, headers_out, raw)
        return WireResponse(
            upstream.status_code,
            headers_out,
            blocking=True,
            stream=self._pass_through(upstream, record, headers_out, start),
        )

    def _pass_through(
        self,
        upstream: httpx.Response,
        record: dict[str, Any],
        headers: dict[str, str],
        start: float,
    ) -> Iterator[Chunk]:
        """Forward the stream chunk by chunk as it arrives; note each event's time; keep the
        interaction once the stream is complete (a client that leaves early records nothing)."""
        parser = sse.EventParser()
        events: list[dict[str, Any]] = []
        try:
            for chunk in upstream.iter_bytes():
                t = round(time.monotonic() - start, 4)
                events += [
                    {"t": t, "event": name, "data": data} for name, data in parser.feed(chunk)
                ]
                yield 0.0, chunk
        finally:
            upstream.close()
        self._keep(record, {"status": upstream.status_code, "headers": headers, "events": events})

    def _keep(self, record: dict[str, Any], response: dict[str, Any]) -> None:
        self.cassette.add(record, response)
        self.cassette.save()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def open_recorder(options: CassetteOptions) -> Recorder:
    """The recorder for a cassette's settings (the file is read now)."""
    cassette = Cassette.load(options.path, **options.cassette_kwargs())
    return Recorder(cassette, options.record_mode, options.upstream, options.replay_timing)
