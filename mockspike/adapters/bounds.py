"""How long and how much one client may take from the server: read deadlines, connection and
memory bounds, so no request can freeze the fake or exhaust its memory.

- A request's line and headers must arrive within `header_timeout` of the connection
  opening (or of the previous response); a slowloris client trickling bytes is cut then.
  Headers are at most `max_header_bytes` on either HTTP stack: h11 bounds them itself
  (`h11_max_incomplete_event_size`); on httptools, which has no such bound, the protocol
  counts the bytes of a head still incomplete and answers 431 past the bound (httptools
  buffers at most one more read).
- A request's body must arrive whole within `body_timeout` (408), be at most the profile's
  body limit (413), and fit in the server-wide `max_bytes_in_flight` (503); a never-ending
  chunked upload is cut at whichever comes first. A client hanging up mid-upload just ends
  its request: no traceback.
- At most `max_connections` connections are open at once; the next gets a 503 and is closed.
- No forwarding header (`X-Forwarded-For`) is trusted unless `forwarded_allow_ips` names the
  proxies to trust, so a key's IP allowlist sees the real peer.
- Every answer from the HTTP layer itself (a malformed request line, 413, 408, 503) is the
  JSON error envelope, never plain text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio

from mockspike.adapters.guard import envelope
from mockspike.adapters.scope import send_answer
from mockspike.engine.exchange import Body
from mockspike.model.wire import WireResponse
from mockspike.settings import Bounds

__all__ = ["Bodies", "BodyReader", "Bounds", "protocol_class"]


def _raw_envelope(status: int, reason: str, type: str, message: str) -> bytes:
    """A whole HTTP/1.1 error answer, for the protocol layer (no ASGI there)."""
    start, body = envelope(status, type, message)
    head = b"".join(k + b": " + v + b"\r\n" for k, v in start["headers"])
    line = f"HTTP/1.1 {status} {reason}\r\n".encode()
    payload: bytes = body["body"]
    return line + head + b"connection: close\r\n\r\n" + payload


def protocol_class(bounds: Bounds, base: type[Any] | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (`base`; by default httptools, else h11, as uvicorn picks)
    with a header deadline, a connection cap, and the envelope for malformed requests."""
    if base is None:
        from uvicorn.protocols.http.auto import AutoHTTPProtocol as base

    class Protocol(base):  # type: ignore[misc,valid-type]
        _header_timer: asyncio.TimerHandle | None = None
        _idle_since = 0.0
        _waiting_after: Any = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > bounds.max_connections:
                transport.write(
                    _raw_envelope(
                        503,
                        "Service Unavailable",
                        "api_error",
                        f"mockspike: more than {bounds.max_connections} open connections",
                    )
                )
                transport.close()
                return
            self._expect_headers()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            idle = self.cycle is None or self.cycle.response_complete
            if idle and not self.transport.is_closing():
                self._expect_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        if hasattr(base, "on_headers_complete"):  # httptools: bound the head ourselves
            _head_bytes = 0
            _in_head = True
            _completed = False

            def data_received(self, data: bytes) -> None:
                if self.transport.is_closing():
                    return
                in_head = self._in_head
                self._completed = False
                super().data_received(data)
                # only bytes of one head still incomplete count: not a read that ended a
                # head, or a whole request (a keep-alive client's next one starts afresh)
                if self._completed or not (in_head and self._in_head):
                    self._head_bytes = 0
                    return
                self._head_bytes += len(data)
                if self._head_bytes > bounds.max_header_bytes:
                    self.transport.write(
                        _raw_envelope(
                            431,
                            "Request Header Fields Too Large",
                            "invalid_request_error",
                            f"mockspike: the request line and headers are over "
                            f"{bounds.max_header_bytes:,} bytes",
                        )
                    )
                    self.transport.close()

            def on_headers_complete(self) -> None:
                self._in_head = False
                super().on_headers_complete()

            def on_message_complete(self) -> None:
                self._in_head = True
                self._completed = True
                super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            self.transport.write(
                _raw_envelope(400, "Bad Request", "invalid_request_error", f"mockspike: {msg}")
            )
            self.transport.close()

        def _expect_headers(self) -> None:
            """Expect the next request's headers within the deadline, however they trickle.
            One timer a connection, not one a request (setting and cancelling a timer for
            every request cost 4% of a small request's time): when it fires after requests
            came and went, it is set again for what is left of the newest deadline."""
            self._idle_since = self.loop.time()
            self._waiting_after = self.cycle
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(bounds.header_timeout, self._headers_due)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_due(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.cycle is not self._waiting_after:
                return  # a request is under way: its response sets the next deadline
            left = self._idle_since + bounds.header_timeout - self.loop.time()
            if left > 0:
                self._header_timer = self.loop.call_later(left, self._headers_due)
            else:
                self.transport.close()  # no request began within the deadline

    return Protocol


class Bodies:
    """Reads request bodies within their bounds, for every path of the server: the
    body's own size limit (`exchange.Body`: 413 without reading past it), the body deadline
    (408) and the server-wide bytes in flight (503), which it counts."""

    def __init__(self, bounds: Bounds, too_large: Callable[[Body], WireResponse]) -> None:
        """`too_large(body)` is the 413 of a body past its limit (its endpoint's own)."""
        self.bounds = bounds
        self.too_large = too_large
        self.in_flight = 0
        """Bytes of request bodies held right now, over every client."""

    async def read(self, body: Body, scope: Any, receive: Any, send: Any) -> bool:
        """Feed the whole body to `body`, counted in flight until `release`; False when the
        request is over: refused here (413, 408, 503, answered) or the client gone."""
        if body.declared_over(_declared_length(scope)):
            await self._too_large(send, body)
            return False  # refused before reading: a 50 MB body is never buffered
        if getattr(getattr(receive, "__self__", None), "more_body", True) is False:
            # uvicorn holds the whole body already (the usual case: a small request in one
            # packet), so `receive` cannot wait: no deadline to keep.
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            return await self._hold(send, body, message.get("body", b""))
        return await self._read_within_deadline(body, receive, send)

    async def _hold(self, send: Any, body: Body, chunk: bytes) -> bool:
        """Count `chunk` in flight, or refuse it (letting go of what `body` held)."""
        if not body.feed(chunk):
            self.in_flight -= body.size
            await self._too_large(send, body)
            return False
        if self.in_flight + len(chunk) > self.bounds.max_bytes_in_flight:
            self.in_flight -= body.size - len(chunk)
            refusal = (503, "api_error", "mockspike: too many request bytes in flight")
            await _refuse(send, refusal)
            return False
        self.in_flight += len(chunk)
        return True

    async def _too_large(self, send: Any, body: Body) -> None:
        await _send_answer(send, self.too_large(body))

    async def _read_within_deadline(self, body: Body, receive: Any, send: Any) -> bool:
        held = True
        try:
            with anyio.move_on_after(self.bounds.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return False  # the client is gone: nothing to answer, nothing to log
                    if not await self._hold(send, body, message.get("body", b"")):
                        held = False  # refused: `_hold` let go of what was held
                        return False
                    if not message.get("more_body", False):
                        held = False  # the caller holds it now, until `release`
                        return True
        finally:
            if held:
                self.in_flight -= body.size
        late = (  # the deadline passed
            f"mockspike: the request body did not arrive within "
            f"{self.bounds.body_timeout:g} seconds"
        )
        await _refuse(send, (408, "invalid_request_error", late))
        return False

    def release(self, body: Body) -> None:
        """The request holding `body` is over."""
        self.in_flight -= body.size


class BodyReader:
    """ASGI middleware: reads each request body off the wire, within its bounds
    (`Bodies`) and `limit`, before the app runs; the app then receives it whole, and later
    messages (a disconnect) as sent."""

    def __init__(self, app: Any, bodies: Bodies, limit: int) -> None:
        self.app = app
        self.bodies = bodies
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = Body(self.limit)
        if not await self.bodies.read(body, scope, receive, send):
            return
        try:
            await self.app(scope, _Replay(body.done(), receive), send)
        finally:
            self.bodies.release(body)


def _declared_length(scope: Any) -> bytes | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            return value  # type: ignore[no-any-return]
    return None


class _Replay:
    """The ASGI `receive` the app sees: the whole body, then the server's own messages.
    `__self__` is the server's request cycle, as on the bound method it wraps, so the
    `drop` fault can still reach the connection."""

    def __init__(self, body: bytes, receive: Any) -> None:
        self.body: bytes | None = body
        self.receive = receive
        self.__self__ = getattr(receive, "__self__", None)

    async def __call__(self) -> dict[str, Any]:
        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.receive()  # type: ignore[no-any-return]


async def _refuse(send: Any, refusal: tuple[int, str, str]) -> None:
    for part in envelope(*refusal, extra=((b"connection", b"close"),)):
        await send(part)


async def _send_answer(send: Any, response: WireResponse) -> None:
    await send_answer(send, response, (b"connection", b"close"))
