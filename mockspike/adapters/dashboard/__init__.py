"""The live dashboard at `/_mockspike/`: one page (HTML, JS and CSS shipped beside this
module, no build step, nothing from a CDN) fed by the admin API and an event stream of
journal entries. Every route goes through the admin guard, so the page is reachable exactly
as the admin API is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mockspike import _json
from mockspike.adapters.control import Controls
from mockspike.engine.endpoints import BILLED
from mockspike.engine.verdict import RULES
from mockspike.state.journal import Entry

if TYPE_CHECKING:
    from starlette.routing import Route


Handler = Callable[[Controls, Request], Any]
AddRoute = Callable[[str, Handler, list[str]], "Route"]

QUEUE_SIZE = 1000
"""Entries a slow page may fall behind by; past it, its stream ends and the page reloads
the journal when it reconnects (an `EventSource` does so by itself)."""
QUEUE_BYTES = 8 * 1024 * 1024
"""Bytes of frames a slow page may fall behind by (entries with large bodies), likewise:
a subscriber that stops reading holds at most this much."""
PING_SECONDS = 15.0
WAKE_SECONDS = 0.5
"""How often an idle stream checks that its server is still serving (so stopping
`fake.serve()` never waits on an open page)."""
_FILES = {"app.js": "text/javascript", "style.css": "text/css", "index.html": "text/html"}


def dashboard_routes(route: AddRoute) -> list[Route]:
    return [
        route("", _page("index.html"), ["GET"]),
        route("dashboard", _page("index.html"), ["GET"]),
        route("dashboard/app.js", _page("app.js"), ["GET"]),
        route("dashboard/style.css", _page("style.css"), ["GET"]),
        route("events", _events, ["GET"]),
        route("state", _state, ["GET"]),
        route("verdict", _verdict, ["GET"]),
        route("requests/{number:int}", _entry, ["GET"]),
    ]


def _page(name: str) -> Handler:
    content = resources.files(__package__).joinpath(name).read_bytes()
    headers = {"cache-control": "no-store", "x-content-type-options": "nosniff"}

    async def handler(fake: Controls, request: Request) -> Response:
        return Response(content, media_type=_FILES[name], headers=headers)

    return handler


async def _entry(fake: Controls, request: Request) -> Any:
    number = request.path_params["number"]
    for entry in fake.requests:
        if entry.number == number:
            return entry.to_json()
    raise KeyError(f"no request #{number} in the journal")


async def _verdict(fake: Controls, request: Request) -> Any:
    return {
        "findings": [f.to_json() for f in fake.verdict()],
        "rules": {
            name: {"severity": r.severity, "summary": r.summary} for name, r in RULES.items()
        },
    }


async def _state(fake: Controls, request: Request) -> Any:
    """What the side panels show: rules and their calls, wallets, rate-limit buckets,
    prompt-cache entries and totals."""
    entries = list(fake.requests)
    billed = [e for e in entries if e.endpoint in BILLED and e.status == 200]
    return {
        "profile": fake.profile,
        "strict": fake.engine.strict,
        "cassette": str(fake.cassette.path) if fake.cassette is not None else None,
        "rules": [
            {"number": r.number, "rule": r.describe(), "calls": r.call_count, "times": r.times}
            for r in fake.rules
        ],
        "scripts": [w.status.to_json() for w in fake.watchers],
        "scenarios": fake.scenarios,
        "wallets": [{"key": mask(k), "balance": v} for k, v in fake.wallets.items()],
        "buckets": [{**b, "key": mask(b["key"])} for b in fake.engine.gateway.buckets()],
        "cache": [{**c, "api_key": mask(c["api_key"])} for c in fake.cache],
        "totals": {
            "requests": len(entries),
            "errors": sum(1 for e in entries if e.status >= 400 or e.status == 0),
            "misses": sum(1 for e in entries if e.unmatched or e.cassette_miss),
            "input_tokens": sum(e.input_tokens for e in billed),
            "output_tokens": sum(e.output_tokens for e in billed),
            "credits": round(sum(e.credits for e in billed), 6),
        },
    }


def mask(key: str) -> str:
    """An API key as the page shows it: its last four characters only."""
    return "…" + key[-4:] if len(key) > 8 else "…"


async def _events(fake: Controls, request: Request) -> Response:
    """`text/event-stream`: an `entry` event per journal entry as it is appended, `clear`
    when the journal is cleared, a comment every `PING_SECONDS`."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_SIZE)

    held = 0
    dropped = False

    def put(frame: bytes) -> None:
        nonlocal held, dropped
        if dropped:
            return
        try:
            if held + len(frame) > QUEUE_BYTES:
                raise asyncio.QueueFull
            queue.put_nowait(frame)
            held += len(frame)
        except asyncio.QueueFull:  # too slow: drop this subscriber, let it reload
            unsubscribe()
            while not queue.empty():
                queue.get_nowait()
            held, dropped = 0, True
            queue.put_nowait(None)

    def listener(entry: Entry | None) -> None:
        frame = _frame("clear", {}) if entry is None else _frame("entry", entry.to_json())
        loop.call_soon_threadsafe(put, frame)  # raises once the loop is closed: dropped

    unsubscribe = fake.requests.subscribe(listener)

    served = fake.base_url is not None  # under `fake.serve()`: end when it ends

    async def stream() -> AsyncIterator[bytes]:
        nonlocal held
        try:
            yield b"retry: 1000\n\n"
            idle = 0.0
            while not (served and fake.base_url is None):
                try:
                    frame = await asyncio.wait_for(queue.get(), WAKE_SECONDS)
                except asyncio.TimeoutError:
                    idle += WAKE_SECONDS
                    if idle >= PING_SECONDS:
                        idle = 0.0
                        yield b": ping\n\n"
                    continue
                if frame is None:
                    return
                held -= len(frame)
                yield frame
        finally:
            unsubscribe()

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _frame(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + _json.dumps(data) + b"\n\n"
