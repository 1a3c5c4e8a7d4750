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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from ..contract.catalog import load_profile, profile_names
from ..settings import RECORD_MODES, Settings, UnknownOption

if TYPE_CHECKING:
    from ..mock import MockSpike

# Importing this module (pytest does, in every session of every project that has mockspike
# installed) loads no server, no validator and no HTTP library: the fixtures import the fake
# when a test first asks for one.


class _Stats:
    """What every fake served during the run, for the terminal summary."""

    def __init__(self) -> None:
        self.requests = self.messages = self.input_tokens = self.output_tokens = 0
        self.credits = 0.0

    def add(self, fake: MockSpike) -> None:
        from ..core.endpoints import BILLED

        for entry in fake.requests:
            self.requests += 1
            if entry.endpoint in BILLED and entry.status == 200:
                self.messages += 1
                self.input_tokens += entry.input_tokens
                self.output_tokens += entry.output_tokens
                self.credits += entry.credits


_STATS = pytest.StashKey[_Stats]()
_VERDICTS = pytest.StashKey[list[str]]()
_GUARD = pytest.StashKey["_Guard"]()
_violations: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockspike", "mockspike: a fake Claude Messages API")
    group.addoption(
        "--mockspike-profile",
        choices=profile_names(),
        default=None,
        help="profile of the mockspike fixtures (default: bytespike)",
    )
    group.addoption(
        "--mockspike-strict",
        action="store_true",
        default=None,
        help="fakes refuse requests that no scripted rule matches",
    )
    group.addoption(
        "--mockspike-allow-real-hosts",
        action="store_true",
        default=None,
        help="let tests reach the real gateway / Anthropic hosts (they cost money)",
    )
    group.addoption(
        "--mockspike-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="cassette record mode: none (replay only, the default), once, new_episodes, all",
    )
    group.addoption(
        "--mockspike-cassette-dir",
        default=None,
        help="where cassettes live (default: tests/cassettes)",
    )
    group.addoption(
        "--mockspike-upstream",
        default=None,
        help="the real gateway to record from (default: ANTHROPIC_BASE_URL, else the profile's)",
    )
    group.addoption(
        "--mockspike-verdict",
        action="store_true",
        default=False,
        help="print the resilience verdict of each test whose fake served failures or faults",
    )
    parser.addini("mockspike_profile", "profile of the mockspike fixtures", default="bytespike")
    parser.addini("mockspike_record_mode", "cassette record mode", default="none")
    parser.addini("mockspike_cassette_dir", "where cassettes live", default="tests/cassettes")
    parser.addini("mockspike_strict", "fakes refuse unmatched requests", type="bool", default=False)
    parser.addini(
        "mockspike_allow_real_hosts", "let tests reach real hosts", type="bool", default=False
    )
    parser.addini(
        "mockspike_blocked_hosts", "more hosts no test may reach", type="linelist", default=[]
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockspike(profile=None, strict=None, synthetic='default', cassette=None, "
        "record_mode=None, assert_all_used=True, assert_all_matched=True, pacing=None, "
        "time_scale=1.0): "
        "configure the mockspike fake of this test",
    )
    config.stash[_STATS] = _Stats()
    config.stash[_VERDICTS] = []
    allow = config.getoption("--mockspike-allow-real-hosts") or config.getini(
        "mockspike_allow_real_hosts"
    )
    if not allow:
        hosts = {urlsplit(load_profile(n).base_url).hostname or "" for n in profile_names()}
        hosts |= set(config.getini("mockspike_blocked_hosts"))
        guard = config.stash[_GUARD] = _Guard(frozenset(hosts))
        guard.install()


def pytest_collection_finish(session: pytest.Session) -> None:
    guard = session.config.stash.get(_GUARD, None)
    if guard is not None:
        guard.install()  # the test modules have imported their HTTP libraries by now


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD, None)
    if guard is not None:
        guard.restore()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    verdicts = config.stash.get(_VERDICTS, [])
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
                "mockspike fixtures, or pass --mockspike-allow-real-hosts on purpose."
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
    yield
    if _violations:
        found = list(dict.fromkeys(_violations))
        _violations.clear()
        pytest.fail("\n".join(found), pytrace=False)


# -- fixtures ----------------------------------------------------------------------------


