"""The pytest plugin's socket-level guards, for every HTTP library (urllib, requests,
aiohttp, httpx…), not only the ones whose transports it patches:

- the real hosts (the profiles' gateway and `api.anthropic.com`, plus
  `mockspike_blocked_hosts`) do not resolve: `socket.getaddrinfo` refuses their names, so a
  client never learns an address to connect to (a cassette's upstream resolves while it
  records: in the recording test, and in any thread sending a recording upstream);
- with `--mockspike-block-network`, as pytest-recording's `--block-network`, no socket
  connects beyond loopback (and Unix sockets) except to `--mockspike-allowed-hosts`, and to
  the upstream of a cassette that records during the test.

Both raise `NetworkBlocked`, an `OSError` (so libraries report it as the connection error
it stands for) whose message says what to do; the plugin also fails the test with it.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any

ALLOW_REAL_HOSTS = "--mockspike-allow-real-hosts"


class NetworkBlocked(OSError):
    """A connection the plugin stopped; the message names it and how to allow it."""


def _upstream_sending() -> bool:
    """True in a thread sending a recording's request upstream (`cassettes/upstream.py`,
    looked up only if loaded: recording is the one way a test reaches a real host)."""
    module = sys.modules.get("mockspike.cassettes.upstream")
    return bool(getattr(getattr(module, "SENDING", None), "active", False))


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class SocketGuard:
    """Patches `socket.getaddrinfo` (the real hosts) and, when asked, `socket.socket.connect`
    and `connect_ex` (everything beyond loopback and the allowed hosts)."""

    def __init__(self, hosts: Iterable[str], report: Callable[[str], None]) -> None:
        self.hosts = frozenset(h.lower().rstrip(".") for h in hosts)
        self.report = report
        self.recording: set[str] = set()
        """Hosts a cassette records from during the current test: they resolve, and (as
        pytest-recording lifts its block while recording) their addresses connect."""
        self.recording_addresses: set[str] = set()
        self.block = False
        self.allowed: frozenset[str] = frozenset()
        self.patched: list[tuple[Any, str, Any]] = []

    def install(self, *, block: bool = False, allowed: Iterable[str] = ()) -> None:
        original = socket.getaddrinfo
        if not getattr(original, "_mockspike_guard", False):
            socket.getaddrinfo = self._resolver(original)
            self.patched.append((socket, "getaddrinfo", original))
        self.block = block
        if block:
            self.allowed = frozenset(self._addresses(allowed))
            for method in ("connect", "connect_ex"):
                original = getattr(socket.socket, method)
                if getattr(original, "_mockspike_guard", False):
                    continue
                setattr(socket.socket, method, self._connector(original))
                self.patched.append((socket.socket, method, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self.patched):
            setattr(owner, name, original)
        self.patched.clear()

    def record_from(self, host: str) -> None:
        """Let the current test's cassette reach its upstream `host`."""
        self.recording.add(host)
        self.recording_addresses |= self._addresses([host])

    def test_done(self) -> None:
        self.recording.clear()
        self.recording_addresses.clear()

    def _addresses(self, hosts: Iterable[str]) -> set[str]:
        """The allowed names and every address they resolve to now."""
        out: set[str] = set()
        for host in hosts:
            host = host.strip().lower()
            if not host:
                continue
            out.add(host)
            with contextlib.suppress(OSError):  # a name that does not resolve: kept as a name
                out |= {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        return out

    def _resolver(self, original: Any) -> Any:
        @functools.wraps(original)
        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if isinstance(name, str):
                name = name.lower().rstrip(".")
                if name in self.hosts and name not in self.recording and not _upstream_sending():
                    message = (
                        f"mockspike: a test tried to reach the real host {name}; that would "
                        "cost money. Use the mockspike fixtures (code that builds its own "
                        "client, with any HTTP library, needs mockspike_server: it sets "
                        f"ANTHROPIC_BASE_URL), or pass {ALLOW_REAL_HOSTS} on purpose."
                    )
                    self.report(message)
                    raise NetworkBlocked(socket.EAI_NONAME, message)
            return original(host, *args, **kwargs)

        getaddrinfo._mockspike_guard = True  # type: ignore[attr-defined]
        return getaddrinfo

    def _connector(self, original: Any) -> Any:
        guard = self

        @functools.wraps(original)
        def connect(sock: socket.socket, address: Any) -> Any:
            if guard.block and sock.family in (socket.AF_INET, socket.AF_INET6):
                host = str(address[0]).lower()
                allowed = (
                    host in guard.allowed
                    or host in guard.recording_addresses
                    or _upstream_sending()
                )
                if not _loopback(host) and not allowed:
                    message = (
                        f"mockspike: --mockspike-block-network stopped a connection to "
                        f"{host}:{address[1]}; only loopback is allowed. Allow a host with "
                        "--mockspike-allowed-hosts=NAME (or the ini's mockspike_allowed_hosts)"
                    )
                    guard.report(message)
                    raise NetworkBlocked(message)
            return original(sock, address)

        connect._mockspike_guard = True  # type: ignore[attr-defined]
        return connect
