"""`MockSpike`: the object users hold, and the one control surface of a fake.

Everything a fake can be told — script it, load a script file, swap cassettes, set a
wallet, clear the cache, reset — is a method here; the admin API (`adapters/admin.py`) is a
thin HTTP mapping onto these methods, and the pytest plugin calls them too."""

from __future__ import annotations

import contextlib
import functools
import logging
import textwrap
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from mockspike._extras import require
from mockspike._redact import Redaction
from mockspike.adapters.guard import bind_warning
from mockspike.engine.controls import Batches, Files
from mockspike.engine.engine import Engine
from mockspike.model.clock import Clock
from mockspike.model.faults import Failure, Fault, describe_kinds
from mockspike.model.outcomes import Reply
from mockspike.model.pacing import Pacing
from mockspike.script import files as script_files
from mockspike.script import matchers as matchers_table
from mockspike.script.answers import describe as describe_answers
from mockspike.script.answers import verb_method
from mockspike.script.rules import Rule
from mockspike.script.source import ScriptSource, Watcher
from mockspike.settings import CassetteOptions, Settings
from mockspike.state.journal import Journal
from mockspike.state.rules import STARTED

if TYPE_CHECKING:
    import aiohttp
    import httpx
    import httpx2

    from mockspike.adapters.api import App
    from mockspike.cassettes.format import Cassette
    from mockspike.cassettes.recorder import Recorder
    from mockspike.engine.verdict import Finding

IN_PROCESS_URL = "http://mockspike.test"
"""The base URL of in-process clients: it names no real host, and no request leaves."""
IN_PROCESS_KEY = "mockspike-test-key"
DASHBOARD_PATH = "/_mockspike/"
log = logging.getLogger("mockspike")


