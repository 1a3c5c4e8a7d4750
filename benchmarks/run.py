"""Side-by-side benchmarks: each target is a ratio against a baseline measured in the same
run, so a noisy machine slows both sides alike. Run: python benchmarks/run.py

1. in-process overhead: `messages.create` through `fake.anthropic_client()` vs the same SDK
   over a static canned-JSON MockTransport, on the one-turn and the 13-turn agent body;
2. pacing accuracy: a paced stream over a real server, requested vs measured time to first
   token and tokens per second (target within 10%);
3. cassette scale: loading a 10,000-interaction cassette, and a replayed request's lookup at
   10,000 interactions vs at 10 (target <= 1.2x);
4. scale: 200 concurrent open streams: server memory growth, and time to first byte at
   1 vs 200 streams;
5. servers side by side under `wrk` (servers.py): mockspike vs aimock vs bare Starlette on
   the three workloads.

`--server` runs only (1) and (5): the figures the performance goals are stated in.
All traffic is on 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import servers
import workloads
from workloads import HEADERS, WORKLOADS, Workload

from mockspike import MockSpike, Pacing, WireRequest
from mockspike.adapters.transports import sdk_http_library
from mockspike.cassettes import Cassette
from mockspike.cassettes.recorder import Recorder
from mockspike.model.tokens import CHARS_PER_TOKEN
from mockspike.script import files as script_files

PROMPT = workloads.ONE_TURN["messages"]


def _median_time(call: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def in_process_overhead(repeat: int, workload: Workload) -> tuple[str, float, float, str]:
    """`fake.anthropic_client()` vs the same SDK over a MockTransport returning canned bytes
    (the fake's own answer, its headers included, so the SDK reads the same response on
    both sides), on one workload's body; median microseconds a call."""
    library = __import__(sdk_http_library())
    fake = MockSpike()
    script_files.build_rules(workloads.mockspike_script(), fake.engine.new_rule)
    ours = fake.anthropic_client(max_retries=0)
    answer = ours.messages.with_raw_response.create(**workload.body).http_response
    body, headers = answer.content, answer.headers.multi_items()
    static = library.MockTransport(  # a ByteStream: no content-length added, as on our side
        lambda request: library.Response(
            200, headers=headers, stream=library.ByteStream(body), request=request
        )
    )
    baseline = anthropic.Anthropic(
        api_key="k",
        base_url="http://mockspike.test",
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(transport=static),
    )

    def create(client: Any) -> Callable[[], Any]:
        return lambda: client.messages.create(**workload.body)

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
    name = f"in-process create, {workload.name} (us)"
    return (name, mine * 1e6, base * 1e6, "<= 1.15x")


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


def stream_scale() -> list[tuple[str, float, float, str]]:
    """200 open streams: memory growth, and time to first byte at 1 vs 200."""
    paced = {
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
    with tempfile.TemporaryDirectory() as tmp:
        server = servers.start_mockspike(Path(tmp), paced)
        try:
            before = server.rss_mb()

            async def open_streams(count: int) -> tuple[float, float]:
                peak = 0.0
                firsts: list[float] = []
                limits = httpx.Limits(max_connections=count)
                async with httpx.AsyncClient(
                    base_url=server.url, headers=HEADERS, timeout=60, limits=limits
                ) as client:

                    async def one() -> None:
                        start = time.perf_counter()
                        body = {**workloads.ONE_TURN, "stream": True}
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
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds")
    parser.add_argument(
        "--server", action="store_true", help="only the server table and in-process ratios"
    )
    parser.add_argument("--before", metavar="REV", help="also serve mockspike as of a git revision")
    args = parser.parse_args()
    rows = [in_process_overhead(args.repeat, w) for w in WORKLOADS if not w.body.get("stream")]
    if not args.server:
        rows += [*pacing_accuracy(), *cassette_scale(args.repeat * 10), *stream_scale()]
    wrk = shutil.which("wrk")
    report = servers.run(args.rounds, args.seconds, before=args.before) if wrk else ["(no wrk)"]
    print(f"{'benchmark':<50} {'mockspike':>12} {'baseline':>12} {'ratio':>7}  target")
    for name, mine, base, target in rows:
        print(f"{name:<50} {mine:>12.3f} {base:>12.3f} {mine / base:>6.2f}x  {target}")
    print("(in-process: the baseline is the SDK over a canned MockTransport)\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
