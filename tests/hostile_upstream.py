"""A real, hostile upstream on 127.0.0.1 for the recorder's tests: a raw asyncio HTTP/1.1
server in a thread of its own, whose answer to each request is a function of the request
(it may stall, send a gzip bomb, bad headers or odd SSE). Loopback only; stopped on exit."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass


@dataclass
class Request:
    method: str
    path: str
    body: bytes


Answer = Callable[[Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
"""Writes the whole answer (or stalls); the connection is closed after it returns."""


class HostileUpstream:
    """Counts the requests it stalls now (`stalled`), so a test sees the recorder let go."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.stalled = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._stop: asyncio.Event | None = None

    async def _serve(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        ready.set()
        async with server:
            await self._stop.wait()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stall(self, reader: asyncio.StreamReader) -> None:
        """Answer nothing until the other side closes the connection (or 120 s pass)."""
        self.stalled += 1
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(), 120)
        finally:
            self.stalled -= 1

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = dict(
                    (k.strip().lower(), v.strip())
                    for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
                )
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self.answer(Request(method, path, body), reader, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        ready = threading.Event()
        thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self._serve(ready),), daemon=True
        )
        thread.start()
        assert ready.wait(10)
        try:
            yield self.url
        finally:
            assert self._stop is not None
            self.loop.call_soon_threadsafe(self._stop.set)
            thread.join(10)


def response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """An HTTP/1.1 response's bytes, headers as given (raw: they may be hostile)."""
    lines = [b"HTTP/1.1 %d X" % status, *(k + b": " + v for k, v in headers)]
    lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
