"""The engine's headers in ASGI's terms, for the server's paths (the raw `/v1` path, the
admin guard, the bounds' own refusals); the other way (`decode_headers`) is the exchange's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mockspike.engine.exchange import decode_headers
from mockspike.model.wire import WireResponse


def scope_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers, names lower-cased (as `WireRequest.headers` holds them)."""
    return decode_headers(scope["headers"])


def raw_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """Headers as the ASGI `http.response.start` message carries them."""
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def send_answer(
    send: Callable[[Any], Awaitable[None]], response: WireResponse, *extra: tuple[bytes, bytes]
) -> None:
    """A whole answer the server gives before the engine does (a 413), with `extra`
    headers (`connection: close`)."""
    headers = raw_headers(response.headers)
    headers += [(b"content-length", b"%d" % len(response.body)), *extra]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
