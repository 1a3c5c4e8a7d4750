"""Side-by-side benchmarks: each target is a ratio against a baseline measured in the same
run, so a noisy machine slows both sides alike. Run: python benchmarks/run.py

1. in-process overhead: `messages.create` through mockspike's transport vs the same SDK over
   a static canned-JSON MockTransport (target <= 1.3x);
2. pacing accuracy: a paced stream over a real server, requested vs measured time to first
   token and tokens per second (target within 10%);
3. cassette scale: loading a 10,000-interaction cassette, and a replayed request's lookup at
   10,000 interactions vs at 10 (target <= 1.2x);
4. server throughput: `mockspike serve` vs bare Starlette on the same uvicorn answering the
   same canned JSON, 32 keep-alive connections for a few seconds (target >= 0.8x);
5. streaming: an 8192-token stream, no pacing, vs bare Starlette streaming the same
   pre-encoded frames (target >= 0.8x);
6. scale: 200 concurrent open streams: server memory growth, and time to first byte at
   1 vs 200 streams.

All traffic is on 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx

from mockspike import MockSpike, Pacing, WireRequest
from mockspike.adapters.transports import sdk_http_library
from mockspike.cassettes import Cassette
from mockspike.cassettes.recorder import Recorder
from mockspike.gateway.accounting import CHARS_PER_TOKEN

PROMPT = [{"role": "user", "content": "Classify this support ticket: My order is late."}]
SEED = {"model": "claude-haiku-4-5", "max_tokens": 1024, "messages": PROMPT}


def _median_time(call: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def in_process_overhead(repeat: int) -> tuple[str, float, float, str]:
    library = __import__(sdk_http_library())
    fake = MockSpike()
    fake.on().reply("Logistics — delivery delay.")
    ours = fake.anthropic_client(max_retries=0)
    canned = ours.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT)
    body = canned.to_json(indent=None).encode()
    headers = {"content-type": "application/json", "request-id": "req_011Cbench"}
    static = library.MockTransport(
        lambda request: library.Response(200, headers=headers, content=body)
    )
    baseline = anthropic.Anthropic(
        api_key="k",
        base_url="http://mockspike.test",
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(transport=static),
    )

    def create(client: Any) -> Callable[[], Any]:
        return lambda: client.messages.create(
            model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT
        )

    for _ in range(50):  # warm up both
        create(ours)()
        create(baseline)()
    fake.requests.clear()
    rounds = [
        (_median_time(create(ours), repeat), _median_time(create(baseline), repeat))
        for _ in range(5)
    ]
    mine = statistics.median(r[0] for r in rounds)
    base = statistics.median(r[1] for r in rounds)
    return ("in-process create vs canned MockTransport", mine * 1e6, base * 1e6, "<= 1.3x")


def pacing_accuracy() -> list[tuple[str, float, float, str]]:
    ttft, rate = 0.25, 100.0
    fake = MockSpike(pacing=Pacing(ttft=ttft, tokens_per_second=rate))
    fake.on().reply(" ".join(["word"] * 120))
    with fake.serve() as url:
        client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
        fake.engine.pacing = Pacing()
        client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)  # warm up
        fake.engine.pacing = Pacing(ttft=ttft, tokens_per_second=rate)
        start = time.perf_counter()
        first, first_piece = 0.0, ""
        with client.messages.stream(
            model="claude-haiku-4-5", max_tokens=1024, messages=PROMPT
        ) as stream:
            for piece in stream.text_stream:
                if not first:
                    first, first_piece = time.perf_counter(), piece
            end = time.perf_counter()
            tokens = stream.get_final_message().usage.output_tokens
    # the first delta arrives at the TTFT; every later token is paced at the rate
    measured_ttft = first - start
    measured_rate = (tokens - len(first_piece) / CHARS_PER_TOKEN) / (end - first)
    return [
        ("pacing: time to first token (s)", measured_ttft, ttft, "within 10%"),
        ("pacing: tokens per second", measured_rate, rate, "within 10%"),
    ]


def _cassette(path: Path, size: int) -> Path:
    cassette = Cassette.load(path)
    for n in range(size):
        body = {
            "model": "claude-haiku-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": f"question number {n}"}],
        }
        cassette.interactions.append(
            {
                "request": {"method": "POST", "path": "/v1/messages", "headers": {}, "body": body},
                "response": {
                    "status": 200,
                    "headers": {"content-type": "application/json"},
                    "body": {
                        "type": "message",
                        "content": [{"type": "text", "text": f"answer {n}"}],
                    },
                },
            }
        )
    cassette.save()
    return path


def cassette_scale(repeat: int) -> list[tuple[str, float, float, str]]:
    with tempfile.TemporaryDirectory() as folder:
        big = _cassette(Path(folder) / "big.json", 10_000)
        small = _cassette(Path(folder) / "small.json", 10)
        start = time.perf_counter()
        loaded = Recorder(Cassette.load(big))
        load_seconds = time.perf_counter() - start
        tiny = Recorder(Cassette.load(small))

        def lookup(recorder: Recorder, n: int) -> Callable[[], Any]:
            body = json.dumps(
                {
                    "model": "claude-haiku-4-5",
                    "max_tokens": 64,
                    "messages": [{"role": "user", "content": f"question number {n}"}],
                }
            )
            request = WireRequest("POST", "/v1/messages", {}, body.encode())
            return lambda: recorder.handle(request)

        rounds = [
            (_median_time(lookup(loaded, 9_999), repeat), _median_time(lookup(tiny, 9), repeat))
            for _ in range(5)
        ]
    at_big = statistics.median(r[0] for r in rounds) * 1e6
    at_small = statistics.median(r[1] for r in rounds) * 1e6
    return [
        ("cassette: load 10,000 interactions (s)", load_seconds, load_seconds, "(figure)"),
        ("cassette: lookup at 10,000 vs at 10 (us)", at_big, at_small, "<= 1.2x"),
    ]


BENCH_KEY = {"x-api-key": "bench", "anthropic-version": "2023-06-01"}
LONG_TEXT = " ".join(["token"] * 6553)  # 8192 tokens at four characters each
CANNED_TEXT = "Logistics — delivery delay."


class _Server:
    """A server in its own process, on a free loopback port."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
        import socket

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
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server {args} did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _mockspike_server(script: Path | None = None) -> _Server:
    """The fake, with limits no benchmark reaches: it measures answers, not 429s."""
    config = Path(tempfile.mkdtemp()) / "gateway.json"
    unlimited = {
        "requests_per_minute": 10**9,
        "input_tokens_per_minute": 10**12,
        "output_tokens_per_minute": 10**12,
    }
    config.write_text(json.dumps({"keys": {"bench": {"rate_limits": unlimited}}}))
    args = [sys.executable, "-m", "mockspike", "serve", "--port", "{port}", "--config", str(config)]
    return _Server(args + (["--script", str(script)] if script else []))


