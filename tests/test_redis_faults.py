"""Shared state under Redis faults: a real redis-server paused (`DEBUG SLEEP`), killed or
restarted under two `mockspike serve` processes. Nothing is applied twice, a refusal is
never billed. Bounded in count and time, loopback only."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockspike.testing.redis_server import RedisServer
from mockspike.testing.serve_process import start_serve
from tests.docs_pages import text

redis = pytest.importorskip("redis")

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (scripts/test installs it)"
)

CONFIG = {
    "keys": {
        "paid": {
            "wallet": 1_000_000.0,
            "rate_limits": {
                "requests_per_minute": 100_000,
                "input_tokens_per_minute": 1_000_000_000,
                "output_tokens_per_minute": 1_000_000_000,
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
        start_serve("--quiet", "--state", server.url, "--config", str(config), *extra)
        for _ in range(2)
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


def test_a_replica_killed_mid_batch_costs_the_other_a_bounded_pause(tmp_path: Path) -> None:
    """One process answers a 2,000-request batch and is killed (SIGKILL) mid-way. The other,
    polled by four clients meanwhile, answers an ordinary request at once, takes the batch
    over once the dead one's lease ends, and no request is answered twice."""
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    requests = [
        {
            "custom_id": f"r{i}",
            "params": {**BODY, "messages": [{"role": "user", "content": f"{i}"}]},
        }
        for i in range(2000)
    ]
    with RedisServer() as server:
        (doomed, first), (survivor, other) = (
            start_serve("--quiet", "--state", server.url, "--config", str(config)) for _ in range(2)
        )
        try:
            created = httpx.post(
                first + "/v1/messages/batches", json={"requests": requests}, headers=HEADERS
            ).json()
            path = f"/v1/messages/batches/{created['id']}"
            watcher = redis.Redis.from_url(server.url, socket_timeout=10)

            def look_and_die() -> None:
                with contextlib.suppress(httpx.HTTPError):  # the process dies under it
                    httpx.get(first + path, headers=HEADERS, timeout=120)

            looking = threading.Thread(target=look_and_die, daemon=True)
            looking.start()
            for _ in range(600):  # until a few hundred are answered (at most 60 s)
                if watcher.xlen("mockspike:journal") >= 300:
                    break
                threading.Event().wait(0.1)
            doomed.kill()
            doomed.wait(timeout=10)
            answered_before = watcher.xlen("mockspike:journal")
            assert 300 <= answered_before < 2000 + 2  # killed mid-batch

            statuses: list[str] = []

            def poll(n: int) -> None:
                with httpx.Client(headers=HEADERS, timeout=60) as http:
                    for _ in range(400):
                        status = http.get(other + path).json()["processing_status"]
                        if status == "ended":
                            statuses.append(status)
                            return

            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                pollers = [pool.submit(poll, n) for n in range(4)]
                threading.Event().wait(0.5)  # the pollers are at it
                ordinary = httpx.post(
                    other + "/v1/messages", json=BODY, headers=HEADERS, timeout=15
                )
                assert ordinary.status_code == 200
                for poller in pollers:
                    poller.result(timeout=180)
            assert statuses == ["ended"] * 4
            results = httpx.get(other + path + "/results", headers=HEADERS, timeout=30)
            lines = [json.loads(line) for line in results.text.splitlines()]
            assert sorted(r["custom_id"] for r in lines) == sorted(r["custom_id"] for r in requests)
            lost = [r for r in lines if r["result"]["type"] == "errored"]
            assert len(lost) <= 100  # at most the slice the dead process was answering
            assert all(
                "stopped before it saved" in r["result"]["error"]["error"]["message"] for r in lost
            )
            journal = httpx.get(other + "/_mockspike/requests", timeout=60).json()["requests"]
            items = [e["batch_item"] for e in journal if e.get("batch_item")]
            assert len(items) == len(set(items))  # no request answered twice
            succeeded = {f"{created['id']}/{r['custom_id']}" for r in lines if r not in lost}
            assert succeeded <= set(items)  # each answer given once, by one process
            assert len(succeeded) + len(lost) == 2000
            watcher.close()
        finally:
            for process in (doomed, survivor):
                if process.poll() is None:
                    process.terminate()
                try:
                    process.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate(timeout=10)


def used_mib(url: str) -> float:
    client = redis.Redis.from_url(url, socket_timeout=10)
    try:
        return int(client.info("memory")["used_memory"]) / 2**20
    finally:
        client.close()


