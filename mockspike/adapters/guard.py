"""Who may use the admin API (`/_mockspike/`): no web page, no rebound DNS name, no stranger.

A fake on a developer's machine is reachable from every browser tab the developer opens.
So, before any admin route runs:

- the `Host` header must be one of the server's own names: an IP address, `localhost`
  (and `*.localhost`), or a name added with `allowed_hosts` — a DNS-rebinding page reaches
  the server under its own domain name, and is refused;
- an `Origin` header, when present, must be the server's own origin — a page on another
  origin is refused, whatever it sends;
- writes must be `content-type: application/json`, which a page can only send after a CORS
  preflight, and preflights (`OPTIONS`) are refused; no answer carries CORS headers;
- without an admin token only loopback clients are served (every loopback address, IPv4,
  IPv6 and IPv4-mapped); with a token, the token is required, compared in constant time,
  from the header, or from the cookie a browser gets by opening the dashboard once as
  `/_mockspike/?token=TOKEN` (`HttpOnly`, `SameSite=Strict`); `admin_open` serves any client
  (a choice the user makes, printed by `mockspike serve`);
- a write with no body and no content type (`curl -X POST …/reset`) is served: a page cannot
  send one without an `Origin`, which is checked above;
- `GET /_mockspike/health` needs no token (it says only that the fake is up);
- beyond the admin API, the same Host rule holds for what a rebinding page could read or
  spend: stored files and batch results (`GET /v1/files…`, `GET …/batches/{id}/results`)
  and every request a recorder would forward with credentials taken from its upstream URL
  (`api_refusal`). Messages, models and the rest stay reachable under any name (a fake
  behind a proxy or a container's service name);
- no page may frame an answer (clickjacking: a near-invisible frame of the dashboard and
  one click): every answer under the prefix says `X-Frame-Options: DENY` and
  `Content-Security-Policy: frame-ancestors 'none'`.

The decisions are pure functions; `Guard` is the ASGI wrapper that applies them.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mockspike import _json
from mockspike._ids import random_id
from mockspike.adapters.scope import scope_headers
from mockspike.model.errors import error_body

ADMIN_PREFIX = "/_mockspike/"
ADMIN_TOKEN_HEADER = "x-mockspike-admin-token"
JSON = "application/json"
_READS = frozenset({"GET", "HEAD"})

FRAME_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
"""On every admin answer: no page, of any origin, may show it in a frame."""

Refusal = tuple[int, str, str]
"""An HTTP status, the envelope's error type, and a message saying what to do."""


@dataclass(frozen=True)
class Access:
    """The admin API's access settings."""

    token: str | None = None
    """When set, every admin request must send it in `x-mockspike-admin-token`."""
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    """Host names (beyond IP addresses and `localhost`) the admin API answers under."""
    open: bool = False
    """Serve the admin API to any client without a token (`--admin-open`)."""
    loopback_free: bool = False
    """With a token, loopback clients need none (the token `mockspike serve` makes itself
    when bound beyond loopback)."""

    @classmethod
    def of(
        cls,
        token: str | None = None,
        allowed_hosts: Iterable[str] = (),
        *,
        open: bool = False,
        loopback_free: bool = False,
    ) -> Access:
        hosts = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts)
        return cls(token, hosts, open, loopback_free)


def is_loopback(host: str) -> bool:
    """True for `localhost`, `*.localhost` and every loopback address (127.0.0.0/8, ::1,
    ::ffff:127.0.0.1), with or without IPv6 brackets."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _ip(name)
    return address is not None and address.is_loopback


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def host_name(authority: str) -> str:
    """The name in a `Host` header (`[::1]:8000` -> `::1`, `Example.test:80` -> `example.test`)."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else authority
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def host_allowed(host: str, access: Access) -> bool:
    """An IP literal cannot be rebound; a name must be `localhost` or allowed explicitly."""
    name = host_name(host).rstrip(".")
    if not name:
        return False
    return _ip(name) is not None or is_loopback(name) or name in access.allowed_hosts


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """True when `Origin` names this server exactly as the `Host` header does."""
    parts = urlsplit(origin.strip().lower())
    if parts.scheme != scheme or not parts.netloc:
        return False
    default = {"http": "80", "https": "443"}.get(scheme, "")
    return _with_port(parts.netloc, default) == _with_port(host.strip().lower(), default)


def _with_port(authority: str, default: str) -> str:
    closing = authority.rfind("]")
    return authority if ":" in authority[closing + 1 :] else f"{authority}:{default}"