async def _hammer(port: int, path: str, body: bytes, seconds: float, connections: int) -> int:
    """Requests answered in `seconds` over `connections` keep-alive sockets (a minimal
    HTTP/1.1 client, so the load generator is not the bottleneck)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"x-api-key: bench\r\nanthropic-version: 2023-06-01\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    request = head + body
    done = 0
    stop_at = time.monotonic() + seconds

    async def connection() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < stop_at:
                writer.write(request)
                headers = await reader.readuntil(b"\r\n\r\n")
                length = int(headers.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                done += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return done


def _canned(folder: Path) -> dict[str, str]:
    """The fake's own answers, written for the bare app to serve as static bytes."""
    from mockspike import Engine

    engine = Engine()
    engine.new_rule(stream=True).reply(LONG_TEXT)
    engine.new_rule().reply(CANNED_TEXT)
    json_answer = engine.handle(
        WireRequest("POST", "/v1/messages", dict(BENCH_KEY), json.dumps(SEED).encode())
    )
    (folder / "answer.json").write_bytes(json_answer.body)
    stream = engine.handle(
        WireRequest(
            "POST",
            "/v1/messages",
            dict(BENCH_KEY),
            json.dumps({**SEED, "max_tokens": 8192, "stream": True}).encode(),
        )
    )
    lines = [json.dumps(chunk.decode()) for _, chunk in stream.iter_chunks()]
    (folder / "frames.txt").write_text("\n".join(lines) + "\n")
    (folder / "script.json").write_text(
        json.dumps(
            {"rules": [{"match": {"stream": True}, "respond": {"reply": {"text": LONG_TEXT}}}]}
        )
    )
    return {"BARE_JSON": str(folder / "answer.json"), "BARE_FRAMES": str(folder / "frames.txt")}


