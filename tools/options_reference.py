"""`docs/reference/options.md` from the table of options (`mockspike.settings.OPTIONS`): one
row an option, with each name it has; and the pytest plugin page's table of the run's options.
`python -m tools.options_reference` rewrites both; a test fails when either is stale."""

from __future__ import annotations

from pathlib import Path

from mockspike.settings import OPTIONS, PART_OF, Option, switch

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "options.md"
PLUGIN_PAGE = PAGE.with_name("pytest-plugin.md")
START, END = "<!-- pytest options: made by python -m tools.options_reference -->", "<!-- end -->"
INTRO = """# Options

Every option of a fake, with each name it has: the keyword of `MockSpike(...)` (and of
`Settings.build(...)` and the `@pytest.mark.mockspike(...)` marker, which take the same
names), the flag of `mockspike serve`, and the pytest command-line option and ini key. A
dash: that way of setting it does not exist. Under pytest the marker wins over the command
line, which wins over the ini file. What each option does follows the table.

This page is made from the table of options in `mockspike/settings.py`, where each option is
declared once (`python -m tools.options_reference` rewrites it, and a test fails when it is
stale).
"""
HEAD = (
    "| Keyword (`MockSpike`, marker) | `serve` flag | pytest option | ini key | default |\n"
    "|---|---|---|---|---|"
)
_WHERE = {
    "server": "Under pytest, it sets the `mockspike_server` fixture's.",
    "session": "Under pytest, it sets the whole run's.",
}


def _code(value: object | None) -> str:
    return "-" if value is None else f"`{value}`"


def _flag(option: Option) -> str:
    if option.flag is None:
        return "-"
    many = " (repeatable)" if option.many else ""
    return f"`{option.flag}`{many}"


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
        _code(_default(option)),
    ]
    return "| " + " | ".join(cells) + " |"


def section(option: Option) -> str:
    """What the option does, and each way of giving it, with its example."""
    first = option.help.split(" ", 1)[0].strip(",:;")
    keep = option.choices is not None and first in option.choices()  # a value, said as is
    said = (option.help if keep else option.help[0].upper() + option.help[1:]) + "."
    lines = [f"### `{_title(option)}`", "", said]
    ways = []
    example = option.example or ("true" if option.parse is switch else None)
    if option.keyword:
        value = _python(option, example)
        ways.append(f"`MockSpike({option.name}={value})`")
        ways.append(f"`@pytest.mark.mockspike({option.name}={value})`")
    if option.flag is not None:
        words = option.flag if option.parse is switch else f"{option.flag} {example}"
        commands = " / ".join(option.commands)
        ways.append(
            f"`mockspike {option.commands[0]} {words}`"
            + (f" (commands: {commands})" if len(option.commands) > 1 else "")
        )
    if option.pytest_flag is not None:
        words = option.pytest_flag if option.parse is switch else f"{option.pytest_flag}={example}"
        ways.append(f"`pytest {words}`")
    if option.ini is not None:
        ways.append(f"`{option.ini} = {example}` in the ini file")
    if option.env is not None:
        ways.append(f"`{option.env}` in the environment (`serve`, when the flag is not given)")
    if option.choices is not None:
        lines += ["", f"One of: {', '.join(f'`{c}`' for c in option.choices())}."]
    if PART_OF.get(option.name) == "cassette":
        lines += ["", "A cassette's option: it goes with `cassette=` (or `--cassette`)."]
    if option.in_pytest:
        lines += ["", f"Under pytest: {option.in_pytest}."]
    elif option.where in _WHERE and (option.ini or option.pytest_flag):
        lines += ["", _WHERE[option.where]]
    lines += ["", *(f"- {way}" for way in ways)]
    return "\n".join(lines) + "\n"


def _python(option: Option, example: str | None) -> str:
    """The example as a keyword takes it (`...`: a value with no text form)."""
    if example is None:
        return "..."
    value = option.read(example)
    return repr((value,) if option.many else value)


def _title(option: Option) -> str:
    if option.keyword:
        return option.name
    return option.flag or option.pytest_flag or option.ini or option.name


def page() -> str:
    table = "\n".join([HEAD, *(row(o) for o in OPTIONS)])
    sections = "\n".join(section(o) for o in OPTIONS)
    return f"{INTRO}\n{table}\n\n## What each option does\n\n{sections}"


def pytest_table() -> str:
    """The run's options (pytest option and ini key) for the pytest plugin's page."""
    rows = [
        f"| {_code(o.pytest_flag)} | {_code(o.ini)} | {o.help} |"
        for o in OPTIONS
        if o.pytest_flag is not None or o.ini is not None
    ]
    return "\n".join(["| option | ini key | meaning |", "|---|---|---|", *rows])


def plugin_page(text: str) -> str:
    """`text` (the plugin's page) with the table between its markers made again."""
    before, found, rest = text.partition(START)
    _, ended, after = rest.partition(END)
    if not (found and ended):
        raise SystemExit(f"{PLUGIN_PAGE}: the markers {START!r} ... {END!r} are missing")
    return f"{before}{START}\n{pytest_table()}\n{END}{after}"


if __name__ == "__main__":
    PAGE.write_text(page(), encoding="utf-8")
    PLUGIN_PAGE.write_text(plugin_page(PLUGIN_PAGE.read_text("utf-8")), encoding="utf-8")