def refusal(
    access: Access,
    *,
    method: str,
    headers: dict[str, str],
    client: str,
    scheme: str = "http",
    server_host: str = "",
    path: str = "",
) -> Refusal | None:
    """Why an admin request is refused, or None. `headers` have lower-cased names;
    `client` is the peer's address; `server_host` stands in for a missing `Host`."""
    host = headers.get("host") or server_host
    if not host_allowed(host, access):
        return (
            403,
            "permission_error",
            f"mockspike admin: refused the Host {host_name(host)!r}; the admin API answers "
            "only under the server's own names (IP addresses, localhost); add a name with "
            "--allowed-host (allowed_hosts=)",
        )
    origin = headers.get("origin")
    if origin is not None and not same_origin(origin, scheme, host):
        return (
            403,
            "permission_error",
            f"mockspike admin: refused a request from the web origin {origin!r}; the admin "
            "API takes no cross-origin requests",
        )
    if method == "OPTIONS":
        return 405, "invalid_request_error", "mockspike admin: no CORS; OPTIONS is refused"
    if method not in _READS:
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype != JSON and not _bodiless(headers):
            return (
                415,
                "invalid_request_error",
                f"mockspike admin: send writes as content-type: {JSON} (got {ctype or 'none'!r})",
            )
    if access.open or (method in _READS and path == HEALTH_PATH):
        return None
    if access.token is not None:
        if access.loopback_free and is_loopback(client):
            return None
        sent = headers.get(ADMIN_TOKEN_HEADER) or _cookie(headers, TOKEN_COOKIE) or ""
        if not hmac.compare_digest(sent.encode(), access.token.encode()):
            return (
                403,
                "permission_error",
                f"mockspike admin: send the admin token in the {ADMIN_TOKEN_HEADER} header "
                f"(a browser: open {ADMIN_PREFIX}?token=TOKEN once); `mockspike serve` "
                "prints it when it starts",
            )
        return None
    if not is_loopback(client):
        return (
            403,
            "permission_error",
            "mockspike admin: refused a client off loopback; start the server with "
            f"--admin-token and send it in the {ADMIN_TOKEN_HEADER} header",
        )
    return None


_HOST_BOUND_READS = re.compile(r"^/v1/files(/|$)|^/v1/messages/batches/[^/]+/results$")


def api_refusal(
    access: Access, *, method: str, path: str, host: str, spends_credentials: bool
) -> Refusal | None:
    """Why an API request under `host` is refused, or None: stored files and batch results,
    and requests forwarded with the upstream URL's credentials (`spends_credentials`),
    answer only under the server's own names, as the admin API does."""
    reads_stored = method in _READS and _HOST_BOUND_READS.match(path) is not None
    if not (reads_stored or spends_credentials) or host_allowed(host, access):
        return None
    what = (
        "stored files and batch results answer"
        if reads_stored
        else "a recorder forwards requests with its upstream's credentials"
    )
    return (
        403,
        "permission_error",
        f"mockspike: refused the Host {host_name(host)!r}: {what} only under the server's own "
        "names (IP addresses, localhost); add a name with --allowed-host (allowed_hosts=)",
    )


HEALTH_PATH = ADMIN_PREFIX + "health"
TOKEN_COOKIE = "mockspike_admin_token"


def _bodiless(headers: dict[str, str]) -> bool:
    """No body and no content type: what `curl -X POST` sends."""
    return (
        "content-type" not in headers
        and "transfer-encoding" not in headers
        and headers.get("content-length", "0").strip() == "0"
    )


def _cookie(headers: dict[str, str], name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def bind_warning(host: str, token: str | None, *, open: bool = False) -> str | None:
    """What to tell the user who binds beyond loopback, or None."""
    if is_loopback(host):
        return None
    if open:
        admin = "so can the admin API (--admin-open)"
    elif token:
        admin = "the admin API needs the admin token"
    else:
        admin = "the admin API still answers only loopback clients (use --admin-token to open it)"
    return (
        f"mockspike: listening on {host}, reachable from other machines: anyone who can "
        f"reach it can use the fake API; {admin}"
    )


def envelope(
    status: int, type: str, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ASGI messages of an error envelope (no CORS headers, ever)."""
    body = _json.dumps(error_body(type, message, random_id("req_011C", 20)))
    headers = [
        (b"content-type", JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


class Guard:
    """ASGI middleware: applies `refusal` to every request under `/_mockspike/`."""

    def __init__(self, app: Any, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return

        async def unframed(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *FRAME_HEADERS]}
            await send(message)

        headers = scope_headers(scope)
        server = scope.get("server")
        client = scope.get("client")
        given = _query_token(scope) if scope["method"] == "GET" else None
        if given is not None:  # the dashboard opened with ?token=: checked as the header
            headers[ADMIN_TOKEN_HEADER] = given
        refused = refusal(
            self.access,
            method=scope["method"],
            headers=headers,
            client=client[0] if client else "",
            scheme=scope.get("scheme", "http"),
            server_host=_authority(server) if server else "",
            path=scope["path"],
        )
        if refused is None and given is not None and self.access.token is not None:
            for message in _with_cookie(scope["path"], given):  # the URL drops the token
                await send(message)
            return
        if refused is None:
            await self.app(scope, receive, unframed)
            return
        for message in envelope(*refused):
            await unframed(message)


def _query_token(scope: Any) -> str | None:
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query["token"][0] if query.get("token") else None


def _with_cookie(path: str, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A redirect to `path` (without the token) that gives the browser the token's cookie."""
    cookie = f"{TOKEN_COOKIE}={token}; Path={ADMIN_PREFIX}; HttpOnly; SameSite=Strict"
    headers = [
        (b"location", path.encode("latin-1")),
        (b"set-cookie", cookie.encode("latin-1")),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
    ]
    return (
        {"type": "http.response.start", "status": 303, "headers": headers},
        {"type": "http.response.body", "body": b""},
    )


def _authority(server: tuple[str, int | None]) -> str:
    host, port = server
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host