def server_throughput(seconds: float) -> list[tuple[str, float, float, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = _canned(Path(tmp))
        body = json.dumps(SEED).encode()
        bare = _Server(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--port",
                "{port}",
                "--log-level",
                "warning",
            ],
            env,
            cwd=Path(__file__).parent,
        )
        fake = _mockspike_server(Path(tmp) / "script.json")
        try:
            rates = []
            for _ in range(2):  # alternate, so drift hits both sides
                ours = asyncio.run(_hammer(fake.port, "/v1/messages", body, seconds, 32)) / seconds
                base = asyncio.run(_hammer(bare.port, "/v1/messages", body, seconds, 32)) / seconds
                rates.append((ours, base))
            streams = _stream_rates(fake.url, bare.url)
        finally:
            fake.stop()
            bare.stop()
    ours = statistics.mean(r[0] for r in rates)
    base = statistics.mean(r[1] for r in rates)
    return [("server: requests per second, 32 connections", ours, base, ">= 0.8x"), streams]


def _stream_rates(fake_url: str, bare_url: str, rounds: int = 20) -> tuple[str, float, float, str]:
    body = {**SEED, "max_tokens": 8192, "stream": True}

    def rate(url: str, path: str) -> float:
        with httpx.Client(base_url=url, headers=BENCH_KEY, timeout=60) as client:
            size = 0
            start = time.perf_counter()
            for _ in range(rounds):
                with client.stream("POST", path, json=body) as response:
                    for chunk in response.iter_raw():
                        size += len(chunk)
            return size / (time.perf_counter() - start) / 1e6

    ours = statistics.mean([rate(fake_url, "/v1/messages"), rate(fake_url, "/v1/messages")])
    base = statistics.mean([rate(bare_url, "/stream"), rate(bare_url, "/stream")])
    return ("streaming: 8192-token stream, MB/s", ours, base, ">= 0.8x")


def stream_scale() -> list[tuple[str, float, float, str]]:
    """200 open streams: memory growth, and time to first byte at 1 vs 200."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paced.json"
        script.write_text(
            json.dumps(
                {
                    "rules": [
                        {
                            "respond": {
                                "reply": {
                                    "text": " ".join(["word"] * 60),
                                    "timing": {"ttft": 0.3, "tokens_per_second": 60},
                                }
                            }
                        }
                    ]
                }
            )
        )
        server = _mockspike_server(script)
        try:
            before = server.rss_mb()

            async def open_streams(count: int) -> tuple[float, float]:
                peak = 0.0
                firsts: list[float] = []
                limits = httpx.Limits(max_connections=count)
                async with httpx.AsyncClient(
                    base_url=server.url, headers=BENCH_KEY, timeout=60, limits=limits
                ) as client:

                    async def one() -> None:
                        start = time.perf_counter()
                        body = {**SEED, "stream": True}
                        async with client.stream("POST", "/v1/messages", json=body) as response:
                            first = True
                            async for _ in response.aiter_raw():
                                if first:
                                    firsts.append(time.perf_counter() - start)
                                    first = False

                    tasks = [asyncio.create_task(one()) for _ in range(count)]
                    while not all(t.done() for t in tasks):
                        peak = max(peak, server.rss_mb())
                        await asyncio.sleep(0.05)
                    await asyncio.gather(*tasks)
                return statistics.median(firsts), peak

            one_ttfb, _ = asyncio.run(open_streams(1))
            many_ttfb, peak = asyncio.run(open_streams(200))
            after_first = server.rss_mb()
            asyncio.run(open_streams(200))  # the same again: memory must not keep growing
            after = server.rss_mb()
        finally:
            server.stop()
    return [
        ("scale: time to first byte, 200 vs 1 streams (s)", many_ttfb, one_ttfb, "(figure)"),
        ("scale: server RSS at 200 streams vs idle (MB)", peak, before, "(figure)"),
        (
            "scale: RSS after a 2nd round of 200 vs after the 1st (MB)",
            after,
            after_first,
            "no leak: ~1.0x",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="calls per timing round")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load run")
    args = parser.parse_args()
    rows = [
        in_process_overhead(args.repeat),
        *pacing_accuracy(),
        *cassette_scale(args.repeat * 10),
        *server_throughput(args.seconds),
        *stream_scale(),
    ]
    print(f"{'benchmark':<50} {'mockspike':>12} {'baseline':>12} {'ratio':>7}  target")
    for name, mine, base, target in rows:
        print(f"{name:<50} {mine:>12.3f} {base:>12.3f} {mine / base:>6.2f}x  {target}")
    print("(in-process figures are median microseconds per call)")


if __name__ == "__main__":
    main()
