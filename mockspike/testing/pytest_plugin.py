"""The pytest plugin: fixtures, the `mockspike` marker, options, a guard against real
hosts, and a summary of what the suite would have cost.

Fixtures: `mockspike` (an in-process fake per test), `anthropic_client` and
`async_anthropic_client` (real SDK clients wired to it), `mockspike_server` (a real uvicorn
server started once per session, reset between tests, with `ANTHROPIC_BASE_URL` and
`ANTHROPIC_API_KEY` pointing at it while a test uses it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar
from urllib.parse import urlsplit

import pytest

from mockspike.contract.catalog import load_profile, profile_names
from mockspike.settings import KEYWORDS, OPTIONS, PART_OF, Option, Settings, UnknownOption, switch

if TYPE_CHECKING:
    from mockspike.mock import MockSpike
    from mockspike.testing.network import SocketGuard

# Importing this module (pytest does, in every session of every project that has mockspike
# installed) loads no server, no validator and no HTTP library: the fixtures import the fake
# when a test first asks for one.


class _Stats:
    """What every fake served during the run, for the terminal summary."""

    def __init__(self) -> None:
        self.requests = self.messages = self.input_tokens = self.output_tokens = 0
        self.credits = 0.0

    def add(self, fake: MockSpike) -> None:
        from mockspike.engine.endpoints import BILLED

        for entry in fake.requests:
            self.requests += 1
            if entry.endpoint in BILLED and entry.status == 200:
                self.messages += 1
                self.input_tokens += entry.input_tokens
                self.output_tokens += entry.output_tokens
                self.credits += entry.credits


class _TestState:
    """One test's fakes and what its teardown checks found, reported once at the end."""

    def __init__(self) -> None:
        self.fakes: dict[str, MockSpike] = {}
        self.served: dict[str, int] = {}
        """Requests each fixture's fake got, noted at its teardown (a server resets)."""
        self.problems: list[str] = []

    def requests_elsewhere(self, me: str) -> dict[str, int]:
        """How many requests the test's other fakes got."""
        return {
            name: self.served.get(name, len(fake.requests))
            for name, fake in self.fakes.items()
            if name != me
        }


