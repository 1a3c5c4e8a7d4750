"""`mockspike serve`'s log: one line a request — method, path, status, what answered (the
rule, the cassette entry, the synthetic default) or why nothing could (a miss and its
closest match). `--verbose` adds the request body; `--quiet` logs nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TextIO

from ..core.journal import Entry


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

    def watch(entry: Entry | None) -> None:
        if entry is not None:  # None: the journal was cleared
            print(line(entry, verbose), file=stream or sys.stderr, flush=True)

    return watch
