"""The floor: bare Starlette on uvicorn (run it with uvloop + httptools), answering with
pre-made bytes and doing no work at all.

$BARE_DIR holds mockspike's own answers, written by the harness: `one_turn.json` (served
at POST /v1/messages), `agent.json` (POST /v1/agent) and `stream.frames` (POST /stream; one
SSE frame a line, JSON-encoded text)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

FOLDER = Path(os.environ["BARE_DIR"])
FRAMES = [json.loads(line).encode() for line in (FOLDER / "stream.frames").open()]


def canned(name: str) -> Callable[[Request], Awaitable[Response]]:
    data = (FOLDER / name).read_bytes()

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(data, media_type="application/json")

    return endpoint


async def stream(request: Request) -> Response:
    await request.body()

    async def frames() -> AsyncIterator[bytes]:
        for frame in FRAMES:
            yield frame

    return StreamingResponse(frames(), media_type="text/event-stream; charset=utf-8")


app = Starlette(
    routes=[
        Route("/v1/messages", canned("one_turn.json"), methods=["POST"]),
        Route("/v1/agent", canned("agent.json"), methods=["POST"]),
        Route("/stream", stream, methods=["POST"]),
    ]
)
