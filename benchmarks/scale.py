"""Scale-out: throughput of `mockspike serve` in memory (one process) against Redis-backed
workers (1 and 2), and what the Redis round trips cost a request
(`python benchmarks/scale.py`; needs `redis-server`, `wrk` and the `redis` extra).

Bounded: each load run lasts `--seconds` over 32 keep-alive connections (wrk, one thread);
the per-request cost is `--repeat` engine calls in-process. All traffic on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

from mockspike.engine.engine import Engine
from mockspike.gateway.keys import GatewayConfig
from mockspike.model.wire import WireRequest
from mockspike.testing.redis_server import RedisServer
from mockspike.testing.serve_process import start_serve

BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Classify this support ticket: my order is late."}],
}
HEADERS = {"x-api-key": "bench", "anthropic-version": "2023-06-01"}
UNLIMITED = {
    "requests_per_minute": 10**9,
    "input_tokens_per_minute": 10**12,
    "output_tokens_per_minute": 10**12,
}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = "bench"
wrk.headers["anthropic-version"] = "2023-06-01"
"""


def serve(config: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process, url = start_serve("--config", str(config), *extra, stderr=subprocess.DEVNULL)
    for _ in range(100):  # workers accept once they have started
        try:
            httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return process, url


def wrk(url: str, script: Path, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds:g}s", "-s", str(script), url + "/v1/messages"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} answers were not 2xx:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def throughput(seconds: float, rounds: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as tmp, RedisServer() as redis_server:
        folder = Path(tmp)
        config = folder / "gateway.json"
        config.write_text(json.dumps({"keys": {"bench": {"rate_limits": UNLIMITED}}}))
        script = folder / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=json.dumps(BODY)))
        url = redis_server.url
        setups = {
            "in memory, 1 process": [],
            "Redis, 1 worker": ["--state", url],
            "Redis, 2 workers": ["--state", url, "--workers", "2"],
        }
        rates: dict[str, list[float]] = {name: [] for name in setups}
        for _ in range(rounds):  # alternate, so drift hits every setup alike
            for name, extra in setups.items():
                process, base = serve(config, *extra)
                try:
                    rates[name].append(wrk(base, script, seconds))
                finally:
                    process.terminate()
                    process.wait(timeout=15)
                redis.Redis.from_url(url).flushdb()
    return [(name, max(values)) for name, values in rates.items()]


def round_trip_cost(repeat: int) -> tuple[float, float, float]:
    """µs a request in memory and with Redis state (engine only, no HTTP), and µs of one
    Redis round trip (PING) from this process, to read the difference against."""
    request = WireRequest("POST", "/v1/messages", dict(HEADERS), json.dumps(BODY).encode())
    config = GatewayConfig.from_dict({"keys": {"bench": {"rate_limits": UNLIMITED}}})
    timings = []
    with RedisServer() as redis_server:
        for state in (None, redis_server.url):
            engine = Engine(config=config, state=state)
            for _ in range(50):
                engine.handle(request)
            start = time.perf_counter()
            for _ in range(repeat):
                assert engine.handle(request).status == 200
            timings.append((time.perf_counter() - start) / repeat * 1e6)
            engine.stores.close()
        client = redis.Redis.from_url(redis_server.url)
        start = time.perf_counter()
        for _ in range(repeat):
            client.ping()
        ping = (time.perf_counter() - start) / repeat * 1e6
        client.close()
    return timings[0], timings[1], ping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    for tool in ("redis-server", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"scale.py needs {tool}")
    memory_us, redis_us, ping_us = round_trip_cost(args.repeat)
    print(f"cores: {os.cpu_count()}")
    print("| setup | requests/s | vs in memory |")
    print("|---|---|---|")
    results = throughput(args.seconds, args.rounds)
    base = results[0][1]
    for name, rate in results:
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")
    print()
    print(
        f"engine alone, a non-streaming call: {memory_us:.0f} µs in memory, "
        f"{redis_us:.0f} µs with Redis state (+{redis_us - memory_us:.0f} µs); "
        f"one Redis round trip (PING): {ping_us:.0f} µs"
    )


if __name__ == "__main__":
    main()
