"""Each option is declared once, as a row of `mockspike.settings.OPTIONS`: every surface it
names (the `MockSpike` keyword, the marker, `mockspike serve`'s flag, the pytest option and
ini key) takes it, bad values are refused in words that say the fix, and the options
reference page is what the table says today."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mockspike import MockSpike, Settings
from mockspike.cli import parser, serve_options
from mockspike.settings import KEYWORDS, OPTIONS, PART_OF, Option, switch
from tests.conftest import serve_process

pytest_plugins = ["pytester"]

CLI = [sys.executable, "-m", "mockspike"]
EMPTY_CASSETTE = '{"version": 1, "interactions": []}'
SAFE = {"state": "memory"}
"""Examples not to use as they are in a test (`redis://…` would need a server)."""
KEYWORD_ROWS = [o for o in OPTIONS if o.keyword and o.example is not None]


def _value(option: Option) -> Any:
    """The row's example, as a keyword takes it."""
    value = option.read(SAFE.get(option.name, option.example or ""))
    return (value,) if option.many else value


def _setting(settings: Settings, name: str) -> Any:
    """What `settings` holds for the flat keyword `name`."""
    part = PART_OF.get(name)
    return getattr(getattr(settings, part), name) if part else getattr(settings, name)


def _same(held: Any, given: Any) -> bool:
    if isinstance(held, frozenset):
        return held == set(given)
    return bool(held == given or str(held) == str(given))


def test_the_keywords_are_exactly_what_mockspike_takes() -> None:
    """Every row's keyword is one `MockSpike(...)` takes, and every field of `Settings` has
    its row (a new setting without one fails here)."""
    assert sorted(KEYWORDS) == sorted(Settings.names())
    assert {f.name for f in fields(Settings)} <= set(KEYWORDS)
    assert len({o.name for o in OPTIONS}) == len(OPTIONS)