def _settings(request: pytest.FixtureRequest) -> Settings:
    """The test's `Settings`: the marker's arguments, then the command line, then the ini."""
    marker = request.node.get_closest_marker("mockspike")
    args: dict[str, Any] = dict(marker.kwargs) if marker else {}
    config = request.config
    if args.get("profile") is None:
        args["profile"] = config.getoption("--mockspike-profile") or config.getini(
            "mockspike_profile"
        )
    if args.get("strict") is None:
        args["strict"] = bool(
            config.getoption("--mockspike-strict") or config.getini("mockspike_strict")
        )
    if args.get("cassette"):
        folder = Path(
            config.getoption("--mockspike-cassette-dir") or config.getini("mockspike_cassette_dir")
        )
        if not folder.is_absolute():
            folder = config.rootpath / folder
        name = str(args["cassette"])
        args["cassette"] = folder / (name if name.endswith(".json") else f"{name}.json")
        if args.get("record_mode") is None:
            args["record_mode"] = config.getoption("--mockspike-record-mode") or config.getini(
                "mockspike_record_mode"
            )
        if args.get("upstream") is None:
            args["upstream"] = (
                config.getoption("--mockspike-upstream")
                or os.environ.get("ANTHROPIC_BASE_URL")
                or load_profile(str(args["profile"])).base_url
            )
    else:
        args.pop("cassette", None)
    try:
        return Settings.build(**args)
    except UnknownOption as exc:
        unknown = ", ".join(sorted(exc.names))
        pytest.fail(f"mockspike marker: unknown argument(s) {unknown}; {exc.hint}", pytrace=False)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"mockspike: {exc}", pytrace=False)


def _finish(fake: MockSpike, settings: Settings, request: pytest.FixtureRequest) -> None:
    config = request.config
    config.stash[_STATS].add(fake)
    if config.getoption("--mockspike-verdict"):
        from ..core.verdict import injected, report, verdict

        if injected(fake.requests):
            config.stash[_VERDICTS].append(
                f"{request.node.nodeid}: {report(verdict(fake.requests))}"
            )
    problems = []
    if settings.assert_all_used:
        unused = [rule.describe() for rule in fake.rules if not rule.used]
        if unused:
            problems.append(
                "mockspike: scripted replies were never used:\n  "
                + "\n  ".join(unused)
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
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def mockspike(request: pytest.FixtureRequest) -> Iterator[MockSpike]:
    """A fresh in-process fake for this test, configured by options and the marker."""
    from ..mock import MockSpike

    settings = _settings(request)
    fake = MockSpike.from_settings(settings)
    yield fake
    fake.close()
    _finish(fake, settings, request)


@pytest.fixture
def anthropic_client(mockspike: MockSpike) -> Any:
    """A real `anthropic.Anthropic` wired in-process to the `mockspike` fake."""
    client = mockspike.anthropic_client()
    yield client
    client.close()


@pytest.fixture
def async_anthropic_client(mockspike: MockSpike) -> Any:
    """A real `anthropic.AsyncAnthropic` wired in-process to the `mockspike` fake."""
    return mockspike.async_anthropic_client()


@pytest.fixture(scope="session")
def _mockspike_servers() -> Iterator[Callable[[str], MockSpike]]:
    """Starts one real server per profile, on first use; all stop at the end."""
    with contextlib.ExitStack() as stack:
        servers: dict[str, MockSpike] = {}

        def start(profile: str) -> MockSpike:
            from ..mock import MockSpike

            if profile not in servers:
                fake = MockSpike(profile)
                stack.enter_context(fake.serve())
                servers[profile] = fake
            return servers[profile]

        yield start


@pytest.fixture
def mockspike_server(
    request: pytest.FixtureRequest,
    _mockspike_servers: Callable[[str], MockSpike],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MockSpike]:
    """A real uvicorn server on 127.0.0.1 (one per session and profile), reset for this
    test; `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY` point at it while the test runs."""
    from ..mock import IN_PROCESS_KEY
    from ..render.pacing import Pacing

    settings = _settings(request)
    fake = _mockspike_servers(settings.profile)
    fake.reset()
    fake.configure(
        strict=settings.strict,
        synthetic=settings.synthetic,
        pacing=settings.pacing or Pacing(),
        time_scale=settings.time_scale,
    )
    if settings.cassette is not None:
        fake.use_cassette(settings.cassette)
    assert fake.base_url is not None
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", IN_PROCESS_KEY)
    try:
        yield fake
        _finish(fake, settings, request)
    finally:
        fake.eject_cassette()
        fake.reset()
