"""A throwaway `redis-server` for tests and benchmarks of the shared state: a free loopback
port, nothing saved to disk, started and stopped on demand (stop and start again keeps the
port, to test a Redis lost mid-run).

>>> with RedisServer() as server:  # doctest: +SKIP
...     MockSpike(state=server.url)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

START_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """`redis-server` on 127.0.0.1 with no persistence; `url` names database 0."""

    def __init__(self, *options: str) -> None:
        """`options`: more `redis-server` arguments (`--enable-debug-command`, `local`)."""
        self.options = options
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="mockspike-redis-")

    def start(self) -> RedisServer:
        """Start it and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (the Debian package redis-server)")
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *self.options]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), *options, "--dir", self._folder.name],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_SECONDS
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def ping(self) -> bool:
        """True when it answers PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill it (what a crash looks like to its clients)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self._folder.cleanup()
