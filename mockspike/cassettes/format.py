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
header or body path are replaced by `<redacted>` before writing. Reading checks the shape,
writing is atomic, locked across processes and merged with what other processes saved
meanwhile (see `storage`). Requests are matched by a canonical key
(method, path and the body with sorted keys, less the ignored paths) through a hash index,
so a lookup does not grow with the cassette; identical requests replay in recorded order.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockspike import _json
from mockspike import _paths as paths
from mockspike._redact import REDACTED, SECRET_HEADERS, Redaction
from mockspike._version import __version__
from mockspike.cassettes import storage
from mockspike.cassettes.matchers import Matcher, resolve
from mockspike.cassettes.storage import FORMAT_VERSION
from mockspike.cassettes.storage import CassetteError as CassetteError

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


@dataclass
class Cassette:
    """A cassette in memory: its interactions, its index, and how to match and redact."""

    path: Path
    interactions: list[dict[str, Any]] = field(default_factory=list)
    match_on: tuple[str | Matcher, ...] = ("method", "path", "body")
    """What must agree for a recording to answer: names of `cassettes/matchers.py`'s
    `MATCHERS`, or functions of the recorded request in their place."""
    ignore: tuple[str, ...] = ("metadata.user_id",)
    """Body paths left out of matching (volatile parts)."""
    redact_headers: frozenset[str] = SECRET_HEADERS
    redact_paths: tuple[str, ...] = ()
    """Body paths (dotted) replaced by `<redacted>` before writing."""
    note: str | None = None
    """Free text kept at the top of the file (where it was recorded, against what)."""
    redacted: dict[str, list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0]), init=False, repr=False
    )
    """By redacted body path: how many values it found, how many it changed."""
    _index: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list), repr=False)
    _cursor: dict[str, int] = field(default_factory=lambda: defaultdict(int), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _save_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _synced: list[dict[str, Any]] = field(default_factory=list, repr=False)
    """The interactions as this object last read or wrote them on disk."""
    _disk: storage.Signature | None = field(default=None, repr=False)
    """The file's signature then: if it differs at save time, another process wrote."""
    _matchers: tuple[Matcher, ...] = field(default=(), init=False, repr=False)
    _tracking: bool = field(default=False, repr=False)
    """True once loaded or saved: until then (a cassette built in memory) saving replaces."""

    def __post_init__(self) -> None:
        try:
            self._matchers = resolve(self.match_on)
        except ValueError as exc:
            raise CassetteError(str(exc)) from None
        self.redact_headers = frozenset(h.lower() for h in self.redact_headers) | SECRET_HEADERS
        self._rebuild()

    # -- files ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Cassette:
        """Read a cassette file (a missing file is an empty cassette). A file of the wrong
        shape is refused with a `CassetteError` naming the entry and the problem; temporary
        files a killed writer left are removed first."""
        path = Path(path)
        real = storage.target(path)
        storage.clean_leftovers(real)
        disk = storage.signature(real)
        document = storage.read(real) or {}
        interactions: list[dict[str, Any]] = document.get("interactions") or []
        options.setdefault("note", document.get("note"))
        cassette = cls(path, interactions, **options)
        cassette._synced, cassette._disk, cassette._tracking = list(interactions), disk, True
        return cassette

    def save(self) -> None:
        """Write atomically through to the file the path names (a symlink stays a link),
        holding the cassette's cross-process lock, and merged with what is on disk: what
        another process recorded since this one last read or wrote the file is kept (and
        joins this cassette). On failure (a full disk) the file is untouched, the
        interactions stay in memory, and the next save writes them."""
        with self._save_lock:
            real = storage.target(self.path)
            with storage.locked(real):
                disk = storage.signature(real)
                if self._tracking and disk != self._disk:
                    self._absorb(storage.read(real) or {})
                    self._disk = disk
                with self._lock:
                    interactions = list(self.interactions)
                if self._tracking and disk is not None and _same(interactions, self._synced):
                    return  # an earlier save already wrote all of it
                document = {
                    "version": FORMAT_VERSION,
                    "recorded_with": f"mockspike {__version__}",
                    **({"note": self.note} if self.note else {}),
                    "interactions": interactions,
                }
                storage.write_atomic(real, _json.pretty(document))
                self._synced, self._disk = interactions, storage.signature(real)
                self._tracking = True

    def _absorb(self, document: dict[str, Any]) -> None:
        """Take in the interactions another process saved: those on disk that this cassette
        neither read nor wrote (counted, so two identical episodes stay two)."""
        known = Counter(_fingerprint(i) for i in self._synced)
        theirs = []
        for interaction in document.get("interactions") or []:
            mark = _fingerprint(interaction)
            if known[mark]:
                known[mark] -= 1
            else:
                theirs.append(interaction)
        with self._lock:
            for interaction in theirs:
                self.interactions.append(interaction)
                self._index[self.key(interaction["request"])].append(len(self.interactions) - 1)
        self._synced = [*self._synced, *theirs]

    # -- matching ------------------------------------------------------------------------

    def key(self, request: dict[str, Any]) -> str:
        """The canonical key of a recorded-form request, under `match_on` and `ignore`."""
        body = request.get("body")
        for dotted in (*self.ignore, *self.redact_paths):  # a redacted value cannot match
            body = paths.delete(body, dotted)
        normal = {**request, "body": body}
        parts = [repr(match(normal)) for match in self._matchers]
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
        position = self.take_position(request, repeat_last)
        return None if position is None else self.interactions[position]

    def take_position(self, request: dict[str, Any], repeat_last: bool = True) -> int | None:
        """`take`, as the interaction's number in the file."""
        key = self.key(request)
        with self._lock:
            positions = self._index.get(key)
            if not positions:
                return None
            turn = self._cursor[key]
            if turn >= len(positions) and not repeat_last:
                return None
            self._cursor[key] = turn + 1
            return positions[min(turn, len(positions) - 1)]

    def has_turn(self, request: dict[str, Any], repeat_last: bool = True) -> bool:
        """Whether `take_position` would find an interaction now (taking none)."""
        key = self.key(request)
        with self._lock:
            positions = self._index.get(key) or []
            return bool(positions) and (repeat_last or self._cursor[key] < len(positions))

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
        redaction = Redaction(self.redact_headers, self.redact_paths)
        body, counts = redaction.counted_body(request.get("body"))
        for dotted, (found, changed) in counts.items():
            seen = self.redacted[dotted]
            seen[0], seen[1] = seen[0] + found, seen[1] + changed
        headers = redaction.header_values(request.get("headers", {}))
        return {**request, "headers": headers, "body": copy.deepcopy(body)}

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


def _fingerprint(interaction: dict[str, Any]) -> bytes:
    return hashlib.sha256(_json.canonical(interaction)).digest()


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


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
