"""Reliability: hostile bodies never get a 5xx or a stall; 200 concurrent clients, a fifth
of them hanging up mid-stream, leave no task behind; a recorder killed mid-run leaves a
readable cassette. Bounded in count and time, loopback only."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockspike import MockSpike, Pacing
from mockspike.cassettes import Cassette
from tests.conftest import HEADERS, SEED_BODY, serve_process

FIELDS = [
    "model",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stream",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
    "unknown",
]
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """Wrong types anywhere, huge numbers, NaN/Infinity, odd Unicode, bad UTF-8, deep nests."""
    kind = draw(st.sampled_from(["fields", "nan", "unicode", "bad-utf8", "deep", "bytes"]))
    if kind == "fields":
        body = dict(SEED_BODY)
        for name in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4)):
            body[name] = draw(anything)
        return json.dumps(body).encode()
    if kind == "nan":
        value = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]))
        return f'{{"model":"claude-haiku-4-5","max_tokens":{value},"messages":[]}}'.encode()
    if kind == "unicode":
        text = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=50))
        body = dict(SEED_BODY, messages=[{"role": "user", "content": text}], model=text[:10])
        return json.dumps(body, ensure_ascii=False).encode()
    if kind == "bad-utf8":
        return b'{"model": "' + draw(st.binary(min_size=1, max_size=20)) + b'\xff\xfe"}'
    if kind == "deep":
        depth = draw(st.integers(500, 5000))
        return (
            b'{"model":"claude-haiku-4-5","max_tokens":1,"messages":'
            + b"[" * depth
            + b"]" * depth
            + b"}"
        )
    return draw(st.binary(max_size=200))


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[httpx.Client]:
    with (
        MockSpike().serve() as url,
        httpx.Client(base_url=url, headers=HEADERS, timeout=10) as client,
    ):
        yield client


@given(hostile_bodies())
@settings(max_examples=60)
def test_hostile_bodies_get_a_4xx_envelope(fuzz_client: httpx.Client, raw: bytes) -> None:
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        response = fuzz_client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            payload = response.json()
            assert payload["type"] == "error" and set(payload["error"]) == {"type", "message"}
            assert payload["request_id"] == response.headers["request-id"]
        elif response.headers["content-type"].startswith("text/event-stream"):
            assert response.content.endswith(
                b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
            )


def test_two_hundred_clients_a_fifth_hanging_up_mid_stream(tmp_path: Path) -> None:
    fake = MockSpike(pacing=Pacing(ttft=0.05, tokens_per_second=400))
    completed: list[str] = []
    hung_up = 0

    async def one(client: httpx.AsyncClient, n: int) -> None:
        nonlocal hung_up
        body = dict(SEED_BODY, stream=True, messages=[{"role": "user", "content": f"client {n}"}])
        async with client.stream("POST", "/v1/messages", json=body) as response:
            assert response.status_code == 200
            if n % 5 == 0:  # a fifth leave after the first chunk
                async for _ in response.aiter_raw():
                    break
                hung_up += 1
                return
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            assert raw.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
            completed.append(response.headers["request-id"])

    async def crowd(url: str) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=url, headers=HEADERS, timeout=30, limits=limits
        ) as client:
            await asyncio.gather(*(one(client, n) for n in range(200)))

    with fake.serve() as url:
        asyncio.run(crowd(url))
        with httpx.Client(base_url=url, headers=HEADERS, timeout=10) as client:
            assert client.post("/v1/messages", json=SEED_BODY).status_code == 200  # still serving
        deadline = time.monotonic() + 10
        state = fake.server_state
        while (state.connections or state.tasks) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not state.tasks, "request tasks left behind"
        assert not state.connections, "connections left open"
    assert (len(completed), hung_up) == (160, 40)
    assert len(fake.requests) == 201  # every request is in the journal, finished or not


def test_recorder_killed_mid_run_leaves_a_readable_cassette(tmp_path: Path) -> None:
    origin = MockSpike(pacing=Pacing(ttft=0.01))
    path = tmp_path / "killed.json"
    stop = threading.Event()

    def client(url: str, n: int) -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=5) as http:
            i = 0
            while not stop.is_set():
                i += 1
                body = dict(SEED_BODY, messages=[{"role": "user", "content": f"{n}-{i}"}])
                try:
                    http.post("/v1/messages", json=body)
                except httpx.HTTPError:
                    return

    with (
        origin.serve() as upstream,
        serve_process(
            "--cassette", str(path), "--record-mode", "new_episodes", "--upstream", upstream
        ) as (recorder, url),
    ):
        workers = [threading.Thread(target=client, args=(url, n)) for n in range(8)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            not path.exists() or len(Cassette.load(path).interactions) < 20
        ):
            time.sleep(0.02)
        recorder.send_signal(signal.SIGKILL)  # no chance to clean up
        recorder.wait(timeout=10)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    cassette = Cassette.load(path)  # parses: never a half-written file
    assert len(cassette.interactions) >= 20
    assert all(i["response"]["status"] == 200 for i in cassette.interactions)
