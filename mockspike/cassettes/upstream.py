"""The recorder's connection to the real gateway: bounded, stateless between clients, and
careful with credentials.

- **Bounded**: at most `max_recordings` requests are in flight to the upstream (one
  connection each). Others wait up to `queue_timeout` seconds for one to finish, then get
  a 529 `overloaded_error` saying why. Nothing waits for a connection the pool cannot give,
  so the proxy degrades at any concurrency instead of wedging.
- **No cookie state**: the client's cookie jar refuses every cookie, so one client's
  session cookie never goes out on another client's request. Each client's own `cookie`
  header is forwarded as it sent it.
- **Credentials in the URL** (`http://user:PASSWORD@host`) are taken out of the URL at
  once: they go to the upstream as HTTP Basic auth (as curl and httpx do), unless the
  client sends its own `authorization` header, which is forwarded unchanged. Only the URL
  without them is ever shown: in errors, logs and the journal.
- **Let go when the client leaves**: every wait on the upstream (for a slot, for the
  response's head, for the next chunk of a stream) looks every `WATCH_INTERVAL` seconds
  at the request's `gone` event (set by the adapter when the client hangs up); a client
  that left ends the wait, closes the upstream connection and frees its slot. A stalling
  upstream thus holds a slot no longer than its client waits for it.
"""

from __future__ import annotations

import contextlib
import threading
import time
import typing
import weakref
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import unquote, urlsplit, urlunsplit

import httpcore
import httpx

from mockspike.cassettes.storage import CassetteError
from mockspike.model.errors import ApiError
from mockspike.model.wire import WireRequest

MAX_RECORDINGS = 64
"""Requests in flight to the upstream at once, by default."""
QUEUE_TIMEOUT = 30.0
"""Seconds a request waits for one of them to finish before a 529, by default."""
MAX_ANSWER_BYTES = 32 * 1024 * 1024
"""An upstream answer, decoded, is at most this long (a gzip bomb is cut, not inflated)."""

WATCH_INTERVAL = 0.25
"""Seconds between looks, while waiting on the upstream, at whether the client left."""

_NOT_FORWARDED = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"}
)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`http://user:pw@host/x` -> (`http://host/x`, ("user", "pw")); the URL as shown."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = url.split("@", 1)[-1] if "@" in url else url
        raise CassetteError(f"the upstream must be an http:// or https:// URL, not {shown!r}")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    public = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, ""))
    if parts.username is None and parts.password is None:
        return public, None
    return public, (unquote(parts.username or ""), unquote(parts.password or ""))


class ClientLeft(ApiError):
    """The client hung up while its request waited on the upstream (the journal's entry
    says so; nobody is left to read the answer)."""

    def __init__(self) -> None:
        super().__init__(
            408,
            "mockspike recorder: the client left before the upstream answered; the wait "
            "ended and its slot was freed",
        )


_watched = threading.local()
"""The `gone` event of the request whose upstream I/O this thread does now."""


@contextlib.contextmanager
def watching(gone: threading.Event | None) -> Iterator[None]:
    """Upstream reads in this block end (`ClientLeft`) soon after `gone` is set."""
    before = getattr(_watched, "gone", None)
    _watched.gone = gone
    try:
        yield
    finally:
        _watched.gone = before


class _WatchfulStream(httpcore.NetworkStream):
    """A connection whose reads wait in short slices, between which they look at the
    watched request's `gone` event (a timed-out `recv` consumes nothing, so the read
    simply goes on). The read's own timeout still holds overall."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            gone = getattr(_watched, "gone", None)
            if gone is not None and gone.is_set():
                raise httpcore.ReadError("the client left")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout("timed out")
            piece = WATCH_INTERVAL if left is None else min(WATCH_INTERVAL, left)
            try:
                return self._inner.read(max_bytes, piece)
            except httpcore.ReadTimeout:
                continue

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _WatchfulStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _WatchfulBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        inner = super().connect_tcp(host, port, timeout, local_address, socket_options)
        return _WatchfulStream(inner)


def _transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's transport, its connection pool on watchful connections (httpx takes no
    network backend, httpcore does: the pool is made again with the same TLS context)."""
    transport = httpx.HTTPTransport(limits=limits)
    pool = transport._pool
    if isinstance(pool, httpcore.ConnectionPool):
        transport._pool = httpcore.ConnectionPool(
            ssl_context=pool._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_WatchfulBackend(),
        )
    return transport


