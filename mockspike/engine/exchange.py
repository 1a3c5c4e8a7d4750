"""One request under way, without IO: what every adapter shares.

An adapter opens an exchange from the method and path (`Engine.open`: routed once, so the
exchange knows its endpoint and its body limit), gives it the headers (`decode_headers`)
and the body chunk by chunk (`feed`: the one place that says when reading stops), and asks
the engine for the answer (`Engine.answer` / `answer_async`). The answer is a
`WireResponse`, which `adapters/delivery.py` sends. An adapter is then only its library's
terms: where the bytes come from and where they go.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from mockspike.engine.context import EMPTY
from mockspike.model.errors import ApiError

if TYPE_CHECKING:
    from mockspike.engine.endpoints import Endpoint


def decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers off the wire as the engine takes them: names lower-cased, latin-1 both."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


class Body:
    """A request body read within its limit: reading stops at the first byte past it, so
    an upload streamed without end is never held whole."""

    __slots__ = ("_parts", "body", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.body = b""
        self.size = 0
        self._parts: list[bytes] | None = None

    def declared_over(self, content_length: str | bytes | None) -> bool:
        """True when a declared `content-length` is past the limit (refuse unread)."""
        return (
            content_length is not None
            and content_length.isdigit()
            and int(content_length) > self.limit
        )

    def feed(self, chunk: bytes) -> bool:
        """Take the next chunk; False once the body is past the limit (stop reading)."""
        if not chunk:
            return True
        size = self.size + len(chunk)
        if size > self.limit:
            return False
        self.size = size
        if self._parts is not None:
            self._parts.append(chunk)
        elif self.body:
            self._parts = [self.body, chunk]
        else:
            self.body = chunk  # the usual case: one chunk, never copied
        return True

    def done(self) -> bytes:
        """The whole body."""
        if self._parts is not None:
            self.body, self._parts = b"".join(self._parts), None
        return self.body


class Exchange(Body):
    """One request: its route (or the refusal routing gave), then its headers and body."""

    __slots__ = (
        "client_ip",
        "endpoint",
        "gone",
        "headers",
        "method",
        "params",
        "path",
        "query",
        "refused",
    )

    def __init__(
        self,
        method: str,
        path: str,
        limit: int,
        endpoint: Endpoint | None,
        params: Mapping[str, str] = EMPTY,
        refused: ApiError | None = None,
        *,
        query: str = "",
        client_ip: str = "127.0.0.1",
    ) -> None:
        self.limit = limit  # `Body`'s own, set here: one call less for every request
        self.body = b""
        self.size = 0
        self._parts = None
        self.method = method
        self.path = path
        self.endpoint = endpoint
        self.params = params
        self.refused = refused
        """Why routing refused it (404, 405): answered in the envelope, and journaled."""
        self.query = query
        self.client_ip = client_ip
        self.headers: dict[str, str] = {}
        """Lower-cased names (`decode_headers`)."""
        self.gone: threading.Event | None = None
        """Set by the adapter when the client hangs up (a recording stops waiting)."""

    @property
    def dialect(self) -> str:
        """The API the endpoint speaks (its errors' shape)."""
        return self.endpoint.dialect if self.endpoint is not None else "anthropic"
