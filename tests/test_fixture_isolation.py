"""The pytest plugin's `mockspike_server` leaves nothing of one test to the next: neither in
its own process (prompt cache, files, batches and their settings, rate limits) nor, with a
shared Redis state, across pytest-xdist workers (each test holds the shared fake alone)."""

from __future__ import annotations

import shutil

import pytest

from mockspike.testing.redis_server import RedisServer

pytest_plugins = ["pytester"]

CARRY_OVER = """
import httpx

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
SYSTEM = [{"type": "text", "text": "policy " * 5000, "cache_control": {"type": "ephemeral"}}]
BODY = {"model": "claude-haiku-4-5", "max_tokens": 8, "system": SYSTEM,
        "messages": [{"role": "user", "content": "hi"}]}

def test_first_changes_everything(mockspike_server):
    http = httpx.Client(base_url=mockspike_server.base_url, headers=HEADERS)
    assert http.post("/v1/messages", json=BODY).json()["usage"]["cache_creation_input_tokens"]
    mockspike_server.files.add(b"left behind", "left.txt")
    mockspike_server.batches.settings(processing_seconds=60)
    http.post("/v1/messages/batches", json={"requests": [{"custom_id": "a", "params": BODY}]})
    mockspike_server.set_scenario("flow", "late")

def test_second_starts_clean(mockspike_server):
    assert mockspike_server.cache == []
    assert mockspike_server.files.list() == []
    assert len(mockspike_server.batches) == 0
    assert mockspike_server.batches.settings().processing_seconds == 0
    assert mockspike_server.scenarios == {}
"""


def test_the_server_fixture_carries_nothing_into_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CARRY_OVER)
    # in a subprocess: an in-process run would unload the HTTP stack it imported first
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


WORKERS = """
import time
import httpx
import pytest

HEADERS = {{"x-api-key": "k", "anthropic-version": "2023-06-01"}}
BODY = {{"model": "claude-haiku-4-5", "max_tokens": 8,
        "messages": [{{"role": "user", "content": "hi"}}]}}

@pytest.mark.parametrize("n", range(8))
@pytest.mark.mockspike(state={url!r})
def test_each_sees_only_its_own(mockspike_server, n):
    mockspike_server.load_script({{"respond": {{"reply": {{"text": f"test {{n}}"}}}}}})
    url = mockspike_server.base_url + "/v1/messages"
    for _ in range(10):
        reply = httpx.post(url, json=BODY, headers=HEADERS).json()
        assert reply["content"][0]["text"] == f"test {{n}}"
        time.sleep(0.1)  # let the other worker's test overlap, if it may
    assert len(mockspike_server.requests) == 10
"""


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_xdist_workers_on_one_redis_never_see_each_others_tests(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    with RedisServer() as server:
        pytester.makepyfile(WORKERS.format(url=server.url))
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)
