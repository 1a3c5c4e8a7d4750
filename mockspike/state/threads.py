"""The threads store: what a server-held message thread keeps under each reply's id
(`Record`: plain data), and what became of that reply — open, claimed by a continuation
until a time, or continued. Claiming is the one decision: atomic in every implementation,
so two requests (or two processes) never continue the same reply. The threads themselves
(a continuation as the whole conversation, the other refusals) are `engine/threads.py`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from mockspike.model.errors import ApiError

FLIGHT_SECONDS = 600.0
"""How long a continuation holds its claim on the reply it continues from, at most: a
stream the client left without closing gives it back after this (a choice, docs/contract.md)."""
RETRY = 'replay the full conversation with `thread: {"type": "create"}`'


def thread_error(status: int, code: str, message: str, **details: Any) -> ApiError:
    """A refusal the SDK maps to its own class by status and `error_code`."""
    return ApiError(status, message, details={"error_code": code, **details})


def not_found(previous: str) -> ApiError:
    return thread_error(
        404,
        "thread_not_found",
        f"thread.previous_message_id: no usable thread state was found for `{previous}`. "
        f"To start a new thread, {RETRY}.",
    )


def already_continued(previous: str) -> ApiError:
    return thread_error(
        400,
        "thread_already_continued",
        f"thread.previous_message_id: the response `{previous}` has already been continued, "
        "and each response can be continued only once. Continue from the thread's most recent "
        "response `id`.",
    )


def in_flight(previous: str) -> ApiError:
    return thread_error(
        400,
        "thread_continue_in_flight",
        f"thread.previous_message_id: another request is still continuing from `{previous}`. "
        f"Wait for it to complete and continue from its response `id`, or {RETRY}.",
    )


@dataclass
class Record:
    """What a thread keeps under one reply's id: plain data, stored as JSON in Redis."""

    model: str
    messages: list[dict[str, Any]]
    """The whole conversation, ending with the reply."""
    system: Any = None
    tools: Any = None
    expires: float = 0.0

    def to_state(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": self.messages,
            "system": self.system,
            "tools": self.tools,
            "expires": self.expires,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Record:
        return cls(
            model=data["model"],
            messages=data["messages"],
            system=data.get("system"),
            tools=data.get("tools"),
            expires=float(data.get("expires", 0.0)),
        )


class ThreadStore(Protocol):
    def claim(self, message_id: str, now: float) -> Record:
        """The record kept under `message_id`, now held by one continuation; raises
        `not_found`, `already_continued` or `in_flight`."""
        ...

    def keep(self, message_id: str, record: Record, previous: str | None) -> None:
        """Store a reply's record; `previous`, the reply it continued, is then continued."""
        ...

    def release(self, message_id: str) -> None:
        """Give back a claim whose request was not answered."""
        ...

    def clear(self) -> None: ...
    def __len__(self) -> int: ...


@dataclass
class _Kept:
    record: Record
    next: str = "open"
    """`open`, `flight` (claimed until `until`) or `done`."""
    until: float = 0.0


class MemoryThreads:
    """Threads in this process. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept] = {}

    def claim(self, message_id: str, now: float) -> Record:
        with self._lock:
            kept = self._kept.get(message_id)
            if kept is None or kept.record.expires <= now:
                raise not_found(message_id)
            if kept.next == "done":
                raise already_continued(message_id)
            if kept.next == "flight" and kept.until > now:
                raise in_flight(message_id)
            kept.next, kept.until = "flight", now + FLIGHT_SECONDS
            return kept.record

    def keep(self, message_id: str, record: Record, previous: str | None) -> None:
        with self._lock:
            self._kept[message_id] = _Kept(record)
            if previous is not None and previous in self._kept:
                self._kept[previous].next = "done"

    def release(self, message_id: str) -> None:
        with self._lock:
            kept = self._kept.get(message_id)
            if kept is not None and kept.next == "flight":
                kept.next = "open"

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)
