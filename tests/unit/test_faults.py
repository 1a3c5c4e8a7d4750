"""Every fault kind, on a JSON answer and on a stream, through the engine: what the
adapters receive (`drop`, a cut stream, `delay`) and what is billed."""

from __future__ import annotations

import json

import pytest

from mockspike import Engine, Failure, Fault
from mockspike.model.faults import KINDS
from mockspike.model.wire import StreamBreak, WireResponse
from mockspike.render import sse
from tests.unit.conftest import BODY, body, post

STREAM = {**BODY, "stream": True}


def answer(fault: Fault, *, stream: bool) -> tuple[Engine, WireResponse]:
    engine = Engine()
    engine.new_rule().fault(fault)
    return engine, engine.handle(post(body=STREAM if stream else BODY))


def frames(response: WireResponse) -> list[tuple[str, object]]:
    return sse.parse(body(response))


def test_every_kind_is_covered_here() -> None:
    assert set(KINDS) == {"drop", "malformed", "stall", "break"}


@pytest.mark.parametrize("stream", [False, True])
def test_drop_answers_nothing_and_bills_nothing(stream: bool) -> None:
    engine, response = answer(Fault("drop"), stream=stream)
    assert response.drop and response.status == 0
    assert engine.journal.last.credits == 0.0


def test_malformed_json_is_half_a_body() -> None:
    whole = Engine().handle(post()).body
    _, response = answer(Fault("malformed"), stream=False)
    assert response.status == 200 and len(response.body) == len(whole) // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.body)


def test_malformed_stream_breaks_the_second_frame_and_ends() -> None:
    _, response = answer(Fault("malformed"), stream=True)
    chunks = [chunk for _, chunk in response.iter_chunks()]
    assert len(chunks) == 2
    assert chunks[0].startswith(b"event: message_start\n")
    assert chunks[1].endswith(b"\n\n") and not chunks[1].rstrip(b"\n").endswith(b"}")


@pytest.mark.parametrize("stream", [False, True])
def test_stall_delays_the_whole_answer(stream: bool) -> None:
    _, response = answer(Fault("stall", seconds=2.5), stream=stream)
    assert response.delay == 2.5 and response.status == 200
    assert response.drop is False


def test_break_on_json_drops_after_billing() -> None:
    engine, response = answer(Fault("break", after=2), stream=False)
    assert response.drop
    assert engine.journal.last.credits > 0


@pytest.mark.parametrize("after", [0, 1, 3])
def test_break_cuts_a_stream_after_n_events(after: int) -> None:
    _, response = answer(Fault("break", after=after), stream=True)
    received = []
    with pytest.raises(StreamBreak):
        for _, chunk in response.iter_chunks():
            received.append(chunk)
    assert len(received) == after


def test_break_with_an_error_ends_with_an_error_event() -> None:
    _, response = answer(Fault("break", after=2, error=Failure(529)), stream=True)
    events = frames(response)
    assert [name for name, _ in events] == ["message_start", "content_block_start", "error"]
    data = events[-1][1]
    assert isinstance(data, dict)
    assert data["error"]["type"] == "overloaded_error"
    assert data["request_id"] == response.headers["request-id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"kind": "explode"}, "unknown fault 'explode'; choose drop, malformed, stall or break"),
        ({"kind": "stall", "seconds": -1}, "must not be negative"),
        ({"kind": "break", "after": -1}, "must not be negative"),
    ],
)
def test_bad_faults_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**args)  # type: ignore[arg-type]
