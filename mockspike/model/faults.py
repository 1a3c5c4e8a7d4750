"""How an answer fails: a `Failure` (an error status in the exact envelope) or a `Fault` (the
transport breaks), and every fault kind's data, validation and effect on a `WireResponse`.

A fault breaks the transport, not the contract. Each kind is one row of `KINDS`: what it
does (`Fault`'s docstring, the docs and error messages read it from here), whether the
reply is still rendered and billed, and how it changes the response, JSON and stream alike.
Adapters know only what a `WireResponse` can say: `drop`, a stream that raises
`StreamBreak` ("cut"), and `delay`. A new fault kind is a new row here: its summary, its
effect, and which of the fields `seconds`, `after`, `error` it `takes` (`Fault`'s docstring,
the answer verbs' and `fake.fault`'s docs and `mockspike.strategies.faults()` follow).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from mockspike.model.arguments import check_value
from mockspike.model.wire import Chunk, StreamBreak, WireResponse


@dataclass(frozen=True)
class Failure:
    """Answer with an error status in the exact envelope (type and message default from
    the status). `retry_after` (seconds) sets `retry-after` and `retry-after-ms`."""

    status: int
    type: str | None = None
    message: str | None = None
    headers: dict[str, str] | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        check_value("fail", {k: v for k, v in vars(self).items() if v is not None})


ErrorFrame = Callable[[Failure], bytes]
"""Makes the mid-stream `event: error` frame for a failure, in the profile's form."""


@dataclass(frozen=True)
class Fault:
    """Break the transport, not the contract: `kind` is one of `KINDS` (listed below);
    `seconds` for a stall, `after` events before a cut, and the cut's mid-stream
    `event: error` carrying `error` (e.g. `Failure(529)`; None: the connection just closes)."""

    kind: str
    seconds: float = 0.0
    after: int = 0
    error: Failure | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; {_choices()}")
        check_value("fault", {"kind": self.kind, "seconds": self.seconds, "after": self.after})

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
    """False when it answers before any reply is made (nothing is billed)."""
    takes: tuple[str, ...] = ()
    """The `Fault` fields it reads (`seconds`, `after`, `error`); the others are ignored."""


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


KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "drop": Kind("close the connection before any response", _drop, renders=False),
        "malformed": Kind(
            "a 200 whose JSON body or second stream frame is cut in half", _malformed
        ),
        "stall": Kind(
            "wait `seconds` before answering (trips client timeouts)", _stall, takes=("seconds",)
        ),
        "break": Kind(
            "cut a stream after `after` events, silently or with an `error` event",
            _break,
            takes=("after", "error"),
        ),
    }
)
"""Read-only: the fault kinds are the same for every fake in the process."""


def _choices() -> str:
    names = list(KINDS)
    return "choose " + ", ".join(names[:-1]) + " or " + names[-1]


def describe_kinds() -> str:
    """One line a kind, for docstrings and help."""
    return "\n".join(f"- `{name}`: {kind.summary}" for name, kind in KINDS.items())


Fault.__doc__ = f"{Fault.__doc__}\n\n{textwrap.indent(describe_kinds(), '    ')}\n"
