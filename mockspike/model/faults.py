"""Transport faults: every kind's data, validation and effect on a `WireResponse`.

A fault breaks the transport, not the contract. Each kind is one row of `KINDS`: what it
does (the docs and error messages read it from here), whether the reply is still rendered
and billed, and how it changes the response, JSON and stream alike. Adapters know only
what a `WireResponse` can say: `drop`, a stream that raises `StreamBreak` ("cut"), and
`delay`. A new fault kind is a new row here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

from mockspike.model.outcomes import Failure
from mockspike.model.wire import Chunk, StreamBreak, WireResponse
from mockspike.script import checks

FaultKind = Literal["drop", "malformed", "stall", "break"]
ErrorFrame = Callable[[Failure], bytes]
"""Makes the mid-stream `event: error` frame for a failure, in the profile's form."""


@dataclass(frozen=True)
class Fault:
    """Break the transport, not the contract: one of `KINDS` (see `describe_kinds()`).

    - `drop`: close the connection before any response.
    - `malformed`: a 200 whose body is not valid JSON (or a stream with a broken frame).
    - `stall`: wait `seconds` before answering (to trip client timeouts).
    - `break`: cut a stream after `after` events; silently (the connection closes), or
      with a mid-stream `event: error` carrying `error` (e.g. `Failure(529)`).
    """

    kind: FaultKind
    seconds: float = 0.0
    after: int = 0
    error: Failure | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; choose {_choices()}")
        checks.check("fault", {"kind": self.kind, "seconds": self.seconds, "after": self.after})

    @property
    def renders(self) -> bool:
        """False when the fault answers before any reply is made (nothing is billed)."""
        return KINDS[self.kind].renders

    def apply(self, response: WireResponse, error_frame: ErrorFrame) -> WireResponse:
        """`response` as this fault changes it."""
        return KINDS[self.kind].effect(self, response, error_frame)

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "seconds": self.seconds, "after": self.after}


@dataclass(frozen=True)
class Kind:
    summary: str
    effect: Callable[[Fault, WireResponse, ErrorFrame], WireResponse]
    renders: bool = True


def _drop(fault: Fault, response: WireResponse, error_frame: ErrorFrame) -> WireResponse:
    return WireResponse(0, {}, drop=True)


def _stall(fault: Fault, response: WireResponse, error_frame: ErrorFrame) -> WireResponse:
    return replace(response, delay=response.delay + fault.seconds)


def _malformed(fault: Fault, response: WireResponse, error_frame: ErrorFrame) -> WireResponse:
    if response.stream is None:
        return replace(response, body=response.body[: len(response.body) // 2])
    return replace(response, stream=_broken_frame(response.stream), frame_by_frame=True)


def _break(fault: Fault, response: WireResponse, error_frame: ErrorFrame) -> WireResponse:
    if response.stream is None:
        return WireResponse(0, {}, drop=True)
    return replace(response, stream=_cut(response.stream, fault, error_frame), frame_by_frame=True)


def _broken_frame(stream: Iterator[Chunk]) -> Iterator[Chunk]:
    """The first frame whole, then half of the second, and the end."""
    for count, (delay, frame) in enumerate(stream):
        if count == 1:
            yield 0.0, frame[: len(frame) // 2] + b"\n\n"
            return
        yield delay, frame


def _cut(stream: Iterator[Chunk], fault: Fault, error_frame: ErrorFrame) -> Iterator[Chunk]:
    """The first `after` frames, then an `error` event or a cut connection."""
    for count, chunk in enumerate(stream):
        if count == fault.after:
            if fault.error is None:
                raise StreamBreak
            yield 0.0, error_frame(fault.error)
            return
        yield chunk


KINDS: dict[str, Kind] = {
    "drop": Kind("close the connection before any response", _drop, renders=False),
    "malformed": Kind("a 200 whose JSON body or second stream frame is cut in half", _malformed),
    "stall": Kind("wait `seconds` before answering (trips client timeouts)", _stall),
    "break": Kind("cut a stream after `after` events, silently or with an `error` event", _break),
}


def _choices() -> str:
    names = list(KINDS)
    return ", ".join(names[:-1]) + " or " + names[-1]


def describe_kinds() -> str:
    """One line a kind, for docstrings and help."""
    return "\n".join(f"- `{name}`: {kind.summary}" for name, kind in KINDS.items())
