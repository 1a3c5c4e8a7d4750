"""Serving an ASGI app on a real socket with uvicorn: one way, for `MockSpike.serve()` (a
background thread) and `mockspike serve` (the foreground, until Ctrl-C or SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import uvicorn

from mockspike.adapters import delivery
from mockspike.adapters.bounds import Bounds, protocol_class

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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


def base_url(sock: socket.socket, *, openable: bool = False) -> str:
    """`http://HOST:PORT` of a bound socket; `openable`: a wildcard address (0.0.0.0, ::),
    which no browser opens, as the loopback address of the same family."""
    host, port = sock.getsockname()[:2]
    if openable and host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Server(uvicorn.Server):
    """uvicorn, quiet and without lifespan; in the main thread Ctrl-C and SIGTERM shut it
    down gracefully and exit 0 (uvicorn would re-raise them)."""

    def __init__(
        self, app: Any, bounds: Bounds | None = None, forwarded_allow_ips: str | None = None
    ) -> None:
        bounds = bounds or Bounds()
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # never shown at `warning`, yet its arguments cost a request
            lifespan="off",
            http=protocol_class(bounds),
            timeout_keep_alive=max(1, round(bounds.keep_alive)),
            h11_max_incomplete_event_size=bounds.max_header_bytes,
            # X-Forwarded-For is trusted only from proxies named (uvicorn trusts loopback)
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
        )
        super().__init__(config)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stalls and paced waits end at once (their connections drop): a stalled request
        never holds the shutdown."""
        delivery.stop_waiting()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


async def _serve(server: Server, sock: socket.socket, started: Callable[[], None]) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        started()
    await task


def run(
    app: Any,
    sock: socket.socket,
    started: Callable[[], None] = lambda: None,
    bounds: Bounds | None = None,
    forwarded_allow_ips: str | None = None,
    make_app: Callable[[], Any] | None = None,
) -> None:
    """Serve in this thread until shut down; `started` runs once connections are accepted
    (the CLI prints its banner then, so scripts can wait on it). `make_app` builds the app
    here instead (in a worker process). A second Ctrl-C quits at once, quietly.

    This is the process `mockspike serve` owns, so it tunes the garbage collector for a
    server: what exists at startup (schemas, compiled validators, catalogs) is frozen out
    of every collection, and collections run less often. Each request allocates a parsed
    body; at CPython's defaults, collections took a quarter of a 13-turn request's time."""
    if make_app is not None:
        app = make_app()
    server = Server(app, bounds, forwarded_allow_ips)

    def tuned() -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*SERVE_GC_THRESHOLD)
        started()

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        _run_on_uvicorns_loop(_serve(server, sock, tuned), server)


#: Young-generation collections every this many allocations (CPython's default is 700).
SERVE_GC_THRESHOLD = (20_000, 20, 20)


def _run_on_uvicorns_loop(main: Coroutine[Any, Any, None], server: Server) -> None:
    """`asyncio.run` on the loop uvicorn picks (uvloop, a dependency, where it installs): a
    bare `asyncio.run` would skip that choice and serve on the slower default loop."""
    factory = server.config.get_loop_factory()
    if sys.version_info >= (3, 11) and factory is not None:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(main)
    else:
        asyncio.run(main)


@contextlib.contextmanager
def in_thread(
    app: Any,
    sock: socket.socket,
    bounds: Bounds | None = None,
    forwarded_allow_ips: str | None = None,
) -> Iterator[Server]:
    """Serve on a background thread while the block runs; stop and join after it."""
    server = Server(app, bounds, forwarded_allow_ips)
    up = threading.Event()
    thread = threading.Thread(
        target=lambda: _run_on_uvicorns_loop(_serve(server, sock, up.set), server), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not up.wait(0.005):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("mockspike: the server did not start")
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_workers(
    make_app: Callable[[], Any],
    sock: socket.socket,
    workers: int,
    started: Callable[[], None] = lambda: None,
    bounds: Bounds | None = None,
    forwarded_allow_ips: str | None = None,
) -> int:
    """Serve `sock` with `workers` forked processes, each with its own app from
    `make_app` (their state must be shared, e.g. in Redis); SIGINT or SIGTERM stops them
    all. Returns 0 when every worker exited cleanly."""
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(
            target=run,
            args=(None, sock),
            kwargs={
                "bounds": bounds,
                "make_app": make_app,
                "forwarded_allow_ips": forwarded_allow_ips,
            },
            daemon=False,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def stop(signum: int, frame: Any) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    previous = {sig: signal.signal(sig, stop) for sig in _SIGNALS}
    try:
        started()
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if all(p.exitcode == 0 for p in processes) else 1
