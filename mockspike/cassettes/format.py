"""Cassettes: recorded interactions, one JSON file each, human-readable and diff-friendly.

```json
{
  "version": 1,
  "recorded_with": "mockspike 0.1.0",
  "interactions": [
    {"request": {"method": "POST", "path": "/v1/messages",
                 "headers": {"anthropic-version": "2023-06-01", "x-api-key": "<redacted>"},
                 "body": {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [...]}},
     "response": {"status": 200, "headers": {"content-type": "application/json", ...},
                  "body": {"id": "msg_…", ...}}},
    {"request": {...},
     "response": {"status": 200, "headers": {"content-type": "text/event-stream; ..."},
                  "events": [{"t": 0.0, "event": "message_start", "data": {...}}, ...]}}
  ]
}
```

Secrets never reach the file: `x-api-key`, `authorization`, cookies and any configured
header or body path are replaced by `<redacted>` before writing. Files are written
atomically (a temporary file, then a rename). Requests are matched by a canonical key
(method, path and the body with sorted keys, less the ignored paths) through a hash index,
so a lookup does not grow with the cassette; identical requests replay in recorded order.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import _json
from .._version import __version__

FORMAT_VERSION = 1
REDACTED = "<redacted>"
SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "cookie", "set-cookie", "proxy-authorization"}
)
#: Request headers kept in the file (others, like the SDK's x-stainless-*, add only noise).
KEPT_REQUEST_HEADERS = (
    "anthropic-version",
    "anthropic-beta",
    "content-type",
    "x-api-key",
    "authorization",
)
#: Response headers not replayed: they describe the original connection.
HOP_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "content-encoding",
        "keep-alive",
        "date",
        "server",
    }
)

Matcher = Callable[[dict[str, Any]], Any]
"""Takes a recorded-form request (`method`, `path`, `headers`, `body`), gives a hashable."""


def _body_matcher(request: dict[str, Any]) -> Any:
    return _json.canonical(request.get("body"))


MATCHERS: dict[str, Matcher] = {
    "method": lambda r: r["method"],
    "path": lambda r: r["path"],
    "body": _body_matcher,
    "model": lambda r: (
        (r.get("body") or {}).get("model") if isinstance(r.get("body"), dict) else None
    ),
    "stream": lambda r: (
        bool((r.get("body") or {}).get("stream")) if isinstance(r.get("body"), dict) else False
    ),
}


def register_matcher(name: str, matcher: Matcher) -> None:
    """Make `matcher` usable by name in `match_on=(...)`."""
    MATCHERS[name] = matcher


class CassetteError(ValueError):
    """A cassette file that cannot be read, or a setting that makes no sense."""


def _delete_path(value: Any, path: list[str]) -> Any:
    if not path or not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {k: v for k, v in value.items() if k != path[0]}
    return {**value, path[0]: _delete_path(value[path[0]], path[1:])}


def _redact_path(value: Any, path: list[str]) -> Any:
    if not path or not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {**value, path[0]: REDACTED}
    return {**value, path[0]: _redact_path(value[path[0]], path[1:])}


@dataclass
class Cassette:
    """A cassette in memory: its interactions, its index, and how to match and redact."""

    path: Path
    interactions: list[dict[str, Any]] = field(default_factory=list)
    match_on: tuple[str, ...] = ("method", "path", "body")
    ignore: tuple[str, ...] = ("metadata.user_id",)
    """Body paths left out of matching (volatile parts)."""
    redact_headers: frozenset[str] = SECRET_HEADERS
    redact_paths: tuple[str, ...] = ()
    """Body paths (dotted) replaced by `<redacted>` before writing."""
    note: str | None = None
    """Free text kept at the top of the file (where it was recorded, against what)."""
    _index: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list), repr=False)
    _cursor: dict[str, int] = field(default_factory=lambda: defaultdict(int), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _save_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        unknown = [m for m in self.match_on if m not in MATCHERS]
        if unknown:
            raise CassetteError(
                f"unknown matcher(s) {', '.join(unknown)}; known: {', '.join(MATCHERS)}"
            )
        self.redact_headers = frozenset(h.lower() for h in self.redact_headers) | SECRET_HEADERS
        self._rebuild()

    # -- files ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Cassette:
        """Read a cassette file; a missing file is an empty cassette."""
        path = Path(path)
        interactions: list[dict[str, Any]] = []
        if path.exists():
            try:
                data = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as exc:
                raise CassetteError(f"{path}: not a valid cassette (JSON): {exc}") from None
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise CassetteError(
                    f"{path}: not a version {FORMAT_VERSION} mockspike cassette "
                    f"(found version {data.get('version') if isinstance(data, dict) else '?'})"
                )
            interactions = data.get("interactions") or []
            options.setdefault("note", data.get("note"))
        return cls(path, interactions, **options)

    def save(self) -> None:
        """Write atomically: a temporary file beside the cassette, then a rename. Saves are
        serialised and each writes the state as of its start, so the last one written holds
        every interaction recorded before it."""
        with self._save_lock:
            with self._lock:
                document = {
                    "version": FORMAT_VERSION,
                    "recorded_with": f"mockspike {__version__}",
                    **({"note": self.note} if self.note else {}),
                    "interactions": list(self.interactions),
                }
            data = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise

    # -- matching ------------------------------------------------------------------------

    def key(self, request: dict[str, Any]) -> str:
        """The canonical key of a recorded-form request, under `match_on` and `ignore`."""
        body = request.get("body")
        for dotted in self.ignore:
            body = _delete_path(body, dotted.split("."))
        normal = {**request, "body": body}
        parts = [repr(MATCHERS[name](normal)) for name in self.match_on]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    def _rebuild(self) -> None:
        self._index.clear()
        self._cursor.clear()
        for position, interaction in enumerate(self.interactions):
            self._index[self.key(interaction["request"])].append(position)

    def take(self, request: dict[str, Any], repeat_last: bool = True) -> dict[str, Any] | None:
        """The next interaction recorded for this request: identical requests replay in
        recorded order; once all have played, the last one again (or None, so that a
        recorder can record a new episode, with `repeat_last=False`)."""
        key = self.key(request)
        with self._lock:
            positions = self._index.get(key)
            if not positions:
                return None
            turn = self._cursor[key]
            if turn >= len(positions) and not repeat_last:
                return None
            self._cursor[key] = turn + 1
            return self.interactions[positions[min(turn, len(positions) - 1)]]

    def closest(self, request: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
        """The recorded request most like this one, and how they differ (a few lines)."""
        best: tuple[int, dict[str, Any] | None, list[str]] = (1 << 30, None, [])
        mine = _comparable(request)
        for interaction in self.interactions:
            recorded = interaction["request"]
            theirs = _comparable(recorded)
            diff = _diff(theirs, mine)
            if len(diff) < best[0]:
                best = (len(diff), recorded, diff)
        return best[1], best[2][:6]

    # -- recording -----------------------------------------------------------------------

    def add(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        """Redact, append and index one interaction (thread-safe)."""
        interaction = {"request": self.redact_request(request), "response": self._clean(response)}
        key = self.key(interaction["request"])
        with self._lock:
            self.interactions.append(interaction)
            self._index[key].append(len(self.interactions) - 1)
            self._cursor[key] = len(self._index[key])  # just played

    def clear(self) -> None:
        with self._lock:
            self.interactions = []
            self._index.clear()
            self._cursor.clear()

    def redact_request(self, request: dict[str, Any]) -> dict[str, Any]:
        headers = {
            k: (REDACTED if k in self.redact_headers else v)
            for k, v in request.get("headers", {}).items()
        }
        body = copy.deepcopy(request.get("body"))
        for dotted in self.redact_paths:
            body = _redact_path(body, dotted.split("."))
        return {**request, "headers": headers, "body": body}

    def _clean(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = {
            k: (REDACTED if k in self.redact_headers else v)
            for k, v in response.get("headers", {}).items()
            if k not in HOP_HEADERS
        }
        return {**response, "headers": headers}

    def redact_all(self) -> None:
        """Apply the redaction settings to every interaction already in the cassette."""
        with self._lock:
            self.interactions = [
                {
                    "request": self.redact_request(i["request"]),
                    "response": self._clean(i["response"]),
                }
                for i in self.interactions
            ]
        self._rebuild()


def _comparable(request: dict[str, Any]) -> dict[str, Any]:
    """A request as flat `dotted.path: value` pairs: method, path and the body's leaves."""
    return {"method": request["method"], "path": request["path"], **_flatten(request.get("body"))}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}.{index}"))
        return out
    return {prefix: value}


def _diff(recorded: dict[str, Any], sent: dict[str, Any]) -> list[str]:
    lines = []
    for key in sorted(set(recorded) | set(sent)):
        if recorded.get(key, ...) != sent.get(key, ...):
            if key in recorded:
                lines.append(f"- {key}: {_short(recorded[key])}")
            if key in sent:
                lines.append(f"+ {key}: {_short(sent[key])}")
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def request_record(method: str, path: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    """A request in cassette form: the kept headers and the body parsed when it is JSON."""
    kept = {k: v for k, v in headers.items() if k in KEPT_REQUEST_HEADERS}
    return {"method": method, "path": path, "headers": kept, "body": _json.loads_or_text(raw)}
