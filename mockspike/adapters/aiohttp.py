"""aiohttp clients answered in process: a connector whose connections are pipes to the
engine, not sockets.

`aiohttp.ClientSession(connector=connector(engine))` (or `session(engine)`) sends every
request to the fake without a socket: aiohttp writes HTTP/1.1 onto the pipe, which reads it
with h11 into the engine's exchange, and the answer comes back as HTTP/1.1 bytes through
aiohttp's own response parser, a stream event by event as `delivery.send` paces it. So
aiohttp's own terms hold: its read timeout fires during a stall (and the journal notes the
client left), a dropped connection is its `ServerDisconnectedError`, a cut stream its
`ClientPayloadError`. An SDK built on aiohttp (the anthropic SDK's `DefaultAioHttpClient`,
LiteLLM's aiohttp path) gets the in-process fake through such a session.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Any

import aiohttp
import h11
from aiohttp.client_proto import ResponseHandler

from mockspike.adapters import delivery
from mockspike.engine.engine import Engine
from mockspike.engine.exchange import Exchange, decode_headers
from mockspike.model.wire import WireResponse

__all__ = ["MockSpikeConnector", "connector", "session"]
log = logging.getLogger("mockspike")


class MockSpikeConnector(aiohttp.BaseConnector):
    """An aiohttp connector whose connections are answered by `engine`, in process."""

    def __init__(self, engine: Engine, **options: Any) -> None:
        """`options` go to `aiohttp.BaseConnector` (`limit`, `force_close`, …)."""
        super().__init__(**options)
        self.engine = engine

    async def _create_connection(
        self, req: aiohttp.ClientRequest, traces: Any, timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        protocol: ResponseHandler = self._factory()
        protocol.connection_made(_Pipe(self.engine, protocol))
        return protocol


def connector(engine: Engine, **options: Any) -> MockSpikeConnector:
    """A connector for `aiohttp.ClientSession(connector=...)`."""
    return MockSpikeConnector(engine, **options)


def session(engine: Engine, base_url: str | None = None, **options: Any) -> aiohttp.ClientSession:
    """An `aiohttp.ClientSession` answered by `engine` (call it with an event loop running;
    `options` go to the session)."""
    return aiohttp.ClientSession(base_url, connector=connector(engine), **options)


class _Cut(Exception):
    """A fault cut the stream."""


class _Pipe(asyncio.Transport):
    """One connection: aiohttp writes requests in, the engine's answers are read out."""

    def __init__(self, engine: Engine, protocol: ResponseHandler) -> None:
        super().__init__()
        self.engine = engine
        self.protocol = protocol
        self.loop = asyncio.get_running_loop()
        self.http = h11.Connection(h11.SERVER)
        self.exchange: Exchange | None = None
        self.over = False
        """The body passed its limit: the rest is not kept, the answer is the 413."""
        self.task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        """Set once either side closes."""
        self.gone: threading.Event | None = None

    # -- what aiohttp writes: a request -----------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed.is_set():
            return
        try:
            self.http.receive_data(bytes(data))
            self._read()
        except h11.RemoteProtocolError:
            self._lose()

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def _read(self) -> None:
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._open(event)
            elif isinstance(event, h11.Data) and self.exchange is not None:
                if not self.over and not self.exchange.feed(bytes(event.data)):
                    self.over = True
            elif isinstance(event, h11.EndOfMessage) and self.exchange is not None:
                exchange, self.exchange = self.exchange, None
                self.task = self.loop.create_task(self._answer(exchange, self.over))
            elif isinstance(event, h11.ConnectionClosed):
                self._lose()
                return

    def _open(self, request: h11.Request) -> None:
        path, _, query = request.target.decode("ascii").partition("?")
        exchange = self.engine.open(request.method.decode("ascii"), path, query=query)
        exchange.headers = decode_headers(request.headers)
        if self.engine.blocking:  # a recording waits on the network: a hang-up ends it
            exchange.gone = self.gone = threading.Event()
        self.exchange = exchange
        self.over = exchange.declared_over(exchange.headers.get("content-length"))
        if self.http.they_are_waiting_for_100_continue:  # `expect100=True`: go on
            self.send(h11.InformationalResponse(status_code=100, headers=[]))

    async def _answer(self, exchange: Exchange, over: bool) -> None:
        engine = self.engine
        try:
            if over:
                response = engine.too_large(exchange)
            else:
                response = await engine.answer_async(exchange)
            await delivery.send(response, _Outlet(self))
        except Exception:  # a bug of ours: the client sees a lost connection, we a trace
            log.exception("mockspike: the aiohttp adapter failed to answer")
            self._lose()
            return
        http = self.http
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()  # keep-alive: the next request on this pipe
            self._read()

    # -- what aiohttp reads: an answer --------------------------------------------------

    def send(self, *events: Any) -> None:
        if self.closed.is_set():
            return
        data = b"".join(self.http.send(event) or b"" for event in events)
        if data:
            self.protocol.data_received(data)

    def head(self, response: WireResponse, length: int | None) -> h11.Response:
        headers = list(response.headers.items())
        if length is not None:
            headers.append(("content-length", str(length)))
        reason = HTTPStatus(response.status).phrase if response.status in _STATUSES else ""
        return h11.Response(status_code=response.status, headers=headers, reason=reason)

    # -- the connection -----------------------------------------------------------------

    def _lose(self) -> None:
        """Close under the client (a dropped or cut connection, or the client's close)."""
        if self.closed.is_set():
            return
        self.closed.set()
        if self.gone is not None:
            self.gone.set()
        self.loop.call_soon(self.protocol.connection_lost, None)

    def close(self) -> None:
        self._lose()

    def abort(self) -> None:
        self._lose()

    def is_closing(self) -> bool:
        return self.closed.is_set()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return _EXTRA.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        """The answer is produced as it is read, so there is nothing to hold back."""

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return not self.closed.is_set()

    def can_write_eof(self) -> bool:
        return False


_STATUSES = frozenset(s.value for s in HTTPStatus)
_EXTRA = {"peername": ("127.0.0.1", 0), "sockname": ("127.0.0.1", 0)}


class _Outlet:
    """aiohttp's terms for `delivery.send`: HTTP/1.1 bytes into the pipe, or its close."""

    read_timeout = None
    """aiohttp keeps its own read timeout: the bytes arrive as from a socket."""

    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe
        self.hang_up: Callable[[], Awaitable[Any]] = pipe.closed.wait

    async def whole(self, response: WireResponse) -> None:
        pipe = self.pipe
        body = response.body
        pipe.send(pipe.head(response, len(body)), h11.Data(data=body), h11.EndOfMessage())

    async def stream(self, response: WireResponse, body: AsyncIterator[bytes]) -> None:
        pipe = self.pipe
        pipe.send(pipe.head(response, None))
        try:
            async for chunk in body:
                if pipe.closed.is_set():
                    return  # the client left
                pipe.send(h11.Data(data=chunk))
                await asyncio.sleep(0)  # the client reads each write as it comes
        except _Cut:
            pipe.close()
            return
        pipe.send(h11.EndOfMessage())

    async def drop(self) -> None:
        self.pipe.close()

    def cut(self) -> Exception:
        return _Cut()

    timed_out = cut
