"""In-process transports: httpx and httpx2, sync and async, streaming as it is due."""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import Any

import pytest

from mockspike import MockSpike, Pacing
from tests.conftest import HEADERS, SEED_BODY
from tests.sse_grammar import check_grammar, parse_frames

LIBRARIES = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            importlib.util.find_spec(name) is None, reason=f"{name} is not installed"
        ),
    )
    for name in ("httpx", "httpx2")
]
STREAM = {**SEED_BODY, "stream": True}


@pytest.fixture(params=LIBRARIES)
def library(request: pytest.FixtureRequest) -> Any:
    return importlib.import_module(request.param)


def client(fake: MockSpike, library: Any, **kwargs: Any) -> Any:
    return library.Client(
        transport=fake.transport(library.__name__),
        base_url="http://mockspike.test",
        headers=HEADERS,
        **kwargs,
    )


def test_sync_json(library: Any) -> None:
    with client(MockSpike(), library) as http:
        response = http.post("/v1/messages", json=SEED_BODY)
    assert response.status_code == 200
    assert response.json()["usage"]["input_tokens"] == 18
    assert response.headers["request-id"].startswith("req_")


PACED = Pacing(ttft=0.001, tokens_per_second=1_000_000)
"""Pacing so quick the test does not wait, but every delta still has its own moment."""


def whole_frames(chunks: list[bytes]) -> list[tuple[str, Any]]:
    """The frames of a streamed body, checking that no write splits a frame."""
    assert all(chunk.startswith(b"event: ") and chunk.endswith(b"\n\n") for chunk in chunks)
    frames = parse_frames(b"".join(chunks))
    check_grammar(frames)
    return frames


def paced_events_lead(chunks: list[bytes]) -> bool:
    """Every text delta (each waits its own time) starts a write of its own."""
    leaders = [chunk.split(b"\n", 1)[0] for chunk in chunks]
    deltas = sum(chunk.count(b"event: content_block_delta\n") for chunk in chunks)
    return leaders.count(b"event: content_block_delta") == deltas > 0


@pytest.mark.parametrize("pacing", [None, PACED], ids=["unpaced", "paced"])
def test_sync_stream_arrives_in_whole_frames(library: Any, pacing: Pacing | None) -> None:
    with (
        client(MockSpike(pacing=pacing), library) as http,
        http.stream("POST", "/v1/messages", json=STREAM) as r,
    ):
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        chunks = list(r.iter_raw())
    assert len(whole_frames(chunks)) > 5
    if pacing is not None:
        assert paced_events_lead(chunks)


@pytest.mark.anyio
@pytest.mark.parametrize("pacing", [None, PACED], ids=["unpaced", "paced"])
async def test_async_stream_arrives_in_whole_frames(library: Any, pacing: Pacing | None) -> None:
    fake = MockSpike(pacing=pacing)
    async with (
        library.AsyncClient(
            transport=fake.async_transport(library.__name__),
            base_url="http://mockspike.test",
            headers=HEADERS,
        ) as http,
        http.stream("POST", "/v1/messages", json=STREAM) as response,
    ):
        chunks = [chunk async for chunk in response.aiter_raw()]
    assert len(whole_frames(chunks)) > 5
    if pacing is not None:
        assert paced_events_lead(chunks)


def test_errors_and_journal(library: Any) -> None:
    fake = MockSpike()
    with client(fake, library) as http:
        response = http.post("/v1/messages", json={**SEED_BODY, "max_tokens": 9000})
    assert response.status_code == 400
    assert fake.requests.last.error["type"] == "invalid_request_error"


def test_drop_is_a_protocol_error(library: Any) -> None:
    fake = MockSpike()
    fake.fault("drop")
    with client(fake, library) as http, pytest.raises(library.RemoteProtocolError):
        http.post("/v1/messages", json=SEED_BODY)


def test_silent_break_is_a_protocol_error_mid_stream(library: Any) -> None:
    fake = MockSpike()
    fake.fault("break", after=2)
    received = []
    with (
        client(fake, library) as http,
        http.stream("POST", "/v1/messages", json=STREAM) as r,
        pytest.raises(library.RemoteProtocolError),
    ):
        for chunk in r.iter_raw():
            received.append(chunk)
    assert len(received) == 2


def test_stall_longer_than_the_read_timeout_times_out(library: Any) -> None:
    fake = MockSpike()
    fake.fault("stall", seconds=30)
    with client(fake, library, timeout=0.05) as http, pytest.raises(library.ReadTimeout):
        http.post("/v1/messages", json=SEED_BODY)


def test_query_strings_reach_the_engine(library: Any) -> None:
    with client(MockSpike(), library) as http:
        page = http.get("/v1/models", params={"limit": 1}).json()
    assert len(page["data"]) == 1 and page["has_more"] is True


def test_unknown_library_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown HTTP library 'requests'"):
        MockSpike().transport("requests")


@pytest.mark.sdk
def test_sdk_clients_in_process() -> None:
    fake = MockSpike()
    fake.reply("in process")
    sdk = fake.anthropic_client(max_retries=0)
    message = sdk.messages.create(
        model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].text == "in process"
    assert json.loads(json.dumps(fake.requests.last.to_json()))["status"] == 200