_STATS = pytest.StashKey[_Stats]()
_VERDICTS = pytest.StashKey[list[str]]()
_GUARD = pytest.StashKey["_Guard"]()
_SOCKETS: pytest.StashKey[SocketGuard] = pytest.StashKey()
_TEST = pytest.StashKey[_TestState]()
_GIVEN = pytest.StashKey[dict[str, Any]]()
_violations: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options and ini keys, made from the rows of `OPTIONS` that have them."""
    group = parser.getgroup("mockspike", "mockspike: a fake Claude Messages API")
    for option in OPTIONS:
        text = _pytest_help(option)
        if option.pytest_flag is not None:
            kind: dict[str, Any] = {"action": "store_true"} if option.parse is switch else {}
            if option.choices is not None:
                kind["choices"] = list(option.choices())
            elif option.metavar is not None and option.parse is not switch:
                kind["metavar"] = option.metavar
            group.addoption(option.pytest_flag, default=None, help=text, **kind)
        if option.ini is not None:
            ini_type, default = _ini_kind(option)
            parser.addini(option.ini, text, type=ini_type, default=default)


def _pytest_help(option: Option) -> str:
    shown = option.shown_default
    text = f"{option.help}; {option.in_pytest}" if option.in_pytest else option.help
    if shown is None or "default" in text:
        return text
    return f"{text} (default: {shown})"


def _ini_kind(option: Option) -> tuple[Literal["bool", "linelist", "string"], Any]:
    """The ini type pytest reads the key as, and its value when the file has none."""
    if option.parse is switch:
        return "bool", bool(option.shown_default)
    if option.many:
        return "linelist", []
    return "string", ""


def _run_options(config: pytest.Config) -> dict[str, Any]:
    """What the run's command line, else its ini file, gives each option (a name left out:
    neither gives it). A value that is not one the option takes stops the run, saying why."""
    given: dict[str, Any] = {}
    for option in OPTIONS:
        value = _from_command_line(config, option)
        if value is None:
            value = _from_ini(config, option)
        if value is not None:
            given[option.name] = tuple(value) if option.many else value
    return given


def _from_command_line(config: pytest.Config, option: Option) -> Any:
    """The option's pytest flag's value (a list: comma-separated), None if not given."""
    if option.pytest_flag is None:
        return None
    value = config.getoption(option.pytest_flag)
    if option.many and value:
        value = [part.strip() for part in str(value).split(",") if part.strip()]
    return None if value in ("", []) else value


def _from_ini(config: pytest.Config, option: Option) -> Any:
    """The option's ini key's value, None if the file does not set it."""
    if option.ini is None:
        return None
    value = config.getini(option.ini)
    if option.parse is switch:  # pytest reads it; unset, it is the option's default
        return None if value == _ini_kind(option)[1] else value
    if not value:
        return None
    if option.many:
        return value
    try:
        return option.read(str(value))
    except ValueError as exc:
        raise pytest.UsageError(f"mockspike: ini key {option.ini}: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockspike(**options): configure the mockspike fake of this test, by keyword: "
        + ", ".join(KEYWORDS)
        + " (cassette=True: the test's own; docs/reference/options.md says each)",
    )
    _check_ini_keys(config)
    given = config.stash[_GIVEN] = _run_options(config)
    config.stash[_STATS] = _Stats()
    config.stash[_VERDICTS] = []
    hosts: set[str] = set()
    if not given.get("allow_real_hosts"):
        hosts = {urlsplit(load_profile(n).base_url).hostname or "" for n in profile_names()}
        hosts |= set(given.get("blocked_hosts", ()))
        guard = config.stash[_GUARD] = _Guard(frozenset(hosts))
        guard.install()
    block = bool(given.get("block_network"))
    if hosts or block:  # every other HTTP library, at the socket
        from mockspike.testing.network import SocketGuard

        allowed = list(given.get("network_allowed_hosts", ()))
        sockets = config.stash[_SOCKETS] = SocketGuard(hosts, _violations.append)
        sockets.install(block=block, allowed=allowed)


_INI_KEYS = tuple(option.ini for option in OPTIONS if option.ini is not None)
_TEST_OPTIONS = [
    option
    for option in OPTIONS
    if option.keyword and option.where == "test" and PART_OF.get(option.name) != "cassette"
]
"""The options the run gives every fixture's fake (a cassette's: only to a test that has
one, in `_with_cassette`)."""


def _check_ini_keys(config: pytest.Config) -> None:
    """An ini key that looks like mockspike's but is none of them (`mockspike_strikt`)
    stops the run with the nearest one, instead of pytest's warning and a passing run."""
    import difflib

    unknown: set[str] = getattr(config, "_get_unknown_ini_keys", set)()
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, _INI_KEYS, n=1, cutoff=0.75)
        if key.startswith("mockspike") or close:
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else "mockspike's are " + ", ".join(_INI_KEYS)
            )
            raise pytest.UsageError(f"mockspike: unknown ini key {key!r}; {hint}")


