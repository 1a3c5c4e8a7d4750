"""`mockspike serve`'s log: one line a request — method, path, status, what answered (the
rule, the cassette entry, the synthetic default) or why nothing could (a miss and its
closest match). `--verbose` adds the request body; `--quiet` logs nothing."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import TextIO

from mockspike.state.journal import Entry


def line(entry: Entry, verbose: bool = False) -> str:
    """The log line of one journal entry."""
    if entry.error is not None and entry.status >= 400:
        message = str(entry.error.get("message", ""))
        answered = message if verbose else message.split("\n")[0]
        if entry.cassette_miss and not verbose:
            diff = [d for d in message.split("\n")[1:] if d.startswith(("-", "+"))]
            answered += (" " + "; ".join(diff[:4])) if diff else ""
    elif entry.rule is not None:
        answered = entry.rule
    elif entry.endpoint == "messages":
        answered = "synthetic reply"
    else:
        answered = ""
    text = f"{entry.method} {entry.path} {entry.status or '-'}"
    if answered:
        text += f" {answered}"
    if verbose and entry.body is not None:
        text += "\n    " + json.dumps(entry.body, ensure_ascii=False)
    return text


def printer(verbose: bool = False, stream: TextIO | None = None) -> Callable[[Entry | None], None]:
    """A journal listener that prints each request's line (to stderr by default)."""
    return _Printer(verbose, stream)


class _Printer:
    """Lines from the event loop's thread are written once a turn of the loop, all the
    requests answered in that turn in one write (a write and a flush a request cost the
    server about a twelfth of a small request's time); lines from any other thread (a
    large body answered on a worker) are written at once."""

    def __init__(self, verbose: bool, stream: TextIO | None) -> None:
        self.verbose = verbose
        self.stream = stream
        self.pending: list[str] = []

    def __call__(self, entry: Entry | None) -> None:
        if entry is None:  # the journal was cleared
            return
        text = line(entry, self.verbose)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write(text)
            return
        if not self.pending:
            loop.call_soon(self.flush)
        self.pending.append(text)

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        self._write("\n".join(lines))

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(text + "\n")
        stream.flush()