class Flight:
    """One request in flight: the upstream's response, and its slot. `close()` (idempotent,
    also run when the object is collected) closes the response and frees the slot."""

    def __init__(self, response: httpx.Response, release: Callable[[], None]) -> None:
        self.response = response
        self._finalizer = weakref.finalize(self, _land, response, release)

    def close(self) -> None:
        self._finalizer()


def _land(response: httpx.Response, release: Callable[[], None]) -> None:
    try:
        response.close()
    finally:
        release()


SENDING = threading.local()
"""`SENDING.active` is true while this thread sends a recording's request upstream: the pytest
plugin's socket-level guard lets that one connection resolve a real host and connect."""


class Upstream:
    """Forwards requests to one upstream base URL, at most `max_recordings` at a time."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 600.0,
        max_recordings: int = MAX_RECORDINGS,
        queue_timeout: float = QUEUE_TIMEOUT,
    ) -> None:
        self.url, self._auth = split_credentials(url)
        self.max_recordings = max_recordings
        self.queue_timeout = queue_timeout
        self._slots = threading.BoundedSemaphore(max_recordings)
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        # idle connections are dropped well before a server's own keep-alive timeout
        # (uvicorn: 5 s), so a request never goes out on one the server just closed
        limits = httpx.Limits(
            max_connections=max_recordings,
            max_keepalive_connections=max_recordings,
            keepalive_expiry=2.0,
        )
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=10.0, pool=10.0),
            limits=limits,
            transport=_transport(limits),
            cookies=no_cookies,
        )

    def send(self, request: WireRequest, gone: threading.Event | None = None) -> Flight:
        """Forward `request` as it came (less hop-by-hop headers); the response streams.
        Raises the 529, 502 or 504 a client should see when it cannot, and `ClientLeft`
        once `gone` is set (the client hung up) while waiting."""
        if not self._take_slot(gone):
            raise ApiError(
                529,
                f"mockspike recorder: overloaded: {self.max_recordings} requests are already "
                f"in flight to the upstream {self.url} and none finished within "
                f"{self.queue_timeout:g} s, so this one was not forwarded; retry it, or allow "
                "more with max_recordings",
                headers={"retry-after": "1"},
            )
        try:
            with watching(gone):
                response = self._send(request)
        except BaseException:
            self._slots.release()
            raise
        return Flight(response, self._slots.release)

    def _take_slot(self, gone: threading.Event | None) -> bool:
        """A slot within `queue_timeout` (False if none), or `ClientLeft`."""
        deadline = time.monotonic() + self.queue_timeout
        while True:
            if gone is not None and gone.is_set():
                raise ClientLeft
            left = deadline - time.monotonic()
            if self._slots.acquire(timeout=max(0.0, min(WATCH_INTERVAL, left))):
                return True
            if left <= WATCH_INTERVAL:
                return False

    def _send(self, request: WireRequest) -> httpx.Response:
        url = self.url + request.path + (f"?{request.query}" if request.query else "")
        headers = {k: v for k, v in request.headers.items() if k not in _NOT_FORWARDED}
        outgoing = self._client.build_request(
            request.method,
            url,
            headers=headers,
            content=request.body,
            extensions={"mockspike_upstream": True},
        )
        auth = self._auth if self._auth and "authorization" not in headers else None
        SENDING.active = True
        try:
            return self._client.send(outgoing, stream=True, auth=auth)
        except httpx.HTTPError as exc:
            gone = getattr(_watched, "gone", None)
            if gone is not None and gone.is_set():
                raise ClientLeft from None
            if isinstance(exc, httpx.TimeoutException):
                raise ApiError(
                    504, f"mockspike recorder: the upstream {self.url} timed out"
                ) from None
            raise ApiError(
                502,
                f"mockspike recorder: cannot reach the upstream {self.url}: {self.hide(str(exc))}",
            ) from None
        finally:
            SENDING.active = False

    @property
    def credentialed(self) -> bool:
        """Whether the URL carried credentials (sent as Basic auth)."""
        return self._auth is not None

    def hide(self, text: str) -> str:
        """`text` with the URL's password masked (for messages that might quote it)."""
        password = self._auth[1] if self._auth else ""
        return text.replace(password, "***") if password else text

    def close(self) -> None:
        self._client.close()
