"""Where the floor is: what a request costs a Python server doing the least a faithful fake
must, beside mockspike's engine behind that same least adapter, and `mockspike serve`.

    python benchmarks/floor.py [--rounds 3] [--seconds 4]

Three servers on uvicorn (uvloop + httptools, access log off), loaded by `wrk` with the
one-turn and the 13-turn agent bodies in interleaved rounds:

- **least** (`floor:least`): a raw ASGI app that reads the body, parses it, checks it
  against mockspike's own compiled schema, builds the message and the twelve rate-limit
  headers, and writes them: the work no faithful fake can skip, and nothing else;
- **engine** (`floor:engine`): mockspike's `Engine` behind the same least adapter (the
  headers as a dict, one `WireRequest`, the answer written as it comes);
- **mockspike**: `mockspike serve` as a user runs it.

Each server's CPU a request (user + system, from /proc) is printed beside its rate, so
`engine` minus `least` is what the engine costs in place, and `mockspike` minus `engine` is
what `serve`'s adapters add.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import workloads
from servers import HERE, Server, machine, start_mockspike, wrk
from workloads import WORKLOADS

from mockspike import Engine, WireRequest
from mockspike._ids import random_id
from mockspike.contract.compiled import compile_schema
from mockspike.contract.validate import message_schema
from mockspike.gateway.keys import GatewayConfig
from mockspike.script import files as script_files

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_CHECK = compile_schema(message_schema())
_LIMIT_NAMES = [
    f"anthropic-ratelimit-{bucket}-{part}".encode()
    for bucket in ("requests", "input-tokens", "output-tokens", "tokens")
    for part in ("limit", "remaining", "reset")
]


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _write(send: Send, status: int, headers: list[tuple[bytes, bytes]], out: bytes) -> None:
    headers.append((b"content-length", b"%d" % len(out)))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": out})


async def least(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Parse, check, build the message and the headers, write: nothing more."""
    if scope["type"] != "http":
        return
    raw = await _body(receive)
    body = orjson.loads(raw)
    valid = _CHECK(body)
    text = workloads.AGENT_ANSWER if "tools" in body else workloads.SHORT_ANSWER
    message = {
        "model": body["model"],
        "id": random_id("msg_01", 22),
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "stop_details": None,
        "usage": {"input_tokens": len(raw) // 4, "output_tokens": 7},
    }
    now = int(time.time())
    headers = [(name, b"%d" % (now + i)) for i, name in enumerate(_LIMIT_NAMES)]
    headers += [
        (b"request-id", random_id("req_011C", 24).encode()),
        (b"content-type", b"application/json"),
    ]
    await _write(send, 200 if valid else 400, headers, orjson.dumps(message))


_engine: Engine | None = None


async def engine(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """mockspike's engine behind the least adapter."""
    global _engine
    if scope["type"] != "http":
        return
    if _engine is None:
        _engine = Engine(config=GatewayConfig.from_dict(workloads.unlimited_config()))
        script_files.build_rules(workloads.mockspike_script(), _engine.new_rule)
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)  # as `serve` tunes it
    raw = await _body(receive)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    answer = _engine.handle(WireRequest(scope["method"], scope["path"], headers, raw))
    pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    await _write(send, answer.status, pairs, answer.body)


def _uvicorn(name: str) -> Server:
    args = [sys.executable, "-m", "uvicorn", f"floor:{name}", "--port", "{port}"]
    args += ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
    return Server(name, [*args, "--no-access-log"], cwd=HERE)


def _cpu_seconds(server: Server) -> float:
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run(rounds: int, seconds: float) -> list[str]:
    """Start the three servers, load them in interleaved rounds; the report's lines."""
    loads = WORKLOADS[:2]  # one-turn and agent: the least app does not stream
    rates: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        targets = [_uvicorn("least"), _uvicorn("engine"), start_mockspike(folder)]
        try:
            for workload in loads:
                (folder / f"{workload.name}.body").write_bytes(workload.raw)
                for server in targets:
                    wrk(server, workload, folder / f"{workload.name}.body", 1)  # warm up
            for n in range(rounds):
                for workload in loads:
                    for server in targets[n % 3 :] + targets[: n % 3]:
                        before = _cpu_seconds(server)
                        load = wrk(server, workload, folder / f"{workload.name}.body", seconds)
                        if load.errors:
                            raise RuntimeError(f"{server.name}: {load.errors} errors")
                        used = _cpu_seconds(server) - before
                        key = (workload.name, server.name)
                        rates.setdefault(key, []).append(load.rate)
                        cpu.setdefault(key, []).append(used / (load.rate * seconds) * 1e6)
                print(f"  round {n + 1}/{rounds} done", flush=True)
        finally:
            for server in targets:
                server.stop()
    names = [s.name for s in targets]
    lines = [
        f"machine: {machine()}; wrk -t2 -c32, {rounds} interleaved rounds of {seconds:g} s",
        "",
        "| workload | " + " | ".join(names) + " | engine in place |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for workload in loads:
        cells = [workload.title]
        mid = {n: statistics.median(cpu[(workload.name, n)]) for n in names}
        for name in names:
            rate = statistics.median(rates[(workload.name, name)])
            cells.append(f"{rate:,.0f} req/s, {mid[name]:.0f} us CPU")
        cells.append(f"{mid['engine'] - mid['least']:.0f} us CPU")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("floor: wrk is not installed (apt-get install wrk)")
    print("\n".join(run(args.rounds, args.seconds)))


if __name__ == "__main__":
    main()
