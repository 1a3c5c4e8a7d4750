"""The request journal: every request the fake received, parsed, with what answered it.

Bounded, and free of secrets by default: it keeps the last `max_entries` requests and at
most `max_bytes` of their bodies (oldest dropped first); a body over `summary_bytes` is kept
as a summary (its size, sha256 and a prefix); secret headers (`x-api-key`, `authorization`,
cookies and any configured for the cassette) and configured body paths are redacted unless
the fake was made with `journal_raw=True`.

The journal is the journal store: `Journal` keeps entries in this process, and its Redis
twin (`state/redis/journal.py`) subclasses it to keep them in a stream every process shares.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, overload

from mockspike import _json
from mockspike._redact import Redaction
from mockspike.model.capture import Captured
from mockspike.model.faults import Fault
from mockspike.model.outcomes import Failure, Reply, Response

Listener = Callable[["Entry | None"], None]
"""Told of each new journal entry (None: the journal was cleared)."""


@dataclass(slots=True)
class Entry:
    """One request: what came in, which rule answered, what went out, and when."""

    method: str
    path: str
    headers: dict[str, str]
    _body: dict[str, Any] | None
    """`body`, once parsed (see `_raw`)."""
    status: int = 0
    endpoint: str | None = None
    """The endpoint's name in `engine/endpoints.py` (None: no endpoint has that path)."""
    rule: str | None = None
    """The rule that answered (`rule #1 on(...)`), None for the synthetic default."""
    scenario: dict[str, str | None] | None = None
    """For a rule in a scenario: `{"name", "state" (as the request found it), "next_state"}`."""
    response: Response | None = None
    started_at: float = 0.0
    """Wall-clock time (`time.time()`) when the request arrived."""
    duration: float = 0.0
    """Seconds the engine spent deciding (pacing and streaming not included)."""
    error: dict[str, Any] | None = None
    """`{"type", "message"}` when the answer was an error envelope."""
    unmatched: bool = False
    """True when a strict fake refused it because no rule matched."""
    cassette_miss: bool = False
    """True when a cassette had no interaction for it and could not record one."""
    fake_error: str | None = None
    """Set when the fake itself could not answer (an internal error, or a scripted answer
    that does not fit the request): the pytest plugin fails the test with it."""
    cassette_error: str | None = None
    """Why its recording could not be saved (a full disk…); the client was answered anyway."""
    input_tokens: int = 0
    output_tokens: int = 0
    credits: float = 0.0
    """What the reply would have cost on the gateway (1 credit = 1 US cent)."""
    number: int = 0
    """1, 2, 3… in arrival order (set by `Journal.append`; kept when old entries drop)."""
    at: float = 0.0
    """Arrival time on the engine's clock (a `FakeClock` when the test drives time)."""
    reply: Captured | None = None
    """What went back: headers, body or stream events (bounded), how a stream ended."""
    batch_item: str | None = None
    """`msgbatch_…/custom_id` for a request answered inside a Message Batch."""
    body_summary: dict[str, Any] | None = None
    """For a body too large to keep: `{"bytes", "sha256", "prefix"}` (and `body` is None)."""
    size: int = 0
    """Bytes of request body and reply this entry holds (counted against the budget)."""
    dialect: str = "anthropic"
    """How the client spoke: `anthropic` (the Messages API) or `openai` (the OpenAI SDK
    compatibility layer, `render/openai_chat.py`)."""
    ignored: list[str] | None = None
    """OpenAI dialect: the request's fields the compatibility layer accepted and ignored
    (dotted paths: `logprobs`, `tools.0.function.strict`)."""
    translated: dict[str, Any] | None = None
    """OpenAI dialect: the Messages request the compatibility layer made of `body` (left
    out when body paths are redacted: they name the request as sent)."""
    _raw: bytes | None = None
    """The JSON text `body` is parsed from when first read. The journal keeps a Messages
    body as the bytes it came in: one object a sixth the size, where the parsed body is
    hundreds of objects the collector would walk for every request the journal holds."""
    _verbatim: bool = False
    """`body` is the request's own JSON text parsed, unchanged (`parsed_from`)."""

    @property
    def body(self) -> dict[str, Any] | None:
        """The parsed JSON body (None when it was not a JSON object)."""
        if self._raw is not None:
            self._body, self._raw = _json.loads(self._raw), None
        return self._body

    @body.setter
    def body(self, value: dict[str, Any] | None) -> None:
        self._body, self._raw, self._verbatim = value, None, False

    def parsed_from_request(self, body: dict[str, Any]) -> None:
        """Set `body`: the request's JSON text parsed, so the journal may keep the text."""
        self._body, self._raw, self._verbatim = body, None, True

    @property
    def model(self) -> str | None:
        body = self.body
        return body.get("model") if body else None

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON, under the same names as its Python fields (and `model`, the
        response described, the reply as captured)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in HIDDEN_FIELDS}
        out["body"] = self.body
        out["model"] = self.model
        out["response"] = _describe(self.response)
        out["reply"] = self.reply.to_json() if self.reply else None
        return out


