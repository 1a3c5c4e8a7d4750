"""What the engine takes and gives: plain HTTP values, no framework types."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mockspike import _json

Chunk = tuple[float, bytes]
"""Seconds to wait, then bytes to send."""


class StreamBreak(Exception):
    """Raised by a response stream to cut the connection mid-body (a `break` fault)."""


@dataclass(slots=True)
class WireRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-cased names."""
    body: bytes = b""
    query: str = ""
    client_ip: str = "127.0.0.1"
    gone: threading.Event | None = None
    """Set by the adapter when the client hangs up: work waiting on the network for this
    request (a recording) stops waiting."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(slots=True)
class WireResponse:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: Iterator[Chunk] | None = None
    """When set, the body is these chunks, sent one by one as they are produced; the
    iterator may raise `StreamBreak` to cut the connection."""
    delay: float = 0.0
    """Seconds to wait before answering at all (pacing of a whole reply, or a stall)."""
    drop: bool = False
    """Close the connection without any response."""
    blocking: bool = False
    """The stream waits on the network (a recording): adapters pull it from a thread."""
    answered_by: str | None = None
    """What answered, for the journal and the server's log (a front stage's own words:
    `cassette interaction 3`); scripted rules are noted by the engine itself."""
    frame_by_frame: bool = False
    """Send every chunk in its own write, even those due together (a fault's stream, so
    what arrives before the cut is exactly what the fault says)."""
    abandoned: Callable[[], None] | None = None
    """Adapters call it when the client gave up during `delay` (its read timeout fired or
    it hung up), so the journal knows the client did not wait out a stall."""

    def iter_chunks(self) -> Iterator[Chunk]:
        """The body as chunks, whether it streams or not."""
        if self.stream is not None:
            return self.stream
        return iter([(0.0, self.body)])


def json_answer(value: Any, status: int = 200) -> WireResponse:
    """`value` as a JSON body: what handlers answer most (the engine adds the request id and
    the content type, `application/json` unless the handler set another)."""
    return WireResponse(status, {}, _json.dumps(value))
