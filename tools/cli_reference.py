"""`docs/reference/cli.md` from the command line itself: every command's `--help`, as the
program prints it. `python -m tools.cli_reference` rewrites the page; a test fails when it
is stale."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mockspike.cli import parser

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "cli.md"
FENCE = "`" * 3
INTRO = """# Command line

Every command and flag of `mockspike`, as `--help` prints it (this page is made from the
program: `python -m tools.cli_reference` rewrites it, and a test fails when it is stale).
"""


def commands(
    command: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each (sub)command with its words after `mockspike`, depth first."""
    found = [(path, command)]
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += commands(sub, (*path, name))
    return found


def page() -> str:
    os.environ["COLUMNS"] = "100"  # the same wrapping wherever it is made
    sections = [INTRO]
    for path, command in commands(parser()):
        title = " ".join(("mockspike", *path))
        sections.append(f"## `{title}`\n\n{FENCE}text\n{command.format_help().rstrip()}\n{FENCE}\n")
    return "\n".join(sections)


if __name__ == "__main__":
    PAGE.write_text(page(), encoding="utf-8")
