"""The floor: bare Starlette on uvicorn (run it with uvloop + httptools), answering with
pre-made bytes and doing no work at all: the same bytes on the wire as mockspike sends,
headers included, made once at start-up.

$BARE_DIR holds mockspike's own answers, written by the harness: `one_turn.json` (served
at POST /v1/messages), `agent.json` (POST /v1/agent) and `stream.frames` (POST /stream; one
SSE frame a line, JSON-encoded text), each with its headers in `NAME.headers` (JSON pairs)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

FOLDER = Path(os.environ["BARE_DIR"])
FRAMES = [json.loads(line).encode() for line in (FOLDER / "stream.frames").open()]


def raw_headers(name: str) -> list[tuple[bytes, bytes]]:
    """mockspike's headers for one workload, as the bytes uvicorn sends."""
    pairs = json.loads((FOLDER / f"{name}.headers").read_text())
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


class Canned(Response):
    """A response made of pre-made bytes: no header is built per request."""

    def __init__(self, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = 200
        self.body = body
        self.background: BackgroundTask | None = None
        self.raw_headers = headers


def canned(name: str) -> Callable[[Request], Awaitable[Response]]:
    data = (FOLDER / f"{name}.json").read_bytes()
    headers = [*raw_headers(name), (b"content-length", b"%d" % len(data))]

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Canned(data, headers)

    return endpoint


STREAM_HEADERS = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers("stream"))


async def stream(request: Request) -> Response:
    await request.body()

    async def frames() -> AsyncIterator[bytes]:
        for frame in FRAMES:
            yield frame

    return StreamingResponse(frames(), headers=STREAM_HEADERS)


app = Starlette(
    routes=[
        Route("/v1/messages", canned("one_turn"), methods=["POST"]),
        Route("/v1/agent", canned("agent"), methods=["POST"]),
        Route("/stream", stream, methods=["POST"]),
    ]
)
