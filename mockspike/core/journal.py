"""The request journal: every request the fake received, parsed, with what answered it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, overload

from .faults import Fault
from .outcomes import Failure, Reply, Response


@dataclass
class Entry:
    """One request: what came in, which rule answered, what went out, and when."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    """The parsed JSON body (None when it was not a JSON object)."""
    status: int = 0
    endpoint: str | None = None
    """The endpoint's name in `core/endpoints.py` (None: no endpoint has that path)."""
    rule: str | None = None
    """The rule that answered (`rule #1 on(...)`), None for the synthetic default."""
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
    input_tokens: int = 0
    output_tokens: int = 0
    credits: float = 0.0
    """What the reply would have cost on the gateway (1 credit = 1 US cent)."""

    @property
    def model(self) -> str | None:
        return self.body.get("model") if self.body else None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "rule": self.rule,
            "response": _describe(self.response),
            "error": self.error,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "credits": self.credits,
            "started_at": self.started_at,
            "duration_ms": round(self.duration * 1000, 3),
        }


def _describe(response: Response | None) -> dict[str, Any] | None:
    if isinstance(response, Reply):
        return {"reply": {"content": response.content, "stop_reason": response.stop_reason}}
    if isinstance(response, Failure):
        return {"fail": {"status": response.status, "type": response.type}}
    if isinstance(response, Fault):
        return {"fault": response.describe()}
    return None


@dataclass
class Journal:
    """A list of `Entry`, newest last: `fake.requests[-1].body["system"]`, `.last`,
    `len(...)`, `.filter(path=..., model=..., status=...)`."""

    _entries: list[Entry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
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
    ) -> list[Entry]:
        return [
            e
            for e in self
            if (path is None or e.path == path)
            and (model is None or e.model == model)
            and (status is None or e.status == status)
            and (where is None or where(e))
        ]

    @property
    def messages(self) -> list[Entry]:
        """Only the `POST /v1/messages` calls."""
        return self.filter(path="/v1/messages")
