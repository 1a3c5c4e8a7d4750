"""Secrets out of everything the fake writes or shows: one redaction, used by cassettes
(before anything touches disk), the request journal and every admin answer."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
        if not self.paths or not isinstance(body, dict):
            return body
        body = copy.deepcopy(body)
        for dotted in self.paths:
            body = _redact_path(body, dotted.split("."))
        return body

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """A recorded-form request (`headers`, `body`, …) with its secrets redacted."""
        return {
            **request,
            "headers": self.header_values(request.get("headers", {})),
            "body": self.body(request.get("body")),
        }


def _redact_path(value: Any, path: list[str]) -> Any:
    if not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {**value, path[0]: REDACTED}
    return {**value, path[0]: _redact_path(value[path[0]], path[1:])}
