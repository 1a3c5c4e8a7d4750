"""What a reply looked like to the client, kept in the journal for the dashboard and the
resilience verdict: headers, the body or the stream events (bounded), how a stream ended,
and whether the client gave up waiting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mockspike.model.wire import Chunk, StreamBreak, WireResponse

REPLY_BYTES = 16 * 1024
"""How much of each reply (body, or stream events) the journal keeps."""


@dataclass(slots=True)
class Captured:
    """A reply as the client got it, up to `REPLY_BYTES`: enough to show and to judge.

    `end` says how a stream ended: the last event's name (`message_stop`, `error`), `cut`
    (the fake broke the connection), `closed` (the client stopped reading), or `open`
    (not delivered yet); None for a whole body."""

    headers: dict[str, str]
    body: bytes = b""
    events: list[bytes] = field(default_factory=list)
    end: str | None = None
    truncated: bool = False
    client_left_after: float | None = None
    """Seconds after arrival when the client gave up waiting (a read timeout in a stall)."""

    @property
    def size(self) -> int:
        """Bytes it may hold (a stream counts as its bound: its events arrive later)."""
        return len(self.body) + (REPLY_BYTES if self.end is not None else 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace") if self.body else None,
            "events": [e.decode("utf-8", "replace") for e in self.events],
            "end": self.end,
            "truncated": self.truncated,
            "client_left_after": self.client_left_after,
        }


def capture(response: WireResponse, now: Callable[[], float], arrived: float) -> Captured:
    """Record `response` as it is delivered: its stream is wrapped to keep its events (up
    to `REPLY_BYTES`) and how it ended; a delayed answer tells when the client left."""
    body = response.body
    captured = Captured(response.headers, body[:REPLY_BYTES], truncated=len(body) > REPLY_BYTES)
    if response.stream is not None:
        captured.end = "open"
        response.stream = _recorded(response.stream, captured)
    if response.delay:

        def left() -> None:
            captured.client_left_after = round(now() - arrived, 6)

        response.abandoned = left
    return captured


def _recorded(stream: Iterator[Chunk], captured: Captured) -> Iterator[Chunk]:
    kept = 0
    last = b""
    try:
        for chunk in stream:
            frame = chunk[1]
            last = frame
            if kept + len(frame) <= REPLY_BYTES:
                captured.events.append(frame)
                kept += len(frame)
            else:
                captured.truncated = True
            yield chunk
    except StreamBreak:
        captured.end = "cut"
        raise
    except GeneratorExit:
        captured.end = "closed"
        raise
    captured.end = _event_name(last) or "cut"


def _event_name(frame: bytes) -> str | None:
    """`message_stop` for `event: message_stop\ndata: …` (None for a broken frame); in the
    OpenAI dialect, which names no events, `[DONE]` for its last frame and `error` for an
    error object."""
    if frame.startswith(b"data: ") and frame.endswith(b"\n\n"):
        if frame == b"data: [DONE]\n\n":
            return "[DONE]"
        return "error" if frame.startswith(b'data: {"error":') else "data"
    if not frame.startswith(b"event: ") or not frame.endswith(b"\n\n"):
        return None
    return frame[7 : frame.index(b"\n")].decode("utf-8", "replace")
