"""The cassette protocol: what answers before the fake's own gateway and contract.

A cassette (replay, or record through an upstream: `cassettes/recorder.py`) implements
`CassetteSource`; the engine knows it only by this protocol, so it never imports the
recorder, and this module imports nothing above the values."""

from __future__ import annotations

from typing import Protocol

from mockspike.model.errors import ApiError
from mockspike.model.wire import WireRequest, WireResponse

MISS_HEADER = "x-mockspike-cassette-miss"


class Notes(Protocol):
    """What a cassette may note on the journal entry of a request it answered (a journal
    `Entry` is one)."""

    cassette_error: str | None


class CassetteMiss(ApiError):
    """A cassette had nothing recorded for a request and could not record it: a 400
    that names the cassette and says how the closest recording differs."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message, headers={MISS_HEADER: "true"})


class CassetteSource(Protocol):
    """Answers every request it is given (raising `ApiError`, `CassetteMiss` included)."""

    @property
    def blocking(self) -> bool:
        """True when answering may wait on the network (adapters then use a thread)."""
        ...

    @property
    def credentialed(self) -> bool:
        """True when it forwards with credentials of its own (from the upstream URL): then
        only requests under the server's own Host names are answered (`guard.py`)."""
        ...

    def forwards(self, request: WireRequest) -> bool:
        """True when answering `request` would wait on the network (no replay for it):
        adapters run those on threads of their own, so replays never queue behind them."""
        ...

    def handle(self, request: WireRequest, entry: Notes | None = None) -> WireResponse:
        """Answer `request`; `entry`, its journal entry, may be annotated (even after the
        answer, while a recording streams: `cassette_error` when it could not be saved)."""
        ...

    def describe(self) -> str:
        """What answers, for the journal (`cassette tests/cassettes/x.json`)."""
        ...

    def close(self) -> None: ...
