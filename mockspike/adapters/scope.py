"""An ASGI request in the engine's terms and the engine's headers in ASGI's: the one
translation the server's paths share (the raw `/v1` path, the Starlette endpoint, the
admin guard, the bounds' own refusals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockspike.model.wire import WireRequest


def scope_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers, names lower-cased (as `WireRequest.headers` holds them)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def wire_request(scope: Mapping[str, Any], body: bytes) -> WireRequest:
    """The engine's request for an ASGI `scope` whose body was read as `body`."""
    client = scope.get("client")
    return WireRequest(
        method=scope["method"],
        path=scope["path"],
        headers=scope_headers(scope),
        body=body,
        query=scope.get("query_string", b"").decode("latin-1"),
        client_ip=client[0] if client else "",
    )


def raw_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """Headers as the ASGI `http.response.start` message carries them."""
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
