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
