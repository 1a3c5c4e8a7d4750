"""The wire frames of a stream are the event grammar's events, byte for byte, with the
output tokens pacing gives each (the fast framer may never drift from the grammar)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mockspike import Reply
from mockspike.render import sse
from mockspike.render.message import Rendered
from mockspike.testing import strategies as ms


@given(ms.replies(), st.integers(0, 5000), st.booleans())
def test_wire_frames_are_the_grammars_events_byte_for_byte(
    reply: Reply, input_tokens: int, full_usage: bool
) -> None:
    rendered = Rendered("msg_01" + "A" * 22, "claude-haiku-4-5", reply, input_tokens, full_usage)
    events = list(sse.events(rendered))
    frames = list(sse.frames(rendered))
    assert [frame for _, frame in frames] == [sse.frame(name, data) for name, data in events]
    assert [tokens for tokens, _ in frames] == [sse.output_tokens(data) for _, data in events]


HOSTILE_SSE = (
    b'event: a\ndata: {"x":1}\n\nevent:\ndata: 2\n\nevent: \xff\ndata: three\n\n'
    b"data: no name\r\n\r\ndata: split\ndata: lines\n\nevent: tail\ndata: 9\n\n"
)


def test_the_parser_gives_the_same_events_however_the_body_is_cut() -> None:
    """Held pieces are joined once their blank line arrives (linear in the bytes fed: 40 MiB
    without a blank line parses in 0.2 s); cut anywhere, or byte by byte, the events are
    those of the whole body. An empty event name is the default `message`; a name that is
    not UTF-8 is read with replacement characters."""
    whole = sse.parse(HOSTILE_SSE)
    assert whole == [
        ("a", {"x": 1}),
        ("message", 2),
        ("\ufffd", "three"),
        ("message", "no name"),
        ("message", "split\nlines"),
        ("tail", 9),
    ]
    for cut in range(len(HOSTILE_SSE) + 1):
        parser = sse.EventParser()
        assert parser.feed(HOSTILE_SSE[:cut]) + parser.feed(HOSTILE_SSE[cut:]) == whole
    parser = sse.EventParser()
    byte_by_byte = [e for i in range(len(HOSTILE_SSE)) for e in parser.feed(HOSTILE_SSE[i : i + 1])]
    assert byte_by_byte == whole