def pytest_collection_finish(session: pytest.Session) -> None:
    guard = session.config.stash.get(_GUARD, None)
    if guard is not None:
        guard.install()  # the test modules have imported their HTTP libraries by now


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD, None)
    if guard is not None:
        guard.restore()
    sockets = config.stash.get(_SOCKETS, None)
    if sockets is not None:
        sockets.restore()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, a worker hands what its tests' fakes served to the controller,
    which prints the one summary (`pytest_testnodedown`)."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        stats = session.config.stash.get(_STATS, None)
        output["mockspike"] = {
            "stats": vars(stats) if stats else {},
            "verdicts": session.config.stash.get(_VERDICTS, []),
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller adds up what each pytest-xdist worker's fakes served."""
    data = getattr(node, "workeroutput", {}).get("mockspike")
    if not data:
        return
    config = node.config
    stats = config.stash[_STATS]
    for name, value in data["stats"].items():
        setattr(stats, name, getattr(stats, name) + value)
    config.stash[_VERDICTS].extend(data["verdicts"])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    found: list[str] = config.stash.get(_VERDICTS, [])
    verdicts = sorted(found)  # by test id: the same order under xdist
    if verdicts:
        terminalreporter.write_sep("-", "mockspike verdict")
        for line in verdicts:
            terminalreporter.write_line(line)
    stats = config.stash.get(_STATS, None)
    if not stats or not stats.requests:
        return
    terminalreporter.write_sep("-", "mockspike")
    terminalreporter.write_line(
        f"{stats.requests} requests served by mockspike fakes ({stats.messages} messages): "
        f"{stats.input_tokens} input + {stats.output_tokens} output tokens, about "
        f"{stats.credits:.4f} credits (${stats.credits / 100:.4f}) on the real gateway"
    )


# -- the real-host guard ---------------------------------------------------------------


class _Guard:
    """Makes httpx and httpx2 refuse the real hosts. Libraries are patched once they are
    imported (at configure, after collection and before each test), so the plugin never
    imports them itself; one already guarded (an outer session) is left to its guard."""

    def __init__(self, hosts: frozenset[str]) -> None:
        self.hosts = hosts
        self.patched: list[tuple[type, str, Any]] = []
        self.seen: set[str] = set()

    def install(self) -> None:
        for name in ("httpx", "httpx2"):
            library: Any = sys.modules.get(name)
            if name in self.seen or library is None:
                continue
            self.seen.add(name)
            for cls, method in (
                (library.HTTPTransport, "handle_request"),
                (library.AsyncHTTPTransport, "handle_async_request"),
            ):
                original = getattr(cls, method)
                if getattr(original, "_mockspike_guard", False):
                    continue
                setattr(cls, method, _guarded(original, self.hosts, library))
                self.patched.append((cls, method, original))

    def restore(self) -> None:
        for cls, method, original in self.patched:
            setattr(cls, method, original)
        self.patched.clear()


def _guarded(original: Any, hosts: frozenset[str], library: Any) -> Any:
    def refuse(request: Any) -> None:
        if request.url.host in hosts and not request.extensions.get("mockspike_upstream"):
            message = (
                f"mockspike: a test tried to reach the real host {request.url.host} "
                f"({request.method} {request.url}); that would cost money. Use the "
                "mockspike fixtures (code that builds its own client, like "
                "anthropic.Anthropic(), needs mockspike_server: it sets ANTHROPIC_BASE_URL), "
                "or pass --mockspike-allow-real-hosts on purpose."
            )
            _violations.append(message)
            raise library.ConnectError(message, request=request)

    if "async" in original.__name__:

        @functools.wraps(original)
        async def guarded_async(self: Any, request: Any) -> Any:
            refuse(request)
            return await original(self, request)

        guarded_async._mockspike_guard = True  # type: ignore[attr-defined]
        return guarded_async

    @functools.wraps(original)
    def guarded(self: Any, request: Any) -> Any:
        refuse(request)
        return original(self, request)

    guarded._mockspike_guard = True  # type: ignore[attr-defined]
    return guarded


@pytest.fixture(autouse=True)
def _mockspike_real_host_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test that reached a real host, even if its code swallowed the error."""
    guard = request.config.stash.get(_GUARD, None)
    if guard is not None:
        guard.install()
    _violations.clear()
    state = request.node.stash[_TEST] = _TestState()
    sockets = request.config.stash.get(_SOCKETS, None)
    yield
    if sockets is not None:
        sockets.test_done()
    # every mockspike check of the test, said once (pytest would group several teardown
    # failures into one unreadable exception group)
    found = list(dict.fromkeys(_violations)) + state.problems
    _violations.clear()
    if found:
        pytest.fail("\n\n".join(found), pytrace=False)


# -- fixtures ----------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    """Fail the test with `message` alone: raised inside an `except`, without the error it
    replaces (pytest would print both, joined by "During handling of the above exception")."""
    raise pytest.fail.Exception(message, pytrace=False) from None


T = TypeVar("T")


def _settings(request: pytest.FixtureRequest) -> Settings:
    """The test's `Settings`: the marker's arguments, then the command line, then the ini."""
    options = _marker_options(request)
    given = request.config.stash[_GIVEN]
    for option in _TEST_OPTIONS:
        if option.name not in options and option.name in given:
            options[option.name] = given[option.name]
    if options.get("cassette"):
        _with_cassette(request, options)
    else:
        options.pop("cassette", None)
    try:
        return Settings.build(**options)
    except UnknownOption as exc:
        unknown = ", ".join(sorted(exc.names))
        _fail(f"mockspike marker: unknown argument(s) {unknown}; {exc.hint}")
    except (TypeError, ValueError) as exc:
        _fail(f"mockspike: {exc}")


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The keywords of the test's `mockspike` marker (None: not given)."""
    marker = request.node.get_closest_marker("mockspike")
    if marker is None:
        return {}
    if marker.args:
        pytest.fail(
            f"mockspike marker: it takes keyword arguments only, not {marker.args!r}: "
            "@pytest.mark.mockspike(cassette='name', strict=True, ...)",
            pytrace=False,
        )
    return {name: value for name, value in marker.kwargs.items() if value is not None}


def _with_cassette(request: pytest.FixtureRequest, options: dict[str, Any]) -> None:
    """The cassette's path (in the cassette dir, or the test's own), and its options (record
    mode, upstream…) from the run when the marker does not say them."""
    given = request.config.stash[_GIVEN]
    own = options["cassette"] is True
    if own:  # the test's own cassette, named as pytest-recording names it
        options["cassette"] = _own_cassette(request)
    folder = _cassette_dir(request.config) or request.config.rootpath / "tests/cassettes"
    name = str(options["cassette"])
    options["cassette"] = folder / (name if name.endswith(".json") else f"{name}.json")
    if own:
        _moved(request, folder, options["cassette"])
    for name, part in PART_OF.items():
        if part == "cassette" and name not in options and name in given:
            options[name] = given[name]
    if "upstream" not in options:
        profile = options.get("profile") or Settings.profile
        options["upstream"] = os.environ.get("ANTHROPIC_BASE_URL") or (
            load_profile(str(profile)).base_url
        )


def _cassette_dir(config: pytest.Config) -> Path | None:
    """The cassette dir the run names (a relative one under the rootdir), if it names one."""
    chosen = config.stash[_GIVEN].get("cassette_dir")
    if not chosen:
        return None
    folder = Path(chosen)
    return folder if folder.is_absolute() else config.rootpath / folder


_UNSAFE = str.maketrans({c: "-" for c in "<>?%*:|\"'/\\"})
"""Characters pytest-recording replaces in a cassette's name (unsafe in file names)."""


def _own_cassette(request: pytest.FixtureRequest) -> Path:
    """`cassette=True`'s file, as pytest-recording names it: `cassettes/<module>/` beside
    the test module, `Class.test[id]` with unsafe characters replaced by `-`. With a cassette
    dir set (option or ini), the module's path under the rootdir is kept inside it."""
    node = request.node
    name = f"{request.cls.__name__}.{node.name}" if request.cls else node.name
    module = Path(node.path)
    config = request.config
    folder = _cassette_dir(config)
    if folder is not None:
        try:
            relative = module.with_suffix("").relative_to(config.rootpath)
        except ValueError:
            relative = Path(module.stem)
        return folder / relative / f"{name.translate(_UNSAFE)}.json"
    return module.parent / "cassettes" / module.stem / f"{name.translate(_UNSAFE)}.json"


def _moved(request: pytest.FixtureRequest, folder: Path, path: Path) -> None:
    """Fail, saying how to move it, when the test's cassette is still where mockspike 0.x
    named it (`<cassette dir>/<module stem>/<test>.json`) and not yet at its new path."""
    old = folder / request.node.path.stem / f"{request.node.name}.json"
    if old != path and old.exists() and not path.exists():
        pytest.fail(
            f"mockspike: cassette=True now names {_shown(path, request)} (as pytest-recording "
            f"does: beside the test module, class included); this test's cassette is still at "
            f"{_shown(old, request)}. Move it:\n  mkdir -p {_shown(path.parent, request)} && "
            f"git mv '{_shown(old, request)}' '{_shown(path, request)}'",
            pytrace=False,
        )


def _shown(path: Path, request: pytest.FixtureRequest) -> str:
    try:
        return str(path.relative_to(request.config.rootpath))
    except ValueError:
        return str(path)


def _finish(request: pytest.FixtureRequest, name: str, fake: MockSpike, settings: Settings) -> None:
    """The teardown checks of one fixture's fake; what they find is reported once, with
    the rest of the test's, by the guard fixture."""
    config = request.config
    config.stash[_STATS].add(fake)
    if config.stash[_GIVEN].get("verdict"):
        from mockspike.engine.verdict import injected, report, verdict

        if injected(fake.requests):
            config.stash[_VERDICTS].append(
                f"{request.node.nodeid}: {report(verdict(fake.requests))}"
            )
    state = request.node.stash[_TEST]
    state.served[name] = len(fake.requests)
    state.problems += _problems(name, fake, settings, state)


def _problems(name: str, fake: MockSpike, settings: Settings, state: _TestState) -> list[str]:
    broken = list(dict.fromkeys(e.fake_error for e in fake.requests if e.fake_error))
    if broken:  # said alone: the other checks would only echo it
        return [
            "mockspike: the fake could not answer (the client got a 500, whatever it did "
            "with it):\n  " + "\n  ".join(broken)
        ]
    problems = []
    silent = [rule for rule in fake.rules if not rule.responses]
    if silent:  # whatever assert_all_used says: such a rule can never answer
        problems.append(
            "mockspike: a rule has no answer, so requests it matched got the default reply:\n  "
            + "\n  ".join(f"{r.describe()} (matched {r.unanswered} request(s))" for r in silent)
            + "\n(chain .reply(...), .fail(...) or .fault(...) to the on(...))"
        )
    never = [r for r in fake.rules if not r.used and r.responses]
    unused = [r.describe() for r in never]
    if unused and settings.assert_all_used and not fake.requests:
        problems.append(_no_requests(name, unused, state))
    elif unused and settings.assert_all_used:
        problems.append(
            "mockspike: scripted replies were never used:\n  "
            + "\n  ".join(f"{r.describe()}{_why_unused(r, fake)}" for r in never)
            + "\n(mark the test @pytest.mark.mockspike(assert_all_used=False) if that is fine)"
        )
    if settings.strict and settings.assert_all_matched:
        unmatched = [e for e in fake.requests if e.unmatched]
        if unmatched:
            lines = [
                f"{e.method} {e.path}: {e.error['message'] if e.error else ''}" for e in unmatched
            ]
            problems.append(
                "mockspike: requests matched no rule (strict):\n  " + "\n  ".join(lines)
            )
    misses = [e.error["message"] for e in fake.requests if e.cassette_miss and e.error]
    if misses:
        problems.append("\n".join(misses))
    return problems


def _why_unused(rule: Any, fake: MockSpike) -> str:
    """Why no request used `rule`, as strict mode says it: the closest Messages request and
    what did not match, or the rule that answered it first."""
    asked = [e for e in fake.requests if e.endpoint == "messages" and isinstance(e.body, dict)]
    if not asked:
        return ": no request to /v1/messages reached the fake"
    try:
        entry, mismatches = min(
            ((e, rule.mismatches(e.body)) for e in asked), key=lambda pair: len(pair[1])
        )
    except Exception:  # a where= predicate that raises: said by the fake-error check
        return ""
    if mismatches:
        return f": the closest request, #{entry.number}, did not match: " + "; ".join(mismatches)
    if entry.status >= 400 and entry.rule is None:
        error = entry.error["message"] if entry.error else entry.status
        return f": request #{entry.number} matched, but was refused before any rule ({error})"
    by = entry.rule or "the synthetic default"
    return f": request #{entry.number} matched, but {by} answered it first"


def _no_requests(name: str, unused: list[str], state: _TestState) -> str:
    """Rules were scripted on a fake no request reached: say where the requests went and
    which fixture fits."""
    head = (
        f"mockspike: scripted replies were never used: no request reached `{name}` at all:"
        + "".join(f"\n  {rule}" for rule in unused)
    )
    elsewhere = {n: c for n, c in state.requests_elsewhere(name).items() if c}
    if elsewhere:
        other, count = next(iter(elsewhere.items()))
        return (
            f"{head}\nThe code under test talked to `{other}` ({count} request(s)): two "
            f"different fakes. Script `{other}` instead (drop `{name}` from the test)."
        )
    if name == "mockspike":
        return (
            f"{head}\nIf the code under test builds its own client (anthropic.Anthropic(), "
            "an app's factory), it never sees this in-process fake: use the `mockspike_server` "
            "fixture, which points ANTHROPIC_BASE_URL at a real local server, or pass "
            "`anthropic_client` (or mockspike.anthropic_client()) to the code."
        )
    return (
        f"{head}\nWhile this test runs ANTHROPIC_BASE_URL points at it; a client built "
        "before the test (at import, in a session fixture) or with its own base_url misses it."
    )


def _recording(request: pytest.FixtureRequest, settings: Settings) -> None:
    """A cassette that records reaches its upstream: its host resolves during this test."""
    cassette = settings.cassette
    sockets = request.config.stash.get(_SOCKETS, None)
    if sockets is None or cassette is None or cassette.upstream is None:
        return
    if cassette.record_mode.value != "none":
        sockets.record_from((urlsplit(cassette.upstream).hostname or "").lower())


def _start(make: Callable[[], T]) -> T:
    """`make()`, a cassette that cannot be used failing the test in one sentence."""
    from mockspike.cassettes.format import CassetteError

    try:
        return make()
    except CassetteError as exc:
        _fail(f"mockspike: {exc}")


@pytest.fixture
def mockspike(request: pytest.FixtureRequest) -> Iterator[MockSpike]:
    """A fresh in-process fake for this test, configured by options and the marker."""
    from mockspike.mock import MockSpike

    settings = _settings(request)
    _recording(request, settings)
    fake = _start(lambda: MockSpike.from_settings(settings))
    request.node.stash[_TEST].fakes["mockspike"] = fake
    yield fake
    fake.close()
    _finish(request, "mockspike", fake, settings)


@pytest.fixture
def anthropic_client(mockspike: MockSpike) -> Any:
    """A real `anthropic.Anthropic` wired in-process to the `mockspike` fake."""
    client = _sdk_client(mockspike.anthropic_client)
    yield client
    client.close()


@pytest.fixture
def async_anthropic_client(mockspike: MockSpike) -> Any:
    """A real `anthropic.AsyncAnthropic` wired in-process to the `mockspike` fake."""
    return _sdk_client(mockspike.async_anthropic_client)


@pytest.fixture
def openai_client(mockspike: MockSpike) -> Any:
    """A real `openai.OpenAI` wired in-process to the `mockspike` fake (Claude through the
    OpenAI SDK compatibility layer)."""
    client = _sdk_client(mockspike.openai_client, "openai")
    yield client
    client.close()


@pytest.fixture
def async_openai_client(mockspike: MockSpike) -> Any:
    """A real `openai.AsyncOpenAI` wired in-process to the `mockspike` fake."""
    return _sdk_client(mockspike.async_openai_client, "openai")


def _sdk_client(make: Callable[[], Any], sdk: str = "anthropic") -> Any:
    try:
        return make()
    except ModuleNotFoundError as exc:
        if exc.name != sdk:
            raise
        missing = str(exc)
    pytest.fail(f"mockspike: the {missing}", pytrace=False)


@pytest.fixture(scope="session")
def _mockspike_servers() -> Iterator[Callable[[str, str | None], MockSpike]]:
    """Starts one real server per profile and state, on first use; all stop at the end."""
    with contextlib.ExitStack() as stack:
        servers: dict[str, MockSpike] = {}

        def start(profile: str, state: str | None = None) -> MockSpike:
            from mockspike.mock import MockSpike

            name = f"{profile} {state}"
            if name not in servers:
                try:
                    fake = MockSpike(profile, state=state)
                except ConnectionError as exc:  # a Redis that cannot be reached
                    _fail(f"mockspike: {exc}")
                stack.callback(fake.close)  # after the server stops
                stack.enter_context(fake.serve())
                servers[name] = fake
            return servers[name]

        yield start


def _server_state(config: pytest.Config) -> str | None:
    """The option that opts every `mockspike_server` into a shared state (the in-process
    fixtures keep theirs in memory)."""
    state = config.stash[_GIVEN].get("state")
    return str(state) if state else None


@pytest.fixture
def mockspike_server(
    request: pytest.FixtureRequest,
    _mockspike_servers: Callable[[str, str | None], MockSpike],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MockSpike]:
    """A real uvicorn server on 127.0.0.1 (one per session, profile and state), reset for
    this test; `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY` (and the OpenAI SDK's
    `OPENAI_BASE_URL` / `OPENAI_API_KEY`) point at it while the test runs.
    Its state is in this process unless the marker's `state=` (or `--mockspike-state`, or
    the ini's `mockspike_state`) names a Redis shared with other `mockspike serve`
    processes: resetting it then resets theirs."""

    settings = _settings(request)
    _recording(request, settings)
    state = settings.state or _server_state(request.config)
    fake = _mockspike_servers(settings.profile, state)
    turn = fake.engine.stores.turn  # a shared state: one test at a time
    with turn() if turn is not None else contextlib.nullcontext():
        yield from _serve_one_test(request, fake, settings, monkeypatch)


def _serve_one_test(
    request: pytest.FixtureRequest,
    fake: MockSpike,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MockSpike]:
    from mockspike.mock import IN_PROCESS_KEY
    from mockspike.model.pacing import Pacing

    _fresh(fake)
    fake.configure(
        strict=settings.strict,
        synthetic=settings.synthetic,
        pacing=settings.pacing or Pacing(),
        time_scale=settings.time_scale,
    )
    cassette = settings.cassette
    if cassette is not None:
        _start(lambda: fake.use_cassette(cassette))
    assert fake.base_url is not None
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", IN_PROCESS_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url + "/v1")  # the OpenAI SDK's
    monkeypatch.setenv("OPENAI_API_KEY", IN_PROCESS_KEY)
    request.node.stash[_TEST].fakes["mockspike_server"] = fake
    try:
        yield fake
        _finish(request, "mockspike_server", fake, settings)
    finally:
        fake.eject_cassette()
        _fresh(fake)


def _fresh(fake: MockSpike) -> None:
    """Everything a test may change on the server fixture back as it started: the script,
    journal and scenarios, the prompt cache, rate-limit buckets, files, batches and their
    settings (wallets are the gateway config's, and stay)."""
    import dataclasses

    from mockspike.state.batches import BatchSettings

    fake.reset()
    fake.reset_scenarios()
    fake.clear_cache()
    fake.engine.gateway.reset_limits()
    fake.files.clear()
    fake.batches.clear()
    fake.batches.settings(**dataclasses.asdict(BatchSettings()))
