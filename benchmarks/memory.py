"""Memory under load: a server's resident memory (RSS) idle, with 1,000 concurrent paced
streams open, after they close, and after 100,000 journaled requests; with the slowest
answer seen in the first and the last 10,000 of those (garbage-collection pauses grow with
what the server keeps).

    python benchmarks/memory.py [--streams 1000] [--requests 100000] [--no-peer]

mockspike runs as `mockspike serve` with lifted limits; aimock alongside for reference when
`node` is installed (its journal keeps 1,000 entries by default). Every loop is bounded in
count and time; all traffic is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httptools
import servers
import workloads
from workloads import HEADERS

STREAM_WORDS = 100
"""A paced answer (1 s to the first token, then 100 tokens a second): ~2.3 s a stream, so
every stream is open at once."""
TIME_LIMIT = 300.0


def _request(body: dict[str, Any], close: bool) -> bytes:
    raw = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    connection = "close" if close else "keep-alive"
    return (
        f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Connection: {connection}\r\nContent-Length: {len(raw)}\r\n\r\n"
    ).encode() + raw


class _Response:
    """Parser callbacks: enough to know one response has ended and its status."""

    def __init__(self) -> None:
        self.complete = False

    def on_message_complete(self) -> None:
        self.complete = True


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> None:
    response = _Response()
    parser = httptools.HttpResponseParser(response)
    writer.write(request)
    while not response.complete:
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("the server closed the connection mid-response")
        parser.feed_data(data)
    if parser.get_status_code() != 200:
        raise RuntimeError(f"HTTP {parser.get_status_code()}")


async def concurrent_streams(server: servers.Server, count: int) -> tuple[float, int]:
    """Open `count` paced streams at once; returns the peak RSS (MB) while they are open
    and how many were open at the same moment."""
    request = _request(workloads.STREAM, close=True)
    open_now = peak_open = 0

    async def one() -> None:
        nonlocal open_now, peak_open
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        open_now += 1
        peak_open = max(peak_open, open_now)
        try:
            await _exchange(reader, writer, request)
        finally:
            open_now -= 1
            writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    peak = 0.0
    deadline = time.monotonic() + TIME_LIMIT
    while not all(t.done() for t in tasks) and time.monotonic() < deadline:
        peak = max(peak, server.rss_mb())
        await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=max(1.0, deadline - time.monotonic()))
    return peak, peak_open


async def journaled_requests(
    server: servers.Server, count: int, connections: int = 32
) -> list[float]:
    """`count` one-turn requests over keep-alive connections; each answer's latency (s)."""
    request = _request(workloads.ONE_TURN, close=False)
    latencies: list[float] = []
    sent = 0
    deadline = time.monotonic() + TIME_LIMIT

    async def connection() -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            while sent < count and time.monotonic() < deadline:
                sent += 1
                start = time.perf_counter()
                await _exchange(reader, writer, request)
                latencies.append(time.perf_counter() - start)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return latencies


def measure(server: servers.Server, streams: int, requests: int) -> list[str]:
    idle = server.rss_mb()
    at_streams, open_at_once = asyncio.run(concurrent_streams(server, streams))
    after_streams = server.rss_mb()
    latencies = asyncio.run(journaled_requests(server, requests))
    after = server.rss_mb()
    window = min(10_000, len(latencies))
    first, last = latencies[:window], latencies[-window:]
    grown = (after - after_streams) * 1024 / max(1, len(latencies))
    return [
        f"{server.name}: idle {idle:.0f} MB",
        f"  {streams:,} concurrent streams ({open_at_once:,} open at once): "
        f"peak {at_streams:.0f} MB; after they close {after_streams:.0f} MB",
        f"  {len(latencies):,} requests: {after:.0f} MB after "
        f"({grown:.2f} KB a request); slowest answer {max(first) * 1000:.0f} ms in the "
        f"first {window:,}, {max(last) * 1000:.0f} ms in the last {window:,} "
        f"(median {statistics.median(last) * 1000:.1f} ms)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--no-peer", action="store_true", help="skip aimock")
    args = parser.parse_args()
    text = " ".join(["word"] * STREAM_WORDS)
    script = workloads.mockspike_script()
    script["rules"].insert(
        0,
        {
            "match": {"stream": True},
            "respond": {"reply": {"text": text, "timing": {"ttft": 1.0, "tokens_per_second": 100}}},
        },
    )
    report = [f"machine: {servers.machine()}"]
    with tempfile.TemporaryDirectory() as tmp:
        fake = servers.start_mockspike(Path(tmp), script)
        try:
            report += measure(fake, args.streams, args.requests)
        finally:
            fake.stop()
        note = "aimock skipped: --no-peer" if args.no_peer else servers.aimock_unavailable()
        if note is None:
            fixtures = workloads.aimock_fixtures(16)
            fixtures["fixtures"][0] = {
                "match": {"userMessage": "quarterly report"},
                "response": {"content": text},
                "streamingProfile": {"ttft": 1000, "tps": 100},
            }
            peer = servers.start_aimock(Path(tmp), fixtures=fixtures)
            try:
                report += measure(peer, args.streams, args.requests)
            finally:
                peer.stop()
        else:
            report.append(note)
    print("\n".join(report))


if __name__ == "__main__":
    main()
