"""`docs/reference/options.md` from the table of options (`mockspike.settings.OPTIONS`): one
row an option, with each name it has. `python -m tools.options_reference` rewrites the page;
a test fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from mockspike.settings import OPTIONS, Option, switch

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "options.md"
INTRO = """# Options

Every option of a fake, with each name it has: the keyword of `MockSpike(...)` (and of
`Settings.build(...)` and the `@pytest.mark.mockspike(...)` marker, which take the same
names), the flag of `mockspike serve`, the pytest command-line option and ini key, and the
environment variable read when the flag is not given. A dash: that way of setting it does not
exist. Under pytest the marker wins over the command line, which wins over the ini file.

This page is made from the table of options in `mockspike/settings.py`, where each option is
declared once (`python -m tools.options_reference` rewrites it, and a test fails when it is
stale).
"""
HEAD = (
    "| Keyword (`MockSpike`, marker) | `serve` flag | pytest option | ini key | environment "
    "| default | what it does |\n|---|---|---|---|---|---|---|"
)
_WHERE = {
    "server": "pytest: the `mockspike_server` fixture's",
    "session": "pytest: the whole run's",
}


def _code(value: object | None) -> str:
    return "-" if value is None else f"`{value}`"


def _flag(option: Option) -> str:
    if option.flag is None:
        return "-"
    others = [c for c in option.commands if c != "serve"]
    also = f" (also `{'`, `'.join(others)}`)" if others else ""
    many = " (repeatable)" if option.many and "repeatable" not in option.help else ""
    return f"`{option.flag}`{many}{also}"


def _what(option: Option) -> str:
    parts = [option.help]
    if option.choices is not None:
        parts.append(f"one of: {', '.join(f'`{c}`' for c in option.choices())}")
    if option.in_pytest:
        parts.append(f"pytest: {option.in_pytest}")
    elif option.where in _WHERE and (option.ini or option.pytest_flag):
        parts.append(_WHERE[option.where])
    if option.example is not None and option.parse is not switch:
        parts.append(f"e.g. `{option.example}`")
    return "; ".join(parts).replace("|", "\\|")


def _default(option: Option) -> object | None:
    if option.parse is switch:  # said as an ini file says it
        return "true" if option.shown_default else "false"
    shown: object | None = option.shown_default
    return shown


def row(option: Option) -> str:
    cells = [
        _code(option.name if option.keyword else None),
        _flag(option),
        _code(option.pytest_flag),
        _code(option.ini),
        _code(f"${option.env}" if option.env else None),
        _code(_default(option)),
        _what(option),
    ]
    return "| " + " | ".join(cells) + " |"


def page() -> str:
    return "\n".join([INTRO, HEAD, *(row(o) for o in OPTIONS)]) + "\n"


if __name__ == "__main__":
    PAGE.write_text(page(), encoding="utf-8")