@pytest.mark.parametrize("option", KEYWORD_ROWS, ids=lambda o: o.name)
def test_every_keyword_reaches_the_fake(option: Option, tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text("keys: {}\n")
    (tmp_path / "c.json").write_text(EMPTY_CASSETTE)
    value = _value(option)
    options: dict[str, Any] = {option.name: value}
    if option.name == "cassette":
        options["cassette"] = value = tmp_path / "c.json"
    elif PART_OF.get(option.name) == "cassette":
        options["cassette"] = tmp_path / "c.json"
    if option.name in ("config", "files_dir"):
        options[option.name] = value = tmp_path / str(value)
    if option.name == "admin_open":
        options["admin_token"] = None
    with MockSpike(**options) as fake:
        held = _setting(fake.settings, option.name)
    if option.name == "cassette":
        held = held.path
    if option.name != "config":  # a file path in, a GatewayConfig kept
        assert _same(held, value), (held, value)


def test_every_serve_flag_is_in_its_help() -> None:
    for command in ("serve", "validate", "cassette check"):
        shown = subprocess.run(
            [*CLI, *command.split(), "--help"], capture_output=True, text=True, check=True
        ).stdout
        for option in OPTIONS:
            if option.flag is not None and command in option.commands:
                assert option.flag in shown, (command, option.flag)


def test_serve_flags_build_the_settings() -> None:
    """Every keyword row with a flag: its flag, with the example, is the keyword's value."""
    for option in OPTIONS:
        if not option.keyword or option.flag is None or option.example is None:
            continue
        words = [option.flag]
        if option.parse is not switch:
            words.append(SAFE.get(option.name, option.example))
        given = serve_options(parser().parse_args(["serve", *words]))
        assert _same(given[option.name], _value(option)), option.name


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--port", "x"], "argument --port: 'x' is not a port number"),
        (["--ttft", "fast"], "argument --ttft: 'fast' is not a number (e.g. 0.5)"),
        (["--journal-size", "1.5"], "'1.5' is not a whole number (e.g. 100)"),
        (["--record-mode", "onse"], "argument --record-mode: invalid choice: 'onse'"),
    ],
)
def test_a_bad_serve_value_is_refused_in_words(
    words: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        parser().parse_args(["serve", *words])
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_every_pytest_option_and_ini_key_is_registered(pytester: pytest.Pytester) -> None:
    shown = pytester.runpytest("--help").stdout.str()
    for option in OPTIONS:
        for name in (option.pytest_flag, option.ini):
            if name is not None:
                assert name in shown, name


def test_every_marker_keyword_is_understood(pytester: pytest.Pytester) -> None:
    """A test per keyword: the marker with the row's example configures the fake."""
    (pytester.path / "gateway.yaml").write_text("keys: {}\n")
    folder = pytester.path / "tests" / "cassettes"
    folder.mkdir(parents=True)
    (folder / "c.json").write_text(EMPTY_CASSETTE)
    tests = []
    for option in KEYWORD_ROWS:
        value = _value(option)
        kwargs = {option.name: value}
        if option.name == "cassette":
            kwargs["cassette"] = value = "c"
        elif PART_OF.get(option.name) == "cassette":
            kwargs["cassette"] = "c"
        expected = repr(str(value)) if option.name in ("files_dir",) else repr(value)
        check = (
            "True"
            if option.name in ("config", "cassette")
            else f"held({option.name!r}) in ({expected}, str({expected}))"
        )
        tests.append(
            f"@pytest.mark.mockspike(**{kwargs!r})\n"
            f"def test_{option.name}(mockspike):\n"
            f"    assert {check}, held({option.name!r})\n"
        )
    pytester.makepyfile(
        test_marker_keywords="import pytest\n\n"
        "def held(name):\n"
        "    import inspect\n"
        "    fake = inspect.currentframe().f_back.f_locals['mockspike']\n"
        "    from mockspike.settings import PART_OF\n"
        "    part = PART_OF.get(name)\n"
        "    value = getattr(getattr(fake.settings, part), name) if part else "
        "getattr(fake.settings, name)\n"
        "    if isinstance(value, frozenset):\n"
        "        return tuple(sorted(value))\n"
        "    return str(value) if hasattr(value, 'is_absolute') else value\n\n\n"
        + "\n\n".join(tests)
    )
    # in a process of its own: the recording ones meet only their own run's network guard
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(tests))


