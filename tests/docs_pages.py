"""The code blocks of the documentation, found by page and heading, for the tests that run
them: an example moved to another page or section fails its test loudly instead of
silently running nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def text(page: str) -> str:
    """A page by its path under docs/ (`how-to/redis.md`), or `README.md`."""
    path = ROOT / page if page == "README.md" else DOCS / page
    return path.read_text(encoding="utf-8")


def section(page: str, heading: str) -> str:
    """The text under `heading` (a whole line, `## Templates`) up to the next heading of the
    same or a higher level; headings inside code blocks do not count."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text(page).splitlines(keepends=True)
    if heading + "\n" not in lines:
        raise LookupError(f"{page} has no heading {heading!r}")
    start = lines.index(heading + "\n") + 1
    fenced = False
    for number, line in enumerate(lines[start:], start):
        fenced ^= line.startswith("```")
        hashes = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < hashes <= level and line[hashes : hashes + 1] == " ":
            return "".join(lines[start:number])
    return "".join(lines[start:])


def blocks(page: str, language: str, heading: str | None = None) -> list[str]:
    """The ```language blocks of a page (or of one section of it), in order."""
    source = text(page) if heading is None else section(page, heading)
    return [body for lang, body in FENCE.findall(source) if lang == language]


def block(page: str, language: str, containing: str) -> str:
    """The one ```language block of a page that contains `containing`."""
    found = [body for body in blocks(page, language) if containing in body]
    if len(found) != 1:
        raise LookupError(f"{page}: {len(found)} ```{language} blocks contain {containing!r}")
    return found[0]
