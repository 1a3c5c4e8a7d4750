"""Shared state under Redis faults: a real redis-server paused (`DEBUG SLEEP`), killed or
restarted under two `mockspike serve` processes. Nothing is applied twice, a refusal is
never billed. Bounded in count and time, loopback only."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockspike.testing.redis_server import RedisServer
from mockspike.testing.serve_process import start_serve

redis = pytest.importorskip("redis")

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (scripts/test installs it)"
)

CONFIG = {
    "keys": {
        "paid": {
            "wallet": 1000.0,
            "rate_limits": {
                "requests_per_minute": 100_000,
                "input_tokens_per_minute": 10_000_000,
                "output_tokens_per_minute": 10_000_000,
            },
        }
    }
}
HEADERS = {"x-api-key": "paid", "anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "hi"}],
}
RULES = {"rules": [{"times": 100_000, "respond": {"reply": {"text": "ruled"}}}]}


@contextlib.contextmanager
def serve_pair(server: RedisServer, folder: Path, *extra: str) -> Iterator[list[str]]:
    config = folder / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    started = [
        start_serve("--state", server.url, "--config", str(config), *extra) for _ in range(2)
    ]
    try:
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process.terminate()
            process.communicate(timeout=10)


def balance(url: str) -> float:
    return float(httpx.get(url + "/_mockspike/wallets/paid", timeout=10).json()["balance"])


def test_a_paused_redis_applies_nothing_twice_and_bills_no_refusal(tmp_path: Path) -> None:
    """Two processes, 8 clients, 240 requests; Redis sleeps 1.5 s (past the 1 s socket
    timeout) twice mid-run. Afterwards the rule's uses equal the answers it gave, the wallet
    is debited exactly for the 200s, and the journal holds each request once."""
    with (
        RedisServer("--enable-debug-command", "local") as server,
        serve_pair(server, tmp_path) as urls,
    ):
        httpx.post(urls[0] + "/_mockspike/rules", json=RULES, timeout=10).raise_for_status()
        before = balance(urls[0])
        first = httpx.post(urls[0] + "/v1/messages", json=BODY, headers=HEADERS, timeout=10)
        assert first.json()["content"][0]["text"] == "ruled"
        price = before - balance(urls[0])
        assert price > 0
        httpx.post(urls[0] + "/_mockspike/reset", json={}, timeout=10).raise_for_status()
        httpx.post(urls[0] + "/_mockspike/rules", json=RULES, timeout=10).raise_for_status()
        start = balance(urls[0])
        done = threading.Semaphore(0)

        def client(n: int, urls: list[str] = urls) -> list[tuple[int, str]]:
            seen = []
            with httpx.Client(headers=HEADERS, timeout=30) as http:
                for i in range(30):
                    reply = http.post(urls[(n + i) % 2] + "/v1/messages", json=BODY)
                    text = reply.json()["content"][0]["text"] if reply.status_code == 200 else ""
                    seen.append((reply.status_code, text))
                    done.release()
            return seen

        pauser = redis.Redis.from_url(server.url, socket_timeout=10)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client, n) for n in range(8)]
            for mark in (40, 120):
                while mark:
                    assert done.acquire(timeout=30)
                    mark -= 1
                pauser.execute_command("DEBUG", "SLEEP", "1.5")
            outcomes = [o for f in futures for o in f.result(timeout=120)]
        pauser.close()
        assert len(outcomes) == 240
        answered = [text for status, text in outcomes if status == 200]
        assert set(answered) == {"ruled"}
        assert {status for status, _ in outcomes} <= {200, 503}
        rules = httpx.get(urls[1] + "/_mockspike/rules", timeout=10).json()["rules"]
        assert rules[0]["calls"] == len(answered)  # every use counted once, each answered
        assert start - balance(urls[1]) == pytest.approx(price * len(answered))
        journal = httpx.get(urls[1] + "/_mockspike/requests", timeout=30).json()
        assert len(journal["requests"]) == 240 + 0  # each request written once
