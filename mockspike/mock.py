"""`MockSpike`: the object users hold. Owns an engine and hands out adapters to it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .adapters import transports as _transport
from .adapters.asgi import create_app
from .cassettes.recorder import open_recorder
from .core.engine import Engine
from .core.faults import Fault
from .core.journal import Journal
from .core.outcomes import Failure, Reply
from .gateway.clock import Clock
from .gateway.keys import GatewayConfig
from .render.pacing import Pacing
from .responders import script_files as spec
from .responders.scripted import Rule

IN_PROCESS_URL = "http://mockspike.test"
"""The base URL of in-process clients: it names no real host, and no request leaves."""
IN_PROCESS_KEY = "mockspike-test-key"


class MockSpike:
    """A fake ByteSpike / Anthropic Messages API you can script.

    >>> fake = MockSpike(profile="anthropic")
    >>> fake.on(text="weather").reply("Sunny.")  # doctest: +ELLIPSIS
    Rule(...)
    >>> fake.fail(429, times=2)  # doctest: +ELLIPSIS
    Rule(...)
    """

    def __init__(
        self,
        profile: str = "bytespike",
        *,
        strict: bool = False,
        pacing: Pacing | None = None,
        time_scale: float = 1.0,
        admin_token: str | None = None,
        config: GatewayConfig | dict[str, Any] | str | Path | None = None,
        clock: Clock | None = None,
        cassette: str | Path | None = None,
        record_mode: str = "none",
        upstream: str | None = None,
        replay_timing: str = "instant",
        **cassette_options: Any,
    ) -> None:
        """`cassette=PATH` replays recorded traffic (and records, as `record_mode` allows,
        through `upstream`); `cassette_options` are those of `Cassette` (`match_on`,
        `ignore`, `redact_headers`, `redact_paths`)."""
        if isinstance(config, dict):
            config = GatewayConfig.from_dict(config)
        elif isinstance(config, (str, Path)):
            config = GatewayConfig.load(config)
        recorder = (
            open_recorder(cassette, record_mode, upstream, replay_timing, **cassette_options)
            if cassette is not None
            else None
        )
        self.engine = Engine(
            profile,
            strict=strict,
            pacing=pacing,
            time_scale=time_scale,
            config=config,
            clock=clock,
            front=recorder,
        )
        self.admin_token = admin_token
        self.base_url: str | None = None
        """Set while `serve()` runs: the server's `http://127.0.0.1:PORT`."""
        self.server_state: Any = None
        """While `serve()` runs: uvicorn's server state (open connections and tasks)."""

    @property
    def profile(self) -> str:
        return self.engine.profile.name

    @cached_property
    def app(self) -> Starlette:
        """The Starlette ASGI app: the API and the admin API under `/_mockspike/`."""
        return create_app(self.engine, self.admin_token)

    # -- scripting ---------------------------------------------------------------------

    def on(self, *, times: int | None = None, name: str | None = None, **matchers: Any) -> Rule:
        """A rule for requests that match all of `model=`, `stream=`, `text=` (the last user
        text contains), `regex=`, `system=` (contains), `tools=` (names offered),
        `tool_result=` (the last user turn has one) and `where=` (a predicate on the body).
        Chain `.reply()`, `.fail()`, `.fault()` for what to answer, in sequence."""
        return self.engine.new_rule(times=times, name=name, **matchers)

    def reply(self, text: str | Reply | None = None, *, times: int = 1, **kwargs: Any) -> Rule:
        """Queue a reply for the next request(s): text, or `content=[blocks]`,
        `stop_reason=`, `usage=`, `model=`, `timing=Pacing(...)`."""
        return self.on(times=times).reply(text, **kwargs)

    def reply_tool_use(
        self, name: str, input: dict[str, Any], *, times: int = 1, **kwargs: Any
    ) -> Rule:
        """Queue a `tool_use` turn calling `name` with `input`."""
        return self.on(times=times).reply_tool_use(name, input, **kwargs)

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
        return self.on(times=times).fail(status, type, message, headers, retry_after)

    def fault(
        self,
        kind: str | Fault,
        *,
        seconds: float = 0.0,
        after: int = 0,
        error: Failure | int | None = None,
        times: int = 1,
    ) -> Rule:
        """Queue a transport fault (a kind of `mockspike.core.faults.KINDS`): `drop`,
        `malformed`, `stall` (`seconds`) or `break` (`after` events, optional `error`)."""
        return self.on(times=times).fault(kind, seconds=seconds, after=after, error=error)

    def load_script(self, source: str | Path | dict[str, Any]) -> list[Rule]:
        """Add the rules of a JSON/YAML script file (or its parsed dict)."""
        data = source if isinstance(source, dict) else spec.load_file(source)
        return spec.build_rules(data, self.engine.new_rule)

    @property
    def rules(self) -> list[Rule]:
        return list(self.engine.script.rules)

    @property
    def requests(self) -> Journal:
        """Every request received: `fake.requests.last.body`, `len(fake.requests)`, …"""
        return self.engine.journal

    def reset(self) -> None:
        """Clear the script and the journal (wallets, rate limits and cache stay)."""
        self.engine.reset()

    # -- the gateway's state -----------------------------------------------------------

    @property
    def cassette(self) -> Any:
        """The `Cassette` in use, or None."""
        return getattr(self.engine.front, "cassette", None)

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    def wallet(self, key: str) -> float | None:
        """A key's balance in credits (None: the key has no wallet)."""
        return self.engine.gateway.wallets.get(key)

    def top_up(self, key: str, credits: float) -> float:
        """Add credits to a key's wallet; returns the new balance."""
        return self.engine.gateway.top_up(key, credits)

    @property
    def cache(self) -> list[dict[str, Any]]:
        """The prompt cache's live entries: key, model, prefix tokens, TTL, seconds left."""
        return self.engine.cache.entries()

    def clear_cache(self) -> None:
        self.engine.cache.clear()

    # -- in-process clients ------------------------------------------------------------

    def transport(self, library: str = "httpx") -> Any:
        """A sync in-process transport for `httpx` (or `"httpx2"`): no socket, streams."""
        return _transport.transport(self.engine, library)

    def async_transport(self, library: str = "httpx") -> Any:
        """An async in-process transport for `httpx` (or `"httpx2"`)."""
        return _transport.async_transport(self.engine, library)

    def anthropic_client(self, **kwargs: Any) -> Any:
        """A real `anthropic.Anthropic` wired to this fake in-process, whichever SDK
        generation is installed. Keyword arguments go to the client (`max_retries`, …)."""
        import anthropic

        library = _transport.sdk_http_library()
        http_client = anthropic.DefaultHttpxClient(transport=self.transport(library))
        return anthropic.Anthropic(**self._client_args(kwargs), http_client=http_client)

    def async_anthropic_client(self, **kwargs: Any) -> Any:
        """A real `anthropic.AsyncAnthropic` wired to this fake in-process."""
        import anthropic

        library = _transport.sdk_http_library()
        http_client = anthropic.DefaultAsyncHttpxClient(transport=self.async_transport(library))
        return anthropic.AsyncAnthropic(**self._client_args(kwargs), http_client=http_client)

    @staticmethod
    def _client_args(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"api_key": IN_PROCESS_KEY, "base_url": IN_PROCESS_URL, **kwargs}

    # -- serving -----------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run on a real uvicorn server in a background thread; yields the base URL."""
        sock = bind(host, port)
        server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("mockspike: the server did not start")
            time.sleep(0.005)
        self.base_url = base_url(sock)
        self.server_state = server.server_state
        try:
            yield self.base_url
        finally:
            self.base_url = None
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one. Bound before uvicorn starts so the real
    port is known up front."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY follows
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
