"""`mockspike serve`'s request log: every request's line arrives, in order, and the lines of
one turn of the event loop leave in one write."""

from __future__ import annotations

import asyncio
import io

from mockspike.adapters.request_log import printer
from mockspike.state.journal import Entry


class Counted(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _entry(n: int) -> Entry:
    entry = Entry("POST", "/v1/messages", {}, None, status=200)
    entry.rule = f"rule #{n}"
    return entry


def test_the_lines_of_one_loop_turn_leave_in_one_write_in_order() -> None:
    out = Counted()
    log = printer(stream=out)

    async def serve() -> None:
        for n in (1, 2, 3):
            log(_entry(n))
        assert out.getvalue() == ""  # not yet: the turn is not over
        await asyncio.sleep(0)
        log(_entry(4))
        await asyncio.sleep(0)

    asyncio.run(serve())
    assert out.getvalue().splitlines() == [f"POST /v1/messages 200 rule #{n}" for n in (1, 2, 3, 4)]
    assert out.writes == 2


def test_a_line_from_outside_the_loop_is_written_at_once() -> None:
    out = Counted()
    log = printer(stream=out)
    log(_entry(1))
    log(None)  # a cleared journal prints nothing
    assert out.getvalue() == "POST /v1/messages 200 rule #1\n"
