"""`mockspike serve` as a child process, for tests and benchmarks that need a real one (two
processes sharing a state, a recorder killed mid-run): started on a free loopback port, its
URL read from the banner it prints once it accepts connections."""

from __future__ import annotations

import subprocess
import sys


def start_serve(
    *args: str, stderr: int | None = subprocess.PIPE
) -> tuple[subprocess.Popen[str], str]:
    """Start `mockspike serve --port 0 ARGS…`; returns the process and its base URL once it
    serves. A process that fails to start is killed, and its error output is in the
    `RuntimeError`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockspike", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "serving on " not in line:
        process.kill()
        error = process.communicate()[1] or ""
        raise RuntimeError(f"mockspike serve did not start: {line}{error}")
    return process, line.split("serving on ", 1)[1].strip()