class MockSpike:
    """A fake ByteSpike / Anthropic Messages API you can script.

    >>> fake = MockSpike(profile="anthropic")
    >>> fake.on(text="weather").reply("Sunny.")  # doctest: +ELLIPSIS
    Rule(...)
    >>> fake.fail(429, times=2)  # doctest: +ELLIPSIS
    Rule(...)

    Options: the keywords of `mockspike.settings.OPTIONS` (docs/reference/options.md lists
    each), among them `profile`, `strict`, `synthetic` (`"agent"`: offered tools are called,
    then tool results answered), `pacing` or `ttft`/`tokens_per_second`/`jitter`,
    `time_scale`, `config`, `clock`, `admin_token`, `files_dir`, and `cassette=PATH` with
    `record_mode`, `upstream`, `replay_timing`, `match_on`, `ignore`, `redact_headers`,
    `redact_paths`. An unknown option is a `TypeError` that names the nearest one.
    Use it as a context manager, or call `close()`, to release a cassette's upstream.
    """

    def __init__(self, profile: str = "bytespike", **options: Any) -> None:
        self._setup(Settings.build(profile=profile, **options))

    @classmethod
    def from_settings(cls, settings: Settings) -> MockSpike:
        """A fake from a `Settings` (as the pytest plugin and the CLI build it)."""
        fake = cls.__new__(cls)
        fake._setup(settings)
        return fake

    def _setup(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = Engine(
            settings.profile,
            strict=settings.strict,
            synthetic=settings.synthetic,
            pacing=settings.pacing,
            time_scale=settings.time_scale,
            config=settings.config,
            clock=settings.clock,
            files_dir=settings.files_dir,
            state=settings.state,
        )
        cassette = settings.cassette
        self.engine.journal = self.engine.stores.use_journal(
            Journal(
                max_entries=settings.journal_size,
                redaction=None
                if settings.journal_raw
                else Redaction.of(
                    cassette.redact_headers or () if cassette else (),
                    cassette.redact_paths or () if cassette else (),
                ),
            )
        )
        self._recorder: Recorder | None = None
        self.watchers: list[Watcher] = []
        """The script sources loaded with `watch_script` (their status: `.status`)."""
        if settings.cassette is not None:
            self.use_cassette(settings.cassette)
        self.base_url: str | None = None
        """Set while `serve()` runs: the server's `http://127.0.0.1:PORT`."""
        self.server_state: Any = None
        """While `serve()` runs: uvicorn's server state (open connections and tasks)."""

    @property
    def profile(self) -> str:
        return self.engine.profile.name

    @property
    def admin_token(self) -> str | None:
        return self.settings.admin_token

    @cached_property
    def app(self) -> App:
        """The ASGI app: the API and the admin API under `/_mockspike/`."""
        from mockspike.adapters.asgi import create_app

        return create_app(self)

    def configure(
        self,
        *,
        strict: bool | None = None,
        synthetic: str | None = None,
        pacing: Pacing | None = None,
        time_scale: float | None = None,
    ) -> None:
        """Change how the fake answers from now on (None: leave as it is)."""
        if strict is not None:
            self.engine.strict = strict
        if synthetic is not None:
            from mockspike.synthetic.default import MODES

            if synthetic not in MODES:
                raise ValueError(f"synthetic is one of {', '.join(MODES)}, not {synthetic!r}")
            self.engine.synthetic = MODES[synthetic]
        if pacing is not None:
            self.engine.pacing = pacing
        if time_scale is not None:
            if time_scale < 0:
                raise ValueError("time_scale must not be negative")
            self.engine.time_scale = time_scale

    def close(self) -> None:
        """Release what the fake holds (a cassette's connection to its upstream, the
        connection to a shared state)."""
        for watcher in self.watchers:
            watcher.stop()
        self.eject_cassette()
        self.engine.stores.close()

    def __enter__(self) -> MockSpike:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- scripting ---------------------------------------------------------------------

    def on(
        self,
        *,
        times: int | None = None,
        name: str | None = None,
        scenario: str | None = None,
        state: str | None = None,
        next_state: str | None = None,
        **matchers: Any,
    ) -> Rule:
        """A rule for requests that match every matcher given (the table below, from
        `mockspike.script.matchers`). Chain `.reply()`, `.fail()`, `.fault()` for what
        to answer, in sequence. In a `scenario` (which starts in state "started"), it
        answers only while the scenario is in `state` (None: any) and then moves it to
        `next_state`."""
        own: dict[str, Any] = {"scenario": scenario, "state": state, "next_state": next_state}
        given = {k: v for k, v in own.items() if v is not None}
        return self.engine.new_rule(times=times, name=name, **given, **matchers)

    on.__doc__ = f"{on.__doc__}\n\n" + textwrap.indent(matchers_table.describe(), " " * 8)

    def reply(self, text: str | Reply | None = None, *, times: int = 1, **kwargs: Any) -> Rule:
        """Queue a reply for the next request(s): text, or `content=[blocks]` of any kind the
        API sends (checked now), `stop_reason=` (any of the API's), `stop_details=`,
        `usage=`, `container=`, `context_management=`, `model=`, `timing=Pacing(...)`."""
        return self._one_shot(times, lambda rule: rule.reply(text, **kwargs))

    def reply_tool_use(
        self, name: str, input: dict[str, Any], *, times: int = 1, **kwargs: Any
    ) -> Rule:
        """Queue a `tool_use` turn calling `name` with `input`."""
        return self._one_shot(times, lambda rule: rule.reply_tool_use(name, input, **kwargs))

    def reply_web_search(
        self,
        query: str,
        results: list[str | dict[str, Any]] | None = None,
        text: str | None = None,
        *,
        times: int = 1,
        **kwargs: Any,
    ) -> Rule:
        """Queue a web-search turn: `server_tool_use`, the results (URLs or
        `{"url", "title", "page_age"}`), then `text` citing the first one (`cite=False`:
        plain text; `error_code=`: the search failed)."""
        return self._one_shot(
            times, lambda rule: rule.reply_web_search(query, results, text, **kwargs)
        )

    def reply_code_execution(
        self,
        command: str,
        stdout: str = "",
        stderr: str = "",
        return_code: int = 0,
        text: str | None = None,
        *,
        times: int = 1,
        **kwargs: Any,
    ) -> Rule:
        """Queue a code-execution turn: a shell command, its output, then `text`."""
        return self._one_shot(
            times,
            lambda rule: rule.reply_code_execution(
                command, stdout, stderr, return_code, text, **kwargs
            ),
        )

    def fail(
        self,
        status: int | Failure,
        type: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        retry_after: float | None = None,
        times: int = 1,
    ) -> Rule:
        """Queue an error answer (`times` in a row): the envelope, with the profile's
        headers (`retry-after` on 429, the gateway's auto-retry envelope on 5xx)."""
        return self._one_shot(
            times, lambda rule: rule.fail(status, type, message, headers, retry_after)
        )

    def fault(
        self,
        kind: str | Fault,
        *,
        seconds: float = 0.0,
        after: int = 0,
        error: Failure | int | None = None,
        times: int = 1,
    ) -> Rule:
        """Queue a transport fault: a kind of `mockspike.model.faults.KINDS` (below);
        `stall` waits `seconds`, `break` cuts after `after` events (with a mid-stream `error`,
        if given)."""
        return self._one_shot(
            times, lambda rule: rule.fault(kind, seconds=seconds, after=after, error=error)
        )

    fault.__doc__ = f"{fault.__doc__}\n\n" + textwrap.indent(describe_kinds(), " " * 8)

    def answer(self, verb: str, /, *args: Any, times: int = 1, **kwargs: Any) -> Rule:
        """Queue the answer of any verb of `mockspike.script.answers.ANSWERS` for the next
        request(s), as `rule.answer(verb, ...)` makes it. Each verb is also a method of its
        own name: `fake.refuse(category="cyber")`."""
        return self._one_shot(times, lambda rule: rule.answer(verb, *args, **kwargs))

    answer.__doc__ = f"{answer.__doc__}\n\n" + textwrap.indent(describe_answers(), " " * 8)

    if not TYPE_CHECKING:  # (hidden from type checkers, so a typo stays an error there)

        def __getattr__(self, name: str) -> Callable[..., Rule]:
            """Every verb of `ANSWERS` as a queued one-shot: `fake.refuse(times=2)`."""
            method: Callable[..., Rule] = verb_method(self, name)
            return method

    def _one_shot(self, times: int, answer: Callable[[Rule], Rule]) -> Rule:
        """A queued rule with its answer; a refused answer leaves no rule behind."""
        rule = self.engine.new_rule(times=times, queued=True)
        try:
            return answer(rule)
        except BaseException:
            self.engine.script.remove([rule])
            raise

    def queue(self, answer: dict[str, Any], times: int = 1) -> Rule:
        """Queue a one-shot given as data, `{"reply": {...}}` (or `reply_tool_use`, `fail`,
        `fault`), as the admin API's `/replies`, `/failures`, `/faults` do."""
        make = functools.partial(self.engine.new_rule, queued=True)
        spec = {"times": times, "respond": answer}
        (rule,) = script_files.build_rules(spec, make, self.engine.script.remove)
        return rule

    def load_script(self, source: str | Path | dict[str, Any]) -> list[Rule]:
        """Add the rules of a JSON/YAML script file (or its parsed dict)."""
        data = source if isinstance(source, dict) else script_files.load_file(source)
        if self.engine.stores.shared:
            return self.engine.share_rules(data)
        return script_files.build_rules(data, self.engine.new_rule, self.engine.script.remove)

    def watch_script(self, path: str | Path, *, watch: bool = True) -> Watcher:
        """Load a script file, or a folder of them, as one script; with `watch`, load it
        again whenever its files change (on a thread, until `close()`): the new rules
        replace the ones it loaded before, all at once, and everything else stays. A
        version that does not load is refused (logged, and in `.status.error`) and the
        rules before it stay in force; the first load raises a `SpecError` instead."""
        watcher = Watcher(ScriptSource(path), self.engine.check_rule, self.engine.load_source)
        watcher.load()
        if watcher.status.error is not None:
            raise script_files.SpecError(watcher.status.error)
        self.watchers.append(watcher)
        if watch:
            watcher.start()
        return watcher

    def remove_rule(self, number: int) -> Rule:
        """Take rule #`number` out of the script (a `LookupError` if there is none)."""
        found = [r for r in self.engine.script.rules if r.number == number]
        if not found:
            numbers = ", ".join(f"#{r.number}" for r in self.engine.script.rules) or "none"
            raise LookupError(f"no rule #{number} (the rules are {numbers})")
        self.engine.script.remove(found)
        return found[0]

    @property
    def rules(self) -> list[Rule]:
        self.engine.rules.sync(self.engine.script)
        return list(self.engine.script.rules)

    @property
    def scenarios(self) -> dict[str, str]:
        """Every scenario's state: those the rules name (`"started"` until moved) and any
        set by hand."""
        stored = self.engine.stores.rules.scenarios()
        named = {r.scenario: STARTED for r in self.rules if r.scenario is not None}
        return {**named, **stored}

    def set_scenario(self, name: str, state: str) -> None:
        """Put scenario `name` in `state` (as if a rule had moved it there)."""
        for what, value in (("scenario", name), ("state", state)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{what} must be a non-empty string, not {value!r}")
        self.engine.stores.rules.set_scenario(name, state)

    def reset_scenarios(self) -> None:
        """Every scenario back to "started" (the rules and the journal stay)."""
        self.engine.stores.rules.reset_scenarios()

    @property
    def requests(self) -> Journal:
        """Every request received: `fake.requests.last.body`, `len(fake.requests)`, …"""
        return self.engine.journal

    def reset(self) -> None:
        """Clear the script and the journal (wallets, rate limits and cache stay)."""
        self.engine.reset()

    def verdict(self) -> list[Finding]:
        """How the client coped with the failures and faults it was served, judged from the
        journal (`mockspike.engine.verdict`): one `Finding` per thing done wrong."""
        from mockspike.engine.verdict import verdict

        return verdict(self.engine.journal)

    def assert_resilient(self, *, ignore: tuple[str, ...] = ()) -> None:
        """Raise `AssertionError` listing the verdict's findings, but for rules in `ignore`
        (e.g. `("gave-up",)` for a client made with `max_retries=0`)."""
        from mockspike.engine.verdict import VERDICT_RULES, report

        unknown = [name for name in ignore if name not in VERDICT_RULES]
        if unknown:
            raise ValueError(
                f"unknown verdict rule(s) {unknown}; choose from {list(VERDICT_RULES)}"
            )
        findings = [f for f in self.verdict() if f.rule not in ignore]
        if findings:
            raise AssertionError(report(findings))

    # -- cassettes ----------------------------------------------------------------------

    def use_cassette(self, cassette: str | Path | CassetteOptions, **options: Any) -> _InUse:
        """Answer from a cassette from now on (replacing any other): `record_mode`,
        `upstream`, `replay_timing` and the `Cassette` settings as for `MockSpike(...)`.
        Also a context manager that ejects it at the end of the block."""
        if not isinstance(cassette, CassetteOptions):
            cassette = CassetteOptions(Path(cassette), **options)
        elif options:
            raise TypeError(f"give {', '.join(options)} in the CassetteOptions itself")
        from mockspike.cassettes.recorder import open_recorder

        recorder = open_recorder(cassette)
        self.eject_cassette()
        self._recorder = self.engine.front = recorder
        return _InUse(self)

    def eject_cassette(self) -> None:
        """Stop answering from a cassette (the fake's own behaviour answers again)."""
        recorder, self._recorder = self._recorder, None
        self.engine.front = None
        if recorder is not None:
            recorder.close()

    @property
    def cassette(self) -> Cassette | None:
        """The `Cassette` in use, or None."""
        return self._recorder.cassette if self._recorder is not None else None

    # -- the gateway's state -----------------------------------------------------------

    @cached_property
    def batches(self) -> Batches:
        """The Message Batches: `.settings(processing_seconds=...)`, `.get(id)`,
        `.results(id)`, `.list()`, `.clear()`."""
        return Batches(self.engine.services)

    @cached_property
    def files(self) -> Files:
        """The Files API storage: `.add(content, filename, downloadable=True)`, `.get(id)`,
        `.content(id)`, `.list()`, `.delete(id)`, `.clear()`."""
        return Files(self.engine.services)

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    @property
    def wallets(self) -> dict[str, float]:
        """Every wallet's balance, by key."""
        return dict(self.engine.gateway.wallets)

    def wallet(self, key: str) -> float | None:
        """A key's balance in credits (None: the key has no wallet)."""
        return self.engine.stores.wallets.get(key)

    def top_up(self, key: str, credits: float) -> float:
        """Add credits to a key's wallet; returns the new balance."""
        return self.engine.gateway.top_up(key, credits)

    def set_balance(self, key: str, credits: float) -> float:
        """Set a key's wallet to `credits` (it gets one if it had none)."""
        self.engine.gateway.set_balance(key, credits)
        return credits

    @property
    def cache(self) -> list[dict[str, Any]]:
        """The prompt cache's live entries: key, model, prefix tokens, TTL, seconds left."""
        return self.engine.cache.entries()

    def clear_cache(self) -> None:
        self.engine.cache.clear()

    # -- in-process clients ------------------------------------------------------------

    @overload
    def transport(self, library: Literal["httpx"] = "httpx") -> httpx.BaseTransport: ...
    @overload
    def transport(self, library: Literal["httpx2"]) -> httpx2.BaseTransport: ...
    @overload
    def transport(self, library: str) -> Any: ...
    def transport(self, library: str = "httpx") -> Any:
        """A sync in-process transport for `httpx` (or `"httpx2"`): no socket, streams."""
        from mockspike.adapters.transports import transport

        return transport(self.engine, library)

    @overload
    def async_transport(self, library: Literal["httpx"] = "httpx") -> httpx.AsyncBaseTransport: ...
    @overload
    def async_transport(self, library: Literal["httpx2"]) -> httpx2.AsyncBaseTransport: ...
    @overload
    def async_transport(self, library: str) -> Any: ...
    def async_transport(self, library: str = "httpx") -> Any:
        """An async in-process transport for `httpx` (or `"httpx2"`)."""
        from mockspike.adapters.transports import async_transport

        return async_transport(self.engine, library)

    def anthropic_client(self, **kwargs: Any) -> Any:
        """A real `anthropic.Anthropic` wired to this fake in-process, whichever SDK
        generation is installed. Keyword arguments go to the client (`max_retries`, …)."""
        anthropic = require("anthropic", "sdk", "MockSpike.anthropic_client()")

        from mockspike.adapters.transports import sdk_http_library

        library = sdk_http_library()
        http_client = anthropic.DefaultHttpxClient(transport=self.transport(library))
        return anthropic.Anthropic(**self._client_args(kwargs), http_client=http_client)

    def async_anthropic_client(self, **kwargs: Any) -> Any:
        """A real `anthropic.AsyncAnthropic` wired to this fake in-process."""
        anthropic = require("anthropic", "sdk", "MockSpike.async_anthropic_client()")

        from mockspike.adapters.transports import sdk_http_library

        library = sdk_http_library()
        http_client = anthropic.DefaultAsyncHttpxClient(transport=self.async_transport(library))
        return anthropic.AsyncAnthropic(**self._client_args(kwargs), http_client=http_client)

    def aiohttp_session(self, **options: Any) -> aiohttp.ClientSession:
        """An `aiohttp.ClientSession` answered by this fake in-process, no socket (its
        base URL is the fake's; `adapters/aiohttp.py`): for aiohttp clients, and SDKs built
        on aiohttp. Make it with an event loop running; `options` go to the session."""
        require("aiohttp", "aiohttp", "MockSpike.aiohttp_session()")
        from mockspike.adapters.aiohttp import session

        return session(self.engine, IN_PROCESS_URL, **options)

    def openai_client(self, **kwargs: Any) -> Any:
        """A real `openai.OpenAI` wired to this fake in-process: Claude through the OpenAI
        SDK (`POST /v1/chat/completions`, `GET /v1/models`). Keyword arguments go to the
        client (`max_retries`, …)."""
        openai = require("openai", "openai", "MockSpike.openai_client()")

        from mockspike.adapters.transports import sdk_http_library

        transport = self.transport(sdk_http_library("openai"))
        http_client = openai.DefaultHttpxClient(transport=transport)
        return openai.OpenAI(**self._openai_args(kwargs), http_client=http_client)

    def async_openai_client(self, **kwargs: Any) -> Any:
        """A real `openai.AsyncOpenAI` wired to this fake in-process."""
        openai = require("openai", "openai", "MockSpike.async_openai_client()")

        from mockspike.adapters.transports import sdk_http_library

        transport = self.async_transport(sdk_http_library("openai"))
        http_client = openai.DefaultAsyncHttpxClient(transport=transport)
        return openai.AsyncOpenAI(**self._openai_args(kwargs), http_client=http_client)

    @staticmethod
    def _openai_args(kwargs: dict[str, Any]) -> dict[str, Any]:
        """The OpenAI SDK's base URL ends in `/v1/` (it appends `chat/completions`)."""
        return {"api_key": IN_PROCESS_KEY, "base_url": IN_PROCESS_URL + "/v1/", **kwargs}

    @staticmethod
    def _client_args(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"api_key": IN_PROCESS_KEY, "base_url": IN_PROCESS_URL, **kwargs}

    # -- serving -----------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run on a real uvicorn server in a background thread; yields the base URL."""
        from mockspike.adapters import serving

        sock = serving.bind(host, port)
        warning = bind_warning(host, self.admin_token)
        if warning:
            log.warning(warning)
        settings = self.settings
        try:
            with serving.in_thread(
                self.app, sock, settings.bounds, settings.forwarded_allow_ips
            ) as server:
                self.base_url = serving.base_url(sock)
                self.server_state = server.server_state
                try:
                    yield self.base_url
                finally:
                    self.base_url = None
        finally:
            sock.close()

    @contextlib.contextmanager
    def dashboard(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve the fake (`serve`) and yield its live dashboard's URL, printed too, so a
        test can stop at a breakpoint and be looked at: `with fake.dashboard() as url:`.
        Already serving? The running server's dashboard."""
        if self.base_url is not None:
            url = self.base_url + DASHBOARD_PATH
            print(f"mockspike dashboard: {url}")
            yield url
            return
        with self.serve(host, port) as base:
            url = base + DASHBOARD_PATH
            token = f"?token={self.admin_token}" if self.admin_token else ""
            print(f"mockspike dashboard: {url}{token}")  # a browser opens it as is
            yield url


class _InUse:
    """`with fake.use_cassette(path) as cassette:` ejects the cassette after the block."""

    def __init__(self, fake: MockSpike) -> None:
        self._fake = fake

    def __enter__(self) -> Cassette:
        cassette = self._fake.cassette
        assert cassette is not None
        return cassette

    def __exit__(self, *exc: object) -> None:
        self._fake.eject_cassette()
