"""What the engine takes and gives: plain HTTP values, no framework types."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class WireRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-cased names."""
    body: bytes = b""
    query: str = ""
    client_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class WireResponse:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    """When set, the body is these frames, to be sent one by one as they are produced."""
