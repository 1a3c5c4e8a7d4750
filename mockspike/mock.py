"""`MockSpike`: the object users hold. Owns an engine and hands out adapters to it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from functools import cached_property

import uvicorn
from starlette.applications import Starlette

from .engine import Engine
from .server import create_app


class MockSpike:
    """A fake ByteSpike / Anthropic Messages API.

    >>> fake = MockSpike(profile="anthropic")
    >>> fake.app  # a Starlette ASGI app  # doctest: +ELLIPSIS
    <starlette.applications.Starlette object at ...>
    """

    def __init__(self, profile: str = "bytespike") -> None:
        self.engine = Engine(profile)

    @property
    def profile(self) -> str:
        return self.engine.profile.name

    @cached_property
    def app(self) -> Starlette:
        return create_app(self.engine)

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
        try:
            yield base_url(sock)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one. Bound before uvicorn starts so the real
    port is known up front."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