BIG = {**BODY, "messages": [{"role": "user", "content": "x" * 700_000}]}


def test_the_journal_in_redis_is_bounded_in_bytes(tmp_path: Path) -> None:
    """200 requests of 700 KB: Redis grows by the journal's 64 MiB bound, not by the
    140 MB sent, and the whole journal reads back within that bound."""
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    with RedisServer() as server:
        process, url = start_serve("--quiet", "--state", server.url, "--config", str(config))
        try:
            before = used_mib(server.url)
            with httpx.Client(headers=HEADERS, timeout=30) as http:
                for _ in range(200):
                    assert http.post(url + "/v1/messages", json=BIG).status_code == 200
                journal = http.get(url + "/_mockspike/requests", timeout=60)
            grown = used_mib(server.url) - before
            assert grown < 80, f"Redis grew {grown:.0f} MiB"
            assert len(journal.content) < 70 * 2**20
            assert 0 < len(journal.json()["requests"]) < 200  # the oldest were dropped
        finally:
            process.terminate()
            process.communicate(timeout=10)


def test_a_redis_that_may_evict_any_key_is_refused_and_a_full_one_keeps_the_rules(
    tmp_path: Path,
) -> None:
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    with RedisServer("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru") as server:
        refused = subprocess.run(
            [sys.executable, "-m", "mockspike", "serve", "--port", "0", "--state", server.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert refused.returncode == 2
    assert "may evict any key when full (maxmemory-policy allkeys-lru)" in refused.stderr
    assert "CONFIG SET maxmemory-policy noeviction" in refused.stderr
    assert "Traceback" not in refused.stderr
    with RedisServer("--maxmemory", "24mb") as server:  # noeviction, Redis's default
        process, url = start_serve("--quiet", "--state", server.url, "--config", str(config))
        try:
            httpx.post(url + "/_mockspike/rules", json=RULES, timeout=10).raise_for_status()
            with httpx.Client(headers=HEADERS, timeout=30) as http:
                answers = [http.post(url + "/v1/messages", json=BIG) for _ in range(40)]
            texts = [a.json()["content"][0]["text"] for a in answers if a.status_code == 200]
            assert texts == ["ruled"] * 40  # answered, by the rule, though Redis is full
        finally:
            process.terminate()
            _, errors = process.communicate(timeout=10)
        assert "Redis is at maxmemory" in errors  # said, not silent


def documented_redis_options() -> list[str]:
    """The options of the `redis-server` command line docs/how-to/redis.md shows (less its
    port)."""
    page = text("how-to/redis.md")
    line = next(x for x in page.splitlines() if x.startswith("redis-server "))
    words = [w for w in shlex.split(line, comments=True)[1:] if w != "&"]
    at = words.index("--port")
    return words[:at] + words[at + 2 :]


def test_the_documented_redis_keeps_script_rules_and_wallets_across_a_restart(
    tmp_path: Path,
) -> None:
    """Redis run as docs/how-to/redis.md says, killed and started again under a running `serve`:
    the `--script` rule still answers and a spent wallet is still spent (without
    persistence the rule was gone and the wallet unlimited)."""
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"keys": {"paid": {"wallet": 0.01}, "free": {}}}))
    script = tmp_path / "rules.json"
    script.write_text(json.dumps({"rules": [{"respond": {"reply": {"text": "scripted"}}}]}))
    server = RedisServer(*documented_redis_options()).start()
    process, url = start_serve(
        "--quiet", "--state", server.url, "--config", str(config), "--script", str(script)
    )
    try:
        with httpx.Client(headers=HEADERS, timeout=30) as http:
            first = http.post(url + "/v1/messages", json=BODY)
            assert first.json()["content"][0]["text"] == "scripted"
            assert http.post(url + "/v1/messages", json=BODY).status_code == 402  # spent
            server.stop()  # SIGKILL
            server.start()
            statuses = []
            for _ in range(50):  # the pool reconnects on the next calls
                statuses.append(http.post(url + "/v1/messages", json=BODY).status_code)
                if statuses[-1] != 503:
                    break
                time.sleep(0.1)
            assert statuses[-1] == 402  # still spent, not unlimited
            free = http.post(url + "/v1/messages", json=BODY, headers={"x-api-key": "free"})
            assert free.json()["content"][0]["text"] == "scripted"  # the rule survived
    finally:
        process.terminate()
        process.communicate(timeout=10)
        server.stop()
