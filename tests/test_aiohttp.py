"""aiohttp clients in process (`adapters/aiohttp.py`): a real `aiohttp.ClientSession`, no
socket, the fake's answers in aiohttp's own terms — and the anthropic SDK over aiohttp."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from mockspike import Failure, MockSpike, Pacing
from tests.conftest import HEADERS, SEED_BODY
from tests.sse_grammar import check_grammar, parse_frames

pytestmark = pytest.mark.anyio
STREAM = {**SEED_BODY, "stream": True}
FILES_BETA = "files-api-2025-04-14"


async def test_a_plain_reply_and_the_journal() -> None:
    fake = MockSpike()
    fake.reply("Hello over aiohttp")
    async with (
        fake.aiohttp_session(headers=HEADERS) as session,
        session.post("/v1/messages", json=SEED_BODY) as response,
    ):
        assert response.status == 200
        assert response.headers["request-id"].startswith("req_")
        body = await response.json()
    assert body["content"][0]["text"] == "Hello over aiohttp"
    assert fake.requests.last.status == 200
    assert fake.requests.last.endpoint == "messages"


async def test_one_session_sends_many_requests_on_its_connections() -> None:
    fake = MockSpike()
    async with fake.aiohttp_session(headers=HEADERS) as session:
        for _ in range(3):
            async with session.post("/v1/messages", json=SEED_BODY) as response:
                assert response.status == 200
        async with session.get("/v1/models", params={"limit": "2"}) as response:
            assert len((await response.json())["data"]) == 2
    assert [e.status for e in fake.requests] == [200] * 4


async def test_an_upload_that_waits_for_100_continue() -> None:
    fake = MockSpike(profile="anthropic")  # the profile that serves the Files API
    form = aiohttp.FormData()
    form.add_field("file", b"a,b\n1,2\n", filename="data.csv", content_type="text/csv")
    headers = {**HEADERS, "anthropic-beta": FILES_BETA}
    bound = aiohttp.ClientTimeout(total=30)  # a client left waiting fails, not hangs
    async with (
        fake.aiohttp_session(headers=headers, timeout=bound) as session,
        session.post("/v1/files", data=form, expect100=True) as response,
    ):
        assert response.status == 200, await response.text()
        stored = await response.json()
    assert stored["filename"] == "data.csv"
    assert fake.files.get(stored["id"])["size_bytes"] == 8


async def test_a_stream_arrives_as_it_is_made() -> None:
    """Each text delta waits its own moment: when the first has arrived, the end of the
    stream is not yet made, so it cannot be in what the client holds."""
    fake = MockSpike(pacing=Pacing(ttft=0.0, tokens_per_second=20))
    fake.reply("one two three four five")
    async with (
        fake.aiohttp_session(headers=HEADERS) as session,
        session.post("/v1/messages", json=STREAM) as response,
    ):
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        received = b""
        while b"event: content_block_delta\n" not in received:
            received += await response.content.readuntil(b"\n\n")
        assert not response.content.at_eof()
        assert b"message_stop" not in received + response.content.read_nowait()
        received += await response.content.read()
    frames = parse_frames(received)
    check_grammar(frames)
    assert frames[-1][0] == "message_stop"


async def test_a_scripted_error_keeps_its_status() -> None:
    fake = MockSpike()
    fake.fail(Failure(529))
    async with (
        fake.aiohttp_session(headers=HEADERS) as session,
        session.post("/v1/messages", json=SEED_BODY) as response,
    ):
        assert response.status == 529
        assert (await response.json())["error"]["type"] == "overloaded_error"


async def test_a_dropped_connection_is_aiohttps_disconnect() -> None:
    fake = MockSpike()
    fake.fault("drop")
    async with fake.aiohttp_session(headers=HEADERS) as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post("/v1/messages", json=SEED_BODY):
                pass
        async with session.post("/v1/messages", json=SEED_BODY) as response:
            assert response.status == 200  # the next request has a connection of its own


async def test_a_cut_stream_is_an_incomplete_payload() -> None:
    fake = MockSpike()
    fake.fault("break", after=2)
    received = b""
    async with fake.aiohttp_session(headers=HEADERS) as session:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with session.post("/v1/messages", json=STREAM) as response:
                async for chunk in response.content.iter_any():
                    received += chunk
    assert [name for name, _ in parse_frames(received)] == ["message_start", "content_block_start"]


async def test_a_stall_trips_aiohttps_read_timeout_and_the_journal_notes_it() -> None:
    fake = MockSpike()
    fake.fault("stall", seconds=30)
    timeout = aiohttp.ClientTimeout(sock_read=0.05)
    async with fake.aiohttp_session(headers=HEADERS, timeout=timeout) as session:
        with pytest.raises(aiohttp.SocketTimeoutError):
            async with session.post("/v1/messages", json=SEED_BODY):
                pass
    assert fake.requests.last.reply.client_left_after is not None


def _sdk_aiohttp() -> Any:
    """The SDK's own aiohttp transport (anthropic 1.x/2.x vendors it), or None."""
    try:
        from anthropic._vendor.httpx_aiohttp import AiohttpTransport
    except ImportError:  # the 0.x SDK vendors none
        return None
    return AiohttpTransport


@pytest.mark.sdk
@pytest.mark.skipif(_sdk_aiohttp() is None, reason="this SDK has no DefaultAioHttpClient")
async def test_the_anthropic_sdk_over_aiohttp() -> None:
    import anthropic

    fake = MockSpike(pacing=Pacing(ttft=0.0, tokens_per_second=1_000))
    fake.reply("Answered through aiohttp")
    async with fake.aiohttp_session() as session:
        http_client = anthropic.DefaultAioHttpClient(transport=_sdk_aiohttp()(client=session))
        client = anthropic.AsyncAnthropic(
            api_key="sk-test", base_url="http://mockspike.test", http_client=http_client
        )
        ask: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": []}
        ask["messages"] = [{"role": "user", "content": "hi"}]
        message = await client.messages.create(**ask)
        assert message.content[0].text == "Answered through aiohttp"  # type: ignore[union-attr]
        fake.reply("streamed, too")
        async with client.messages.stream(**ask) as stream:
            assert await stream.get_final_text() == "streamed, too"
        fake.fault("drop")
        with pytest.raises(anthropic.APIConnectionError):
            await client.with_options(max_retries=0).messages.create(**ask)
