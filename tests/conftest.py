from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from mockspike import MockSpike
from mockspike.testing.serve_process import start_serve

# pytester runs its inner sessions in this process, then drops the modules they imported.
# httpx and httpx2 import their httpcore lazily and keep its exception classes, so an
# httpcore first imported inside an inner run comes back as other classes, and a later
# test's read timeout escapes httpx's mapping (an APIConnectionError, not APITimeoutError).
for _core in ("httpcore", "httpcore2"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_core)

with contextlib.suppress(ImportError):
    # The HTTP stack, loaded before any in-process pytester run: such a run unloads the
    # modules it imported first, and httptools' compiled parser then raises errors of
    # classes the re-imported uvicorn no longer catches (a later server answers a
    # malformed request by dropping the connection instead of its 400).
    import uvicorn.protocols.http.httptools_impl  # noqa: F401

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

KEY = "sk-test-key"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
SEED_BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Classify this support ticket: My order is late."}],
}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 running the default (bytespike) profile."""
    with MockSpike().serve() as url:
        yield url


@pytest.fixture(scope="session")
def anthropic_server_url() -> Iterator[str]:
    with MockSpike(profile="anthropic").serve() as url:
        yield url


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, headers=HEADERS, timeout=30) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def call_asgi(
    app: Any,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    server: tuple[str, int] = ("127.0.0.1", 8000),
    client: tuple[str, int] = ("127.0.0.1", 5000),
) -> list[dict[str, Any]]:
    """Call an ASGI app directly (no socket) and return every message it sent."""
    import anyio

    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": client,
        "server": server,
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    await app(scope, receive, send)
    return sent


@contextlib.contextmanager
def serve_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`mockspike serve --port 0 --quiet ARGS` as a real process; yields it and its base URL
    (read from the banner it prints once it accepts connections). Killed if still running.
    Quiet: nobody reads its log, which would fill the pipe."""
    process, url = start_serve("--quiet", *args)
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


class Zeros(io.RawIOBase):
    """`size` zero bytes (None: without end), made as they are read — never held whole."""

    def __init__(self, size: int | None) -> None:
        self.size, self.served = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = len(buffer) if self.size is None else min(len(buffer), self.size - self.served)
        buffer[:left] = b"\0" * left
        self.served += left
        return left


CHROMIUM = "/usr/bin/chromium"
"""The system package's browser (scripts/test installs it; no browser downloads here)."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless system Chromium driven by Playwright's sync API, closed after the block (its
    event loop holds the thread meanwhile, so an async test cannot run inside it)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no system Chromium at {CHROMIUM} (scripts/test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
