"""Bad input gets a clear 4xx envelope quickly, and never stalls the server for others."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import HEADERS, SEED_BODY


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    payload = response.json()
    assert payload["type"] == "error" and payload["request_id"].startswith("req_")
    return response.status_code, payload["error"]["type"], payload["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        (b"\xff\xfe\x00garbage", "The request body is not valid JSON: "),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": NaN}',
            "The request body is not valid JSON: ",
        ),
        (b"[" * 10_000 + b"]" * 10_000, "The request body is not valid JSON: "),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "The request body is not valid JSON: "),
        (b"[1, 2, 3]", "Input should be a valid dictionary"),
        (b"42", "Input should be a valid dictionary"),
        (b"", "The request body is not valid JSON: "),
    ],
    ids=["non-utf8", "nan", "deep-list", "deep-object", "json-list", "json-number", "empty"],
)
def test_malformed_bodies(http: httpx.Client, raw: bytes, start: str) -> None:
    response = http.post("/v1/messages", content=raw, headers={"content-type": "application/json"})
    status, kind, message = error_of(response)
    assert (status, kind) == (400, "invalid_request_error")
    assert message.startswith(start)


def test_wrong_content_type(http: httpx.Client) -> None:
    response = http.post(
        "/v1/messages", content=json.dumps(SEED_BODY), headers={"content-type": "text/plain"}
    )
    assert error_of(response) == (
        400,
        "invalid_request_error",
        "Unsupported content-type 'text/plain': the request body must be application/json",
    )


def test_fifty_megabyte_body_is_413(server_url: str) -> None:
    big = b'{"pad":"' + b"x" * (50 * 1024 * 1024) + b'"}'
    with httpx.Client(base_url=server_url, headers=HEADERS, timeout=60) as client:
        try:
            response = client.post(
                "/v1/messages", content=big, headers={"content-type": "application/json"}
            )
        except httpx.WriteError:
            pytest.fail("the server closed the connection instead of answering 413")
    assert error_of(response) == (
        413,
        "request_too_large",
        "Request exceeds the maximum size of 33554432 bytes.",
    )


def test_chunked_oversized_body_is_413(server_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * (1024 * 1024)

    with httpx.Client(base_url=server_url, headers=HEADERS, timeout=60) as client:
        response = client.post(
            "/v1/messages", content=chunks(), headers={"content-type": "application/json"}
        )
    assert error_of(response)[0] == 413


def test_hundred_thousand_messages_does_not_stall_others(
    server_url: str, http: httpx.Client
) -> None:
    huge = dict(SEED_BODY, messages=[{"role": "user", "content": "hi"}] * 100_000)
    results: dict[str, httpx.Response] = {}

    def send_huge() -> None:
        with httpx.Client(base_url=server_url, headers=HEADERS, timeout=60) as client:
            results["huge"] = client.post("/v1/messages", json=huge)

    worker = threading.Thread(target=send_huge)
    worker.start()
    small = [http.post("/v1/messages", json=SEED_BODY) for _ in range(5)]
    worker.join(timeout=60)
    assert all(r.status_code == 200 for r in small)
    assert error_of(results["huge"]) == (
        400,
        "invalid_request_error",
        "prompt is too long: 400003 tokens > 200000 maximum",
    )