def test_a_marker_keyword_typo_names_the_nearest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockspike(strikt=True)
        def test_it(mockspike):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*mockspike marker: unknown argument(s) strikt; did you mean 'strict'?*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_bad_marker_value_says_what_is_taken(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockspike(ttft="fast")
        def test_text_for_a_number(mockspike):
            pass

        @pytest.mark.mockspike(synthetic="agnet")
        def test_a_near_choice(mockspike):
            pass

        @pytest.mark.mockspike(cassette="c", record_mode="onse")
        def test_a_near_record_mode(mockspike):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*mockspike: ttft must be a number, not 'fast'",
            "*mockspike: synthetic is one of default, agent, not 'agnet' (did you mean 'agent'?)",
            "*mockspike: record mode is one of none, once, new_episodes, rewrite, not 'onse' "
            "(did you mean 'once'?)",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        (
            "mockspike_record_mode = onse",
            "*ini key mockspike_record_mode: 'onse' is not one of none, once, new_episodes, "
            "rewrite, all (did you mean 'once'?)*",
        ),
        ("mockspike_profile = nope", "*ini key mockspike_profile: 'nope' is not one of*"),
    ],
)
def test_a_bad_ini_value_stops_the_run_saying_the_values(
    ini: str, message: str, pytester: pytest.Pytester
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_it(mockspike):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_the_pytest_plugin_pages_table_of_options_is_current() -> None:
    from tools import options_reference

    text = options_reference.PLUGIN_PAGE.read_text(encoding="utf-8")
    assert text == options_reference.plugin_page(text), "run: python -m tools.options_reference"
    assert "`--mockspike-block-network`" in text


def test_the_options_reference_is_current() -> None:
    from tools import options_reference

    made = options_reference.page()
    assert options_reference.PAGE.read_text(encoding="utf-8") == made, (
        "run: python -m tools.options_reference"
    )
    for option in OPTIONS:
        assert (option.flag or option.ini or option.name) in made


# -- an option added as one row: `keep_alive` (`serve --keep-alive`) -----------------------


def test_keep_alive_reaches_uvicorn_from_each_surface() -> None:
    """Behind a proxy whose idle timeout is longer than the server's keep-alive, the proxy
    may reuse a connection the server is closing (a 502): `serve --keep-alive 75`."""
    from mockspike.adapters.serving import Server

    by_flag = Settings.build(**serve_options(parser().parse_args(["serve", "--keep-alive", "75"])))
    with MockSpike(keep_alive=75) as fake:
        by_keyword = fake.settings
    for settings in (by_flag, by_keyword):
        assert settings.bounds.keep_alive == 75
        assert Server(None, settings.bounds).config.timeout_keep_alive == 75
    assert Server(None, Settings().bounds).config.timeout_keep_alive == 5


def test_a_keep_alive_of_zero_is_refused_in_words() -> None:
    result = subprocess.run(
        [*CLI, "serve", "--port", "0", "--keep-alive", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "cannot start: keep_alive must be a positive number of seconds, not 0.0" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_max_header_bytes_bounds_the_head_serve_reads() -> None:
    """`serve --max-header-bytes 4096`: a head that grows past it is a 431 that names the
    bound (not the default 65,536), a 2 KB one is read (a real process, the stack serve
    runs)."""
    with serve_process("--max-header-bytes", "4096") as (_process, url):
        parts = urlsplit(url)

        def answer(extra: int, chunk: int) -> bytes:
            head = b"GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: sk-test\r\n"
            with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
                with contextlib.suppress(OSError):  # the server stopped reading: it answered
                    sock.sendall(head + b"connection: close\r\nx-big: ")
                    for _ in range(extra // chunk):
                        sock.sendall(b"a" * chunk)
                    sock.sendall(b"\r\n\r\n")
                got = b""
                with contextlib.suppress(OSError):
                    while part := sock.recv(65536):
                        got += part
                return got

        refused = answer(extra=1024 * 1024, chunk=65536)
        assert refused.startswith(b"HTTP/1.1 431 ") and b"4,096 bytes" in refused
        assert answer(extra=2000, chunk=1000).startswith(b"HTTP/1.1 200 ")


AGENT_CHECK = """
import httpx
import pytest

BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 100,
    "tools": [{"name": "lookup", "description": "Look up an order",
               "input_schema": {"type": "object", "properties": {"q": {"type": "string"}},
                                "required": ["q"]}}],
    "messages": [{"role": "user", "content": "Where is order 42?"}],
}
HEADERS = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}


def stop_reason(client):
    return client.post("/v1/messages", json=BODY, headers=HEADERS).json()["stop_reason"]


def test_in_process(mockspike):
    with httpx.Client(transport=mockspike.transport(), base_url="http://mockspike.test") as c:
        assert stop_reason(c) == "tool_use"


def test_server(mockspike_server):
    with httpx.Client(base_url=mockspike_server.base_url) as client:
        assert stop_reason(client) == "tool_use"


@pytest.mark.mockspike(synthetic="default")
def test_the_marker_wins(mockspike_server):
    with httpx.Client(base_url=mockspike_server.base_url) as client:
        assert stop_reason(client) == "end_turn"
"""


def test_the_ini_sets_agent_mode_for_every_fixture(pytester: pytest.Pytester) -> None:
    """`mockspike_synthetic = agent`: a project of agent tests says it once (one attribute
    of the `synthetic` row); the marker still wins."""
    pytester.makeini("[pytest]\nmockspike_synthetic = agent\n")
    pytester.makepyfile(test_agent=AGENT_CHECK)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
