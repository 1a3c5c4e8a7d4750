"""Side by side under load: `mockspike serve` (scripted answers, lifted limits) against
aimock, the peer a user picks for a fast mock server (Node), and the floor: bare Starlette
returning canned bytes on uvicorn with uvloop + httptools. Three workloads (`workloads.py`),
driven by `wrk` (2 threads, 32 keep-alive connections, loopback).

    python benchmarks/servers.py [--rounds 3] [--seconds 4] [--no-peer] [--before REV]

Rounds interleave the servers (their order rotates each round), so drift hits all alike;
the table gives medians over rounds, and the ratios with their range over rounds. aimock
runs when `node` is on PATH (installed from benchmarks/peer/package-lock.json with `npm ci`
on first use); otherwise it is skipped with a note. Every answer is checked once before the
load starts, so each server is known to answer the workload as the others do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import workloads
from workloads import HEADERS, WORKLOADS, Workload

from mockspike import Engine, WireRequest
from mockspike.script import files as script_files

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer"
AIMOCK_CLI = PEER / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"
THREADS, CONNECTIONS = 2, 32


class Server:
    """A server in its own process on a free loopback port."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        bare: bool = False,
    ) -> None:
        self.name = name
        self.bare = bare
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [arg.replace("{port}", str(self.port)) for arg in args],
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                httpx.get(self.url + "/", timeout=0.5)  # any answer: it is listening
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not start: {' '.join(args)}")

    def path(self, workload: Workload) -> str:
        return workload.bare_path if self.bare else "/v1/messages"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_mockspike(
    folder: Path,
    script: dict[str, Any] | None = None,
    python: str = sys.executable,
    name: str = "mockspike",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Server:
    """`mockspike serve` with lifted limits and the workloads' script (or `script`)."""
    config = folder / f"{name}-gateway.json"
    config.write_text(json.dumps(workloads.unlimited_config()))
    rules = folder / f"{name}-script.json"
    rules.write_text(json.dumps(script or workloads.mockspike_script()))
    args = [python, "-m", "mockspike", "serve", "--port", "{port}"]
    return Server(name, [*args, "--config", str(config), "--script", str(rules)], env=env, cwd=cwd)


def canned_answers(folder: Path) -> int:
    """Write mockspike's own answers for the bare app, headers included (`NAME.headers`:
    the same names and values, as JSON pairs); returns the stream's text deltas."""
    engine = Engine()
    script_files.build_rules(workloads.mockspike_script(), engine.new_rule)
    deltas = 0
    for workload in WORKLOADS:
        answer = engine.handle(WireRequest("POST", "/v1/messages", dict(HEADERS), workload.raw))
        assert answer.status == 200, answer.body
        pairs = list(answer.headers.items())
        (folder / f"{workload.name}.headers").write_text(json.dumps(pairs))
        if answer.stream is None:
            (folder / f"{workload.name}.json").write_bytes(answer.body)
            continue
        frames = [chunk for _, chunk in answer.iter_chunks()]
        deltas = sum(b'"text_delta"' in frame for frame in frames)
        lines = [json.dumps(frame.decode()) for frame in frames]
        (folder / "stream.frames").write_text("\n".join(lines) + "\n")
    return deltas


def start_bare(folder: Path) -> Server:
    args = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", "{port}"]
    args += ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
    args += ["--no-access-log"]
    return Server("bare", args, {"BARE_DIR": str(folder)}, cwd=HERE, bare=True)


def aimock_unavailable() -> str | None:
    """Why aimock cannot run here (None when it can); installs it from the lockfile once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "aimock skipped: node is not installed"
    if not AIMOCK_CLI.exists():
        print("installing aimock into benchmarks/peer (npm ci)…", flush=True)
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, capture_output=True, timeout=300
        )
        if done.returncode != 0 or not AIMOCK_CLI.exists():
            return "aimock skipped: `npm ci` in benchmarks/peer failed"
    return None


def aimock_version() -> str:
    manifest = AIMOCK_CLI.parent.parent / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def start_aimock(
    folder: Path, chunk_chars: int = 16, fixtures: dict[str, Any] | None = None
) -> Server:
    """aimock with the workloads' fixtures (or `fixtures`), its defaults otherwise."""
    path = folder / "aimock-fixtures.json"
    path.write_text(json.dumps(fixtures or workloads.aimock_fixtures(chunk_chars)))
    args = ["node", str(AIMOCK_CLI), "--port", "{port}", "--host", "127.0.0.1"]
    return Server("aimock", [*args, "--fixtures", str(path), "--log-level", "silent"])


def verify(server: Server, workload: Workload) -> int:
    """Check one answer is the workload's, as the other servers give it; returns its size."""
    response = httpx.post(
        server.url + server.path(workload), content=workload.raw, headers=HEADERS, timeout=30
    )
    where = f"{server.name} on {workload.name}"
    if response.status_code != 200:
        raise RuntimeError(f"{where}: HTTP {response.status_code}: {response.text[:300]}")
    if workload.body.get("stream"):
        text = "".join(
            json.loads(line[6:])["delta"]["text"]
            for line in response.text.splitlines()
            if line.startswith("data: ") and '"text_delta"' in line
        )
        expected = workloads.LONG_TEXT
    else:
        text = response.json()["content"][0]["text"]
        expected = workloads.AGENT_ANSWER if workload.name == "agent" else workloads.SHORT_ANSWER
    if text != expected:
        raise RuntimeError(f"{where}: answered {text[:80]!r}, expected {expected[:80]!r}")
    return len(response.content)


@dataclass
class Load:
    rate: float
    """Responses a second."""
    errors: int
    """Non-2xx answers and socket errors (a valid run has none)."""


def wrk(server: Server, workload: Workload, body_file: Path, seconds: float) -> Load:
    """One bounded `wrk` run: `seconds` long, its process killed if it overruns."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "post.lua"), server.url + server.path(workload)]
    done = subprocess.run(
        command,
        env={**os.environ, "WRK_BODY": str(body_file)},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or rate is None:
        raise RuntimeError(f"wrk failed on {server.name}: {done.stderr or out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Load(float(rate[1]), errors + (int(bad[1]) if bad else 0))


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), load average {load}, Python {platform.python_version()}"
    )


@contextmanager
def servers(
    folder: Path, with_peer: bool = True, before: str | None = None
) -> Iterator[tuple[list[Server], str | None]]:
    """mockspike, the bare floor and (when node is there) aimock, running; stopped after.
    `before`: also mockspike as of that git revision (its package on PYTHONPATH, the rest
    of this environment shared), for before/after tables."""
    with ExitStack() as stack:
        deltas = canned_answers(folder)
        started: list[Server] = []
        stack.callback(lambda: [s.stop() for s in started])
        started.append(start_mockspike(folder))
        if before is not None:
            tree = folder / "before"
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", before, "mockspike"],
                cwd=HERE.parent,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            env = {"PYTHONPATH": str(tree)}
            started.append(start_mockspike(folder, name=f"mockspike@{before}", env=env, cwd=tree))
        note = aimock_unavailable() if with_peer else "aimock skipped: --no-peer"
        if note is None:
            chunk = math.ceil(len(workloads.LONG_TEXT) / deltas)
            started.append(start_aimock(folder, chunk))
        started.append(start_bare(folder))
        yield started, note


def measure(
    targets: list[Server], folder: Path, rounds: int, seconds: float
) -> dict[tuple[str, str], list[Load]]:
    """Interleaved rounds: every workload on every server, the order rotating each round."""
    bodies = {}
    for workload in WORKLOADS:
        bodies[workload.name] = folder / f"{workload.name}.body"
        bodies[workload.name].write_bytes(workload.raw)
        sizes = ", ".join(f"{s.name} {verify(s, workload):,} B" for s in targets)
        print(f"  {workload.name}: answers checked ({sizes})", flush=True)
    for workload in WORKLOADS:  # warm up (JIT, caches, connection pools)
        for server in targets:
            wrk(server, workload, bodies[workload.name], 1)
    results: dict[tuple[str, str], list[Load]] = {}
    for n in range(rounds):
        for workload in WORKLOADS:
            order = targets[n % len(targets) :] + targets[: n % len(targets)]
            for server in order:
                load = wrk(server, workload, bodies[workload.name], seconds)
                results.setdefault((workload.name, server.name), []).append(load)
        print(f"  round {n + 1}/{rounds} done", flush=True)
    return results


def table(results: dict[tuple[str, str], list[Load]], names: list[str]) -> list[str]:
    """The markdown table: medians, and mockspike's ratios (median, range over rounds)."""
    head = ["workload", *names] + [f"mockspike / {n}" for n in names if n != "mockspike"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload in WORKLOADS:
        cells = [workload.title]
        runs = {n: results[(workload.name, n)] for n in names}
        for name in names:
            rate = statistics.median(r.rate for r in runs[name])
            errors = sum(r.errors for r in runs[name])
            cells.append(f"{rate:,.0f} {workload.unit}" + (f" ({errors} errors)" if errors else ""))
        for name in names:
            if name == "mockspike":
                continue
            ratios = [m.rate / o.rate for m, o in zip(runs["mockspike"], runs[name], strict=True)]
            spread = f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""
            cells.append(f"{statistics.median(ratios):.2f}x{spread}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def run(
    rounds: int, seconds: float, with_peer: bool = True, before: str | None = None
) -> list[str]:
    """Start the servers, measure, stop them; returns the report's lines."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        servers(Path(tmp), with_peer, before) as (targets, note),
    ):
        print(f"servers: {', '.join(s.name for s in targets)}; {rounds} rounds of {seconds:g} s")
        results = measure(targets, Path(tmp), rounds, seconds)
        rss = {s.name: s.rss_mb() for s in targets}
    names = [s.name for s in targets]
    import uvicorn

    about = [
        f"machine: {machine()}; uvicorn {uvicorn.__version__}; "
        f"wrk -t{THREADS} -c{CONNECTIONS}, {rounds} interleaved rounds of {seconds:g} s",
    ]
    if note is None:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
        about.append(f"aimock {aimock_version()} on node {node.strip()}")
    else:
        about.append(note)
    about.append("RSS after the load: " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in rss.items()))
    return [*about, "", *table(results, names)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each wrk run")
    parser.add_argument("--no-peer", action="store_true", help="skip aimock")
    parser.add_argument("--before", metavar="REV", help="also run mockspike as of a git revision")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("servers: wrk is not installed (apt-get install wrk)")
    print("\n".join(run(args.rounds, args.seconds, not args.no_peer, args.before)))


if __name__ == "__main__":
    main()
