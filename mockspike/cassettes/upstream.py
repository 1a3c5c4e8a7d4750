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
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from ..contract.errors import ApiError
from ..core.wire import WireRequest
from .storage import CassetteError

MAX_RECORDINGS = 64
"""Requests in flight to the upstream at once, by default."""
QUEUE_TIMEOUT = 30.0
"""Seconds a request waits for one of them to finish before a 529, by default."""

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
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=10.0, pool=10.0),
            # idle connections are dropped well before a server's own keep-alive timeout
            # (uvicorn: 5 s), so a request never goes out on one the server just closed
            limits=httpx.Limits(
                max_connections=max_recordings,
                max_keepalive_connections=max_recordings,
                keepalive_expiry=2.0,
            ),
            cookies=no_cookies,
        )

    def send(self, request: WireRequest) -> Flight:
        """Forward `request` as it came (less hop-by-hop headers); the response streams.
        Raises the 529, 502 or 504 a client should see when it cannot."""
        if not self._slots.acquire(timeout=self.queue_timeout):
            raise ApiError(
                529,
                f"mockspike recorder: overloaded: {self.max_recordings} requests are already "
                f"in flight to the upstream {self.url} and none finished within "
                f"{self.queue_timeout:g} s, so this one was not forwarded; retry it, or allow "
                "more with max_recordings",
                headers={"retry-after": "1"},
            )
        try:
            response = self._send(request)
        except BaseException:
            self._slots.release()
            raise
        return Flight(response, self._slots.release)

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
        except httpx.TimeoutException:
            raise ApiError(504, f"mockspike recorder: the upstream {self.url} timed out") from None
        except httpx.HTTPError as exc:
            raise ApiError(
                502,
                f"mockspike recorder: cannot reach the upstream {self.url}: {self.hide(str(exc))}",
            ) from None
        finally:
            SENDING.active = False

    def hide(self, text: str) -> str:
        """`text` with the URL's password masked (for messages that might quote it)."""
        password = self._auth[1] if self._auth else ""
        return text.replace(password, "***") if password else text

    def close(self) -> None:
        self._client.close()
