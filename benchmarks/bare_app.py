"""The baseline server: bare Starlette on the same uvicorn, answering pre-made bytes.

POST /v1/messages returns the canned JSON in $BARE_JSON; POST /stream returns the
pre-encoded SSE frames in $BARE_FRAMES (one frame a line of JSON-encoded text)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

with open(os.environ["BARE_JSON"], "rb") as f:
    CANNED = f.read()
with open(os.environ["BARE_FRAMES"], encoding="utf-8") as f:
    FRAMES = [json.loads(line).encode() for line in f]


async def messages(request: Request) -> Response:
    await request.body()
    return Response(CANNED, media_type="application/json")


async def stream(request: Request) -> Response:
    await request.body()

    async def frames() -> AsyncIterator[bytes]:
        for frame in FRAMES:
            yield frame

    return StreamingResponse(frames(), media_type="text/event-stream; charset=utf-8")


app = Starlette(
    routes=[
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/stream", stream, methods=["POST"]),
    ]
)
