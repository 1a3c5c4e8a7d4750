"""Message Batches and Files through the official SDK (`client.messages.batches.*`,
`client.beta.files.*`), in-process and over a real server; run under both SDK
generations. Time is a fake clock: no test sleeps."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import anthropic
import pytest

from mockspike import FakeClock, MockSpike
from tests.conftest import Zeros

pytestmark = pytest.mark.sdk

FILES_BETA = ["files-api-2025-04-14"]


def params(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> MockSpike:
    return MockSpike(profile="anthropic", clock=clock)


@pytest.fixture
def client(fake: MockSpike) -> anthropic.Anthropic:
    return fake.anthropic_client(max_retries=0)  # type: ignore[no-any-return]


def test_a_batch_of_valid_and_invalid_requests(
    fake: MockSpike, client: anthropic.Anthropic
) -> None:
    fake.on(text="refund").reply("billing")
    batch = client.messages.batches.create(
        requests=[
            {"custom_id": "refund", "params": params("I want a refund")},
            {"custom_id": "late", "params": params("My order is late")},
            {"custom_id": "huge", "params": params("Hi", max_tokens=10**6)},
            {"custom_id": "empty", "params": params("")},
        ]
    )
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 4
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.ended_at is not None
    counts = ended.request_counts
    assert (counts.succeeded, counts.errored, counts.processing) == (2, 2, 0)
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert results["refund"].type == "succeeded"
    assert results["refund"].message.content[0].text == "billing"  # type: ignore[union-attr]
    assert results["huge"].type == "errored"
    assert results["huge"].error.error.type == "invalid_request_error"  # type: ignore[union-attr]
    assert "max_tokens" in results["huge"].error.error.message  # type: ignore[union-attr]
    assert [b.id for b in client.messages.batches.list()] == [batch.id]
    assert client.messages.batches.delete(batch.id).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(batch.id)


def test_cancel_mid_way(fake: MockSpike, client: anthropic.Anthropic, clock: FakeClock) -> None:
    fake.batches.settings(processing_seconds=60)
    batch = client.messages.batches.create(
        requests=[{"custom_id": f"t{i}", "params": params(f"ticket {i}")} for i in range(6)]
    )
    clock.advance(20)
    canceling = client.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling"
    assert canceling.cancel_initiated_at is not None
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    assert (ended.request_counts.succeeded, ended.request_counts.canceled) == (2, 4)
    kinds = [r.result.type for r in client.messages.batches.results(batch.id)]
    assert kinds == ["succeeded"] * 2 + ["canceled"] * 4


def test_deleting_a_batch_in_progress_is_refused(
    fake: MockSpike, client: anthropic.Anthropic
) -> None:
    fake.batches.settings(processing_seconds=60)
    batch = client.messages.batches.create(requests=[{"custom_id": "a", "params": params("x")}])
    with pytest.raises(anthropic.BadRequestError, match="cancel it first"):
        client.messages.batches.delete(batch.id)


def test_duplicate_custom_ids_are_refused(client: anthropic.Anthropic) -> None:
    same = {"custom_id": "a", "params": params("x")}
    with pytest.raises(anthropic.BadRequestError, match="Duplicate custom_id"):
        client.messages.batches.create(requests=[same, same])


@pytest.mark.anyio
async def test_async_client_batches(fake: MockSpike) -> None:
    client = fake.async_anthropic_client(max_retries=0)
    batch = await client.messages.batches.create(
        requests=[{"custom_id": "a", "params": params("hello")}]
    )
    results = [r async for r in await client.messages.batches.results(batch.id)]
    assert [r.result.type for r in results] == ["succeeded"]


def test_a_file_uploaded_referenced_downloaded_deleted_refused(
    fake: MockSpike, client: anthropic.Anthropic
) -> None:
    uploaded = client.beta.files.upload(
        file=("ticket.txt", b"Order 42 arrived broken.", "text/plain"), betas=FILES_BETA
    )
    assert (uploaded.filename, uploaded.mime_type, uploaded.size_bytes) == (
        "ticket.txt",
        "text/plain",
        24,
    )
    document = {"type": "document", "source": {"type": "file", "file_id": uploaded.id}}
    ask = [{"role": "user", "content": [document, {"type": "text", "text": "Triage it."}]}]
    reply = client.beta.messages.create(
        model="claude-haiku-4-5", max_tokens=32, messages=ask, betas=FILES_BETA
    )
    assert reply.type == "message"
    assert client.beta.files.retrieve_metadata(uploaded.id, betas=FILES_BETA).id == uploaded.id
    assert [f.id for f in client.beta.files.list(betas=FILES_BETA)] == [uploaded.id]
    with pytest.raises(anthropic.BadRequestError, match="not downloadable"):
        client.beta.files.download(uploaded.id, betas=FILES_BETA)
    chart = fake.files.add(b"\x89PNG chart", "chart.png")  # as code execution would make it
    assert client.beta.files.download(chart["id"], betas=FILES_BETA).read() == b"\x89PNG chart"
    client.beta.files.delete(uploaded.id, betas=FILES_BETA)
    with pytest.raises(anthropic.NotFoundError, match=f"File not found: {uploaded.id}"):
        client.beta.messages.create(
            model="claude-haiku-4-5", max_tokens=32, messages=ask, betas=FILES_BETA
        )


@pytest.mark.parametrize("size", [600 * 1024 * 1024, None], ids=["600MB", "never-ends"])
def test_an_oversized_upload_gets_the_413(client: anthropic.Anthropic, size: int | None) -> None:
    source = Zeros(size)
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.beta.files.upload(
            file=("big.bin", source, "application/octet-stream"), betas=FILES_BETA
        )
    assert caught.value.status_code == 413
    assert source.served < 510 * 1024 * 1024


def test_the_server_refuses_a_declared_600mb_upload_before_reading_it(
    anthropic_server_url: str,
) -> None:
    parts = urlsplit(anthropic_server_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/files HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
            b"anthropic-version: 2023-06-01\r\n"
            b"content-type: multipart/form-data; boundary=b\r\n"
            b"content-length: 629145600\r\n\r\n--b\r\n"
        )
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        body = json.loads(answer.read())
    assert answer.status == 413
    assert body["error"] == {
        "type": "request_too_large",
        "message": "File exceeds the 500 MB limit.",
    }


def test_cassettes_answer_batch_requests(tmp_path: Any) -> None:
    origin = MockSpike(profile="anthropic")
    origin.on(text="refund").reply("billing, from the recording")
    path = tmp_path / "batch.json"
    request = [{"custom_id": "a", "params": params("A refund, please")}]
    with origin.serve() as origin_url:
        recording = MockSpike(
            profile="anthropic", cassette=path, record_mode="once", upstream=origin_url
        )
        client = recording.anthropic_client(max_retries=0)
        batch = client.messages.batches.create(requests=request)
        [recorded] = list(client.messages.batches.results(batch.id))
    replay = MockSpike(profile="anthropic", cassette=path, record_mode="none")
    client = replay.anthropic_client(max_retries=0)
    batch = client.messages.batches.create(
        requests=[*request, {"custom_id": "b", "params": params("new")}]
    )
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert recorded.result.message.content[0].text == "billing, from the recording"  # type: ignore[union-attr]
    assert results["a"].message.content[0].text == "billing, from the recording"  # type: ignore[union-attr]
    assert results["b"].type == "errored"  # not in the cassette: the miss, as an errored result