HIDDEN_FIELDS = frozenset({"size", "_body", "_raw", "_verbatim"})
"""Fields the JSON form of an entry leaves out (the body it shows parsed, as `body`)."""


def _describe(response: Response | None) -> dict[str, Any] | None:
    if isinstance(response, Reply):
        return {"reply": {"content": response.content, "stop_reason": response.stop_reason}}
    if isinstance(response, Failure):
        return {"fail": {"status": response.status, "type": response.type}}
    if isinstance(response, Fault):
        return {"fault": response.describe()}
    return None


#: Default bounds of the journal.
MAX_ENTRIES = 10_000
MAX_BYTES = 64 * 1024 * 1024
SUMMARY_BYTES = 1024 * 1024
PREFIX_BYTES = 1024


@dataclass
class Journal:
    """The last requests, newest last: `fake.requests[-1].body["system"]`, `.last`,
    `len(...)`, `.filter(path=..., model=..., status=..., dialect=...)`."""

    max_entries: int = MAX_ENTRIES
    max_bytes: int = MAX_BYTES
    """Body bytes kept over all entries; the oldest entries go first past it."""
    summary_bytes: int = SUMMARY_BYTES
    """A body larger than this is kept as a summary only."""
    redaction: Redaction | None = field(default_factory=Redaction)
    """None keeps headers and bodies as received (`journal_raw=True`)."""
    dropped: int = 0
    """Entries dropped to stay within the bounds since the last `clear()`."""
    _entries: deque[Entry] = field(default_factory=deque, repr=False)
    _bytes: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _listeners: list[Listener] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.max_bytes < 0 or self.summary_bytes < 0:
            raise ValueError("journal bounds: max_entries >= 1, max_bytes and summary_bytes >= 0")

    def append(self, entry: Entry, raw: bytes = b"") -> None:
        """Keep `entry` (its request body was `raw`), redacted and summarised, within bounds."""
        if self.redaction is not None:
            entry.headers = self.redaction.header_values(entry.headers)
            if self.redaction.paths:
                entry.body = self.redaction.body(entry.body)
                entry.translated = None  # the paths name the request as sent, not this
        if len(raw) > self.summary_bytes:
            shown = _json.dumps(entry.body) if entry.body is not None else raw
            entry.body_summary = {
                "bytes": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "prefix": shown[:PREFIX_BYTES].decode("utf-8", "replace"),
            }
            entry.body = None
            entry.size = PREFIX_BYTES
        else:
            entry.size = len(raw)
            if entry._verbatim and raw:  # kept as text, parsed again when read
                entry._body, entry._raw = None, raw
        if entry.reply is not None:
            entry.size += entry.reply.size
        with self._lock:
            entry.number = next(self._numbers)
            self._entries.append(entry)
            self._bytes += entry.size
            while len(self._entries) > self.max_entries or (
                self._bytes > self.max_bytes and len(self._entries) > 1
            ):
                self._bytes -= self._entries.popleft().size
                self.dropped += 1
        if self._listeners:  # nothing more on the hot path while nobody listens
            self._tell(entry)

    def adopt(self, journal: Journal) -> Journal:
        """The journal to keep in this one's place, with `journal`'s bounds and redaction:
        `journal` itself in memory; its Redis twin keeps writing to the same stream."""
        return journal

    def clear(self) -> None:
        """Forget every entry (and give their memory back)."""
        with self._lock:
            self._entries = deque()
            self._bytes = 0
            self.dropped = 0
        if self._listeners:
            self._tell(None)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(entry)` after each append (`listener(None)` after a clear), from
        the thread that appended; returns the function that unsubscribes it. A listener
        that raises is dropped."""
        with self._lock:
            self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            with self._lock:
                self._listeners = [x for x in self._listeners if x is not listener]

        return unsubscribe

    def _tell(self, entry: Entry | None) -> None:
        for listener in self._listeners:
            try:
                listener(entry)
            except Exception:
                with self._lock:
                    self._listeners = [x for x in self._listeners if x is not listener]

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return list(self._entries)[index]
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries))

    def __bool__(self) -> bool:
        return bool(self._entries)

    @property
    def last(self) -> Entry:
        if not self._entries:
            raise IndexError("the fake has received no request yet")
        return self._entries[-1]

    @property
    def count(self) -> int:
        return len(self._entries)

    def filter(
        self,
        *,
        path: str | None = None,
        model: str | None = None,
        status: int | None = None,
        where: Callable[[Entry], bool] | None = None,
        dialect: str | None = None,
    ) -> list[Entry]:
        """The entries that match every filter given (`dialect`: `anthropic` or `openai`)."""
        return [
            e
            for e in self
            if (path is None or e.path == path)
            and (model is None or e.model == model)
            and (status is None or e.status == status)
            and (dialect is None or e.dialect == dialect)
            and (where is None or where(e))
        ]

    @property
    def unmatched(self) -> list[Entry]:
        """Requests nothing could answer: no rule matched (strict), no cassette entry."""
        return [e for e in self if e.unmatched or e.cassette_miss]

    @property
    def messages(self) -> list[Entry]:
        """Only the `POST /v1/messages` calls."""
        return self.filter(path="/v1/messages")
