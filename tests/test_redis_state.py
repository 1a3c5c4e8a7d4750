"""Scale-out: two `mockspike serve` processes sharing one real redis-server behave as one
fake — limits, wallets, rule uses, the journal and the prompt cache hold across them, and a
lost Redis is answered with the gateway's retryable 5xx until it is back."""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike.testing.redis_server import RedisServer, free_port
from mockspike.testing.serve_process import start_serve
from tests.docs_pages import block

redis = pytest.importorskip("redis")

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (scripts/test installs it)"
)

CONFIG = {
    "keys": {
        "five": {
            "rate_limits": {
                "requests_per_minute": 5,
                "input_tokens_per_minute": 100_000,
                "output_tokens_per_minute": 100_000,
            }
        },
        "paid": {"wallet": 100.0},
        "free": {},
    }
}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def serve(state: str, config: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """`mockspike serve` on a free port; returns the process and its base URL."""
    return start_serve("--state", state, "--config", str(config), *extra)


def serve_pair(redis_server: RedisServer, folder: Path, *extra: str) -> Iterator[list[str]]:
    """Two `serve` processes on one Redis; their base URLs."""
    config = folder / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    started = [serve(redis_server.url, config, *extra) for _ in range(2)]
    yield [url for _, url in started]
    for process, _ in started:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture(scope="module")
def pair(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    yield from serve_pair(redis_server, tmp_path_factory.mktemp("config"))


@pytest.fixture(scope="module")
def anthropic_pair(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """The `anthropic` profile serves the Files API (the ByteSpike gateway does not)."""
    yield from serve_pair(redis_server, tmp_path_factory.mktemp("config"), "--profile", "anthropic")


@pytest.fixture(autouse=True)
def fresh(request: pytest.FixtureRequest) -> None:
    if "pair" in request.fixturenames:
        httpx.post(
            request.getfixturevalue("pair")[0] + "/_mockspike/reset", json={}
        ).raise_for_status()


HEADERS = {"x-api-key": "free", "anthropic-version": "2023-06-01"}
FILES = {**HEADERS, "anthropic-beta": "files-api-2025-04-14"}


def call(url: str, key: str = "free", body: dict[str, Any] = BODY) -> httpx.Response:
    headers = {**HEADERS, "x-api-key": key}
    return httpx.post(url + "/v1/messages", json=body, headers=headers, timeout=10)


def test_a_five_a_minute_key_gets_exactly_five_successes_across_both(pair: list[str]) -> None:
    statuses = [call(pair[i % 2], "five").status_code for i in range(12)]
    assert statuses.count(200) == 5
    assert statuses.count(429) == 7


def test_a_wallet_is_debited_once_per_call(pair: list[str]) -> None:
    for i in range(6):
        assert call(pair[i % 2], "paid").status_code == 200
    spent = sum(
        e["credits"]
        for e in httpx.get(pair[1] + "/_mockspike/requests").json()["requests"]
        if e["status"] == 200
    )
    assert spent > 0
    for url in pair:
        balance = httpx.get(url + "/_mockspike/wallets/paid").json()["balance"]
        assert balance == pytest.approx(100.0 - spent)
    # spend the rest of it through the other one
    httpx.post(pair[0] + "/_mockspike/wallets/paid", json={"balance": 0.0}).raise_for_status()
    assert call(pair[1], "paid").status_code == 402


def test_a_rule_with_times_3_answers_exactly_3_times_across_both(pair: list[str]) -> None:
    rule = {"times": 3, "respond": {"reply": {"text": "scripted"}}}
    httpx.post(pair[0] + "/_mockspike/rules", json=rule).raise_for_status()
    texts = [call(pair[i % 2]).json()["content"][0]["text"] for i in range(8)]
    assert texts.count("scripted") == 3
    rules = httpx.get(pair[1] + "/_mockspike/rules").json()["rules"]
    assert [(r["calls"], r["times"]) for r in rules] == [(3, 3)]


def test_one_journal_holds_every_request(pair: list[str]) -> None:
    for i in range(7):
        call(pair[i % 2])
    journals = [httpx.get(url + "/_mockspike/requests").json()["requests"] for url in pair]
    assert len(journals[0]) == 7
    assert journals[0] == journals[1]


def test_the_prompt_cache_written_through_one_is_read_through_the_other(
    pair: list[str],
) -> None:
    httpx.request("DELETE", pair[0] + "/_mockspike/cache", json={}).raise_for_status()
    system = [{"type": "text", "text": "policy " * 5000, "cache_control": {"type": "ephemeral"}}]
    body = {**BODY, "system": system}
    written = call(pair[0], body=body).json()["usage"]
    read = call(pair[1], body=body).json()["usage"]
    assert written["cache_creation_input_tokens"] > 0
    assert read["cache_read_input_tokens"] == written["cache_creation_input_tokens"]
    assert len(httpx.get(pair[1] + "/_mockspike/cache").json()["entries"]) == 1


def test_python_rules_are_refused_with_shared_state(redis_server: RedisServer) -> None:
    from mockspike import MockSpike

    with MockSpike(state=redis_server.url) as fake:
        with pytest.raises(TypeError, match="load_script"):
            fake.on(text="x")
        fake.load_script({"match": {"text": "x"}, "respond": {"reply": {"text": "y"}}})
        assert [r.describe() for r in fake.rules][-1].endswith("on(text='x')")


def test_two_workers_on_one_port_share_the_limits(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    process, url = serve(redis_server.url, config, "--workers", "2")
    try:
        statuses = [call(url, "five").status_code for _ in range(8)]
        assert statuses.count(200) == 5
        assert len(httpx.get(url + "/_mockspike/requests").json()["requests"]) == 8
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_unreachable_redis_at_start_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockspike",
            "serve",
            "--port",
            "0",
            "--state",
            f"redis://127.0.0.1:{port}/0",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"cannot reach Redis at redis://127.0.0.1:{port}/0" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_without_shared_state_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockspike", "serve", "--port", "0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--workers above 1 needs --state redis://" in result.stderr


def test_a_lost_redis_is_a_retryable_5xx_and_the_fake_recovers(tmp_path: Path) -> None:
    server = RedisServer().start()
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    process, url = serve(server.url, config)
    try:
        assert call(url).status_code == 200
        server.stop()
        lost = call(url)
        assert lost.status_code == 503
        assert lost.json()["error"]["type"] == "api_error"
        assert lost.headers["x-should-retry"] == "true"
        admin = httpx.get(url + "/_mockspike/wallets", timeout=10)
        assert admin.status_code == 503
        server.start()
        statuses = []
        for _ in range(50):  # the pool reconnects on the next call
            statuses.append(call(url).status_code)
            if statuses[-1] == 200:
                break
            time.sleep(0.1)
        assert statuses[-1] == 200
        assert len(httpx.get(url + "/_mockspike/requests").json()["requests"]) >= 1
    finally:
        process.terminate()
        process.communicate(timeout=10)
        server.stop()


def test_every_process_lists_the_shared_buckets(redis_server: RedisServer) -> None:
    from mockspike import MockSpike

    redis.Redis.from_url(redis_server.url).flushdb()
    with (
        MockSpike(state=redis_server.url, config=CONFIG) as one,
        MockSpike(state=redis_server.url, config=CONFIG) as other,
    ):
        client = httpx.Client(transport=one.transport(), base_url="http://mockspike.test")
        with client:
            response = client.post(
                "/v1/messages",
                json=BODY,
                headers={"x-api-key": "five", "anthropic-version": "2023-06-01"},
            )
        assert response.status_code == 200
        rows = other.engine.gateway.buckets()
        requests = [r for r in rows if r["key"] == "five" and r["bucket"] == "requests"]
        assert requests == [{"key": "five", "bucket": "requests", "capacity": 5, "remaining": 4}]


def test_a_batch_created_through_one_is_listed_read_and_answered_once_through_both(
    pair: list[str],
) -> None:
    requests = [
        {
            "custom_id": f"r{i}",
            "params": {**BODY, "messages": [{"role": "user", "content": f"n{i}"}]},
        }
        for i in range(20)
    ]
    created = httpx.post(
        pair[0] + "/v1/messages/batches", json={"requests": requests}, headers=HEADERS
    ).json()
    listed = httpx.get(pair[1] + "/v1/messages/batches", headers=HEADERS).json()["data"]
    assert [b["id"] for b in listed] == [created["id"]]
    # both look at once: each request is answered by one of them, once
    path = f"/v1/messages/batches/{created['id']}"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        looks = list(pool.map(lambda i: httpx.get(pair[i % 2] + path, headers=HEADERS), range(4)))
    assert {r.json()["processing_status"] for r in looks} == {"ended"}
    results = httpx.get(pair[1] + path + "/results", headers=HEADERS)
    lines = [json.loads(line) for line in results.text.splitlines()]
    assert sorted(r["custom_id"] for r in lines) == sorted(r["custom_id"] for r in requests)
    assert {r["result"]["type"] for r in lines} == {"succeeded"}
    journal = httpx.get(pair[0] + "/_mockspike/requests").json()["requests"]
    answered = [e["batch_item"] for e in journal if e.get("batch_item")]
    assert sorted(answered) == sorted(f"{created['id']}/r{i}" for i in range(20))
    settings = httpx.post(pair[1] + "/_mockspike/batches/settings", json={"processing_seconds": 60})
    assert settings.json()["processing_seconds"] == 60
    assert httpx.get(pair[0] + "/_mockspike/batches/settings").json()["processing_seconds"] == 60
    httpx.post(pair[0] + "/_mockspike/batches/settings", json={"processing_seconds": 0})
    assert httpx.delete(pair[0] + path, headers=HEADERS).status_code == 200
    assert httpx.get(pair[1] + path, headers=HEADERS).status_code == 404


def test_a_file_uploaded_through_one_is_read_and_deleted_through_the_other(
    anthropic_pair: list[str], redis_server: RedisServer
) -> None:
    from mockspike import MockSpike

    one, other = anthropic_pair
    ticket = b"Order 42 arrived broken."
    uploaded = httpx.post(
        one + "/v1/files", files={"file": ("ticket.txt", ticket, "text/plain")}, headers=FILES
    ).json()
    meta = httpx.get(f"{other}/v1/files/{uploaded['id']}", headers=FILES).json()
    assert (meta["filename"], meta["size_bytes"]) == ("ticket.txt", len(ticket))
    listed = httpx.get(other + "/v1/files", headers=FILES).json()["data"]
    assert uploaded["id"] in [f["id"] for f in listed]
    # its bytes are read through the other: the document counts as its text
    document = {"type": "document", "source": {"type": "file", "file_id": uploaded["id"]}}
    inline = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": ticket.decode()},
    }
    counts = [
        httpx.post(
            other + "/v1/messages/count_tokens",
            json={"model": BODY["model"], "messages": [{"role": "user", "content": [block]}]},
            headers=FILES,
        ).json()
        for block in (document, inline)
    ]
    assert counts[0] == counts[1]
    # a file a tool made (added in Python, on a third process) downloads through both
    with MockSpike("anthropic", state=redis_server.url) as fake:
        chart = fake.files.add(b"\x89PNG chart", "chart.png")
    for url in anthropic_pair:
        download = httpx.get(f"{url}/v1/files/{chart['id']}/content", headers=FILES)
        assert download.content == b"\x89PNG chart"
    assert httpx.delete(f"{one}/v1/files/{uploaded['id']}", headers=FILES).status_code == 200
    gone = httpx.get(f"{other}/v1/files/{uploaded['id']}", headers=FILES)
    assert gone.status_code == 404
    httpx.request("DELETE", one + "/_mockspike/files", json={}).raise_for_status()
    assert httpx.get(other + "/_mockspike/files").json()["files"] == []


def test_files_dir_and_redis_state_together_are_refused(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    from mockspike import MockSpike

    with pytest.raises(ValueError, match="files are kept in Redis"):
        MockSpike(state=redis_server.url, files_dir=tmp_path)


def test_of_two_processes_storing_one_script_one_stores_it(
    redis_server: RedisServer,
) -> None:
    from mockspike.state.stores import redis_stores

    redis.Redis.from_url(redis_server.url).flushdb()
    specs = [{"respond": {"reply": {"text": "once"}}}]
    one, other = redis_stores(redis_server.url, {}), redis_stores(redis_server.url, {})
    try:
        assert one.rules.store_script(specs, "digest-1")
        assert not other.rules.store_script(specs, "digest-1")  # the same files: stored already
        other.rules.store_rules(specs)  # rules added otherwise come after the script's
        assert other.rules.store_script([*specs, *specs], "digest-2")  # an edit replaces them
        raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
        assert raw.llen("mockspike:rules") == 3
        other.clear()
        assert other.rules.store_script(specs, "digest-1")  # cleared: stored again
    finally:
        one.close()
        other.close()


def test_two_serve_processes_starting_at_once_load_a_script_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    script = tmp_path / "script.json"
    rules = [{"match": {"text": f"r{i}"}, "respond": {"reply": {"text": "x"}}} for i in range(3)]
    script.write_text(json.dumps({"rules": rules}))
    command = [sys.executable, "-m", "mockspike", "serve", "--port", "0"]
    command += ["--state", redis_server.url, "--script", str(script)]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        urls = []
        for process in processes:
            assert process.stdout is not None
            urls.append(process.stdout.readline().rsplit(" ", 1)[1].strip())
        for url in urls:
            listed = httpx.get(url + "/_mockspike/rules").json()["rules"]
            assert [r["number"] for r in listed] == [1, 2, 3]
    finally:
        for process in processes:
            process.terminate()
    skipped = [process.communicate(timeout=10)[1] for process in processes]
    assert sum("not loaded: the shared state already has rules" in err for err in skipped) == 1


def test_the_server_fixture_opted_into_redis_shares_state_with_a_serve_process(
    pytester: pytest.Pytester, redis_server: RedisServer, tmp_path: Path
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps(CONFIG))
    process, other = serve(redis_server.url, config)
    try:
        pytester.makepyfile(
            f"""
            import httpx
            import pytest

            OTHER = {other!r}
            HEADERS = {HEADERS!r}
            BODY = {BODY!r}

            @pytest.mark.mockspike(state={redis_server.url!r})
            def test_shared(mockspike_server):
                rule = {{"times": 1, "respond": {{"reply": {{"text": "scripted elsewhere"}}}}}}
                httpx.post(OTHER + "/_mockspike/rules", json=rule).raise_for_status()
                url = mockspike_server.base_url + "/v1/messages"
                reply = httpx.post(url, json=BODY, headers=HEADERS).json()
                assert reply["content"][0]["text"] == "scripted elsewhere"
                journal = httpx.get(OTHER + "/_mockspike/requests").json()["requests"]
                assert [e["path"] for e in journal] == ["/v1/messages"]
            """
        )
        pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_redis_page_server_fixture_example_passes(
    pytester: pytest.Pytester, redis_server: RedisServer
) -> None:
    example = block("how-to/redis.md", "py", "def test_the_shared_fake_answers")
    pytester.makepyfile(example.replace("redis://127.0.0.1:6379/0", redis_server.url))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_every_store_has_a_redis_twin_that_does_what_its_protocol_says(
    redis_server: RedisServer,
) -> None:
    """The set of stores is a table: each field's memory store and Redis twin both offer
    every method of the field's protocol (a new store without its twin fails here)."""
    import dataclasses
    import typing

    from mockspike.state.stores import Stores, memory_stores, redis_stores

    hints = typing.get_type_hints(Stores)
    memory, shared = memory_stores({}), redis_stores(redis_server.url, {}, prefix="twins:")
    try:
        stores = [f.name for f in dataclasses.fields(Stores) if hints[f.name] is not bool]
        stores = [name for name in stores if isinstance(hints[name], type)]
        assert stores == [
            "buckets",
            "wallets",
            "cache",
            "rules",
            "journal",
            "batches",
            "files",
            "threads",
        ]
        for name in stores:
            wanted = {
                m
                for m in vars(hints[name])
                if callable(getattr(hints[name], m)) and (not m.startswith("_") or m == "__len__")
            }
            for kept in (getattr(memory, name), getattr(shared, name)):
                missing = {m for m in wanted if not callable(getattr(kept, m, None))}
                assert not missing, f"{type(kept).__name__} lacks {sorted(missing)}"
        assert not memory.shared and shared.shared and shared.blocking
    finally:
        shared.close()
