"""Secrets out of everything the fake writes or shows: one redaction, used by cassettes
(before anything touches disk), the request journal and every admin answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockspike import _paths

REDACTED = "<redacted>"
SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "cookie", "set-cookie", "proxy-authorization"}
)


@dataclass(frozen=True)
class Redaction:
    """Which header names (always the secret ones) and body paths (dotted) to redact."""

    headers: frozenset[str] = SECRET_HEADERS
    paths: tuple[str, ...] = ()

    @classmethod
    def of(cls, headers: Iterable[str] = (), paths: Iterable[str] = ()) -> Redaction:
        return cls(frozenset(h.lower() for h in headers) | SECRET_HEADERS, tuple(paths))

    def header_values(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in self.headers else v) for k, v in headers.items()}

    def body(self, body: Any) -> Any:
        """A copy with each configured path replaced (the original is left as it was)."""
        return self.counted_body(body)[0]

    def counted_body(self, body: Any) -> tuple[Any, dict[str, tuple[int, int]]]:
        """`body(body)`, and by path how many values it found and how many it changed
        (paths as the near-miss diff prints them: `messages.0.content`)."""
        counts: dict[str, tuple[int, int]] = {}
        for dotted in self.paths:
            body, found, changed = _paths.replace(body, dotted, REDACTED)
            counts[dotted] = (found, changed)
        return body, counts

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """A recorded-form request (`headers`, `body`, …) with its secrets redacted."""
        return {
            **request,
            "headers": self.header_values(request.get("headers", {})),
            "body": self.body(request.get("body")),
        }
