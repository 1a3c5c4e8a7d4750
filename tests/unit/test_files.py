"""The Files API in the engine: multipart uploads, metadata, paging, downloads, deletion,
file sources in Messages requests, a directory store, and the upload size limit in the
in-process transport. No socket, no SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from mockspike.model.wire import WireRequest
from mockspike.state.files import MAX_FILE_BYTES, MemoryFiles
from tests.conftest import Zeros

HEADERS = {"x-api-key": "sk-files", "anthropic-version": "2023-06-01"}


def multipart(files: dict[str, Any], data: dict[str, str] | None = None) -> tuple[str, bytes]:
    """The content type and body httpx would send (no socket involved)."""
    request = httpx.Request("POST", "http://x/v1/files", files=files, data=data)
    return request.headers["content-type"], request.read()


def upload(fake: MockSpike, name: str, content: bytes, mime: str) -> tuple[int, Any]:
    ctype, body = multipart({"file": (name, content, mime)})
    return call(fake, "POST", "/v1/files", body, ctype)


def call(
    fake: MockSpike, method: str, path: str, body: bytes = b"", ctype: str = "", query: str = ""
) -> tuple[int, Any]:
    headers = {**HEADERS, "content-type": ctype} if ctype else dict(HEADERS)
    response = fake.engine.handle(WireRequest(method, path, headers, body, query))
    data = b"".join(chunk for _, chunk in response.iter_chunks())
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status, json.loads(data)
    return response.status, data


def message(*blocks: dict[str, Any], count: bool = False) -> bytes:
    body: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "messages": [{"role": "user", "content": [*blocks, {"type": "text", "text": "Sum up."}]}],
    }
    if not count:
        body["max_tokens"] = 32
    return json.dumps(body).encode()


@pytest.fixture
def fake() -> MockSpike:
    return MockSpike(profile="anthropic")


def test_upload_retrieve_list_refuse_download_delete(fake: MockSpike) -> None:
    status, meta = upload(fake, "notes.txt", b"Order 42 is late.", "text/plain")
    assert status == 200
    assert meta["type"] == "file" and meta["id"].startswith("file_")
    assert (meta["filename"], meta["mime_type"], meta["size_bytes"]) == (
        "notes.txt",
        "text/plain",
        17,
    )
    assert meta["downloadable"] is False
    assert call(fake, "GET", f"/v1/files/{meta['id']}") == (200, meta)
    status, listed = call(fake, "GET", "/v1/files")
    assert listed["data"] == [meta]
    status, error = call(fake, "GET", f"/v1/files/{meta['id']}/content")
    assert (status, error["error"]["message"]) == (400, "File is not downloadable")
    status, deleted = call(fake, "DELETE", f"/v1/files/{meta['id']}")
    assert deleted == {"id": meta["id"], "type": "file_deleted"}
    status, error = call(fake, "GET", f"/v1/files/{meta['id']}")
    assert (status, error["error"]["message"]) == (404, f"File not found: {meta['id']}")


def test_files_a_tool_created_can_be_downloaded(fake: MockSpike) -> None:
    chart = fake.files.add(b"\x89PNG...", "chart.png")
    assert chart["mime_type"] == "image/png" and chart["downloadable"] is True
    assert call(fake, "GET", f"/v1/files/{chart['id']}/content") == (200, b"\x89PNG...")


def test_a_file_source_counts_and_answers_like_its_inline_content(fake: MockSpike) -> None:
    text = "A long support ticket. " * 40
    status, meta = upload(fake, "ticket.txt", text.encode(), "text/plain")
    by_file = {"type": "document", "source": {"type": "file", "file_id": meta["id"]}}
    inline = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": text},
    }
    count = "/v1/messages/count_tokens"
    _, counted_file = call(fake, "POST", count, message(by_file, count=True))
    _, counted_inline = call(fake, "POST", count, message(inline, count=True))
    assert counted_file == counted_inline and counted_inline["input_tokens"] > 200
    status, reply = call(fake, "POST", "/v1/messages", message(by_file))
    assert status == 200
    assert reply["usage"]["input_tokens"] == counted_inline["input_tokens"]
    assert fake.requests.last.body is not None
    assert fake.requests.last.body["messages"][0]["content"][0] == by_file


def test_unknown_deleted_or_mismatched_files_are_refused(fake: MockSpike) -> None:
    ghost = {"type": "document", "source": {"type": "file", "file_id": "file_011Cghost"}}
    status, error = call(fake, "POST", "/v1/messages", message(ghost))
    assert (status, error["error"]["message"]) == (404, "File not found: file_011Cghost")
    _, text_file = upload(fake, "a.txt", b"text", "text/plain")
    as_image = {"type": "image", "source": {"type": "file", "file_id": text_file["id"]}}
    status, error = call(fake, "POST", "/v1/messages", message(as_image))
    assert status == 400 and "text/plain" in error["error"]["message"]


def test_batch_requests_resolve_files_too(fake: MockSpike) -> None:
    _, meta = upload(fake, "a.txt", b"text", "text/plain")
    body = json.loads(
        message({"type": "document", "source": {"type": "file", "file_id": meta["id"]}})
    )
    batch_body = {"requests": [{"custom_id": "ok", "params": body}]}
    headers = {**HEADERS, "content-type": "application/json"}
    request = WireRequest("POST", "/v1/messages/batches", headers, json.dumps(batch_body).encode())
    batch = json.loads(fake.engine.handle(request).body)
    call(fake, "DELETE", f"/v1/files/{meta['id']}")
    [result] = fake.batches.results(batch["id"])
    assert result["result"]["error"]["error"]["message"] == f"File not found: {meta['id']}"


def test_list_pages_by_id_and_by_cursor(fake: MockSpike) -> None:
    ids = [upload(fake, f"{i}.txt", b"x", "text/plain")[1]["id"] for i in range(3)]
    _, first = call(fake, "GET", "/v1/files", query="limit=2")
    assert [f["id"] for f in first["data"]] == ids[::-1][:2]
    assert first["has_more"] and first["next_page"]
    _, by_cursor = call(fake, "GET", "/v1/files", query=f"page={first['next_page']}")
    _, by_id = call(fake, "GET", "/v1/files", query=f"after_id={first['last_id']}")
    assert [f["id"] for f in by_cursor["data"]] == [f["id"] for f in by_id["data"]] == [ids[0]]
    assert by_cursor["next_page"] is None


@pytest.mark.parametrize(
    ("ctype", "body", "message"),
    [
        ("application/json", b"{}", "multipart/form-data"),
        (
            "multipart/form-data; boundary=xyz",
            b"--xyz\r\nContent-Disposition: form-data; ",
            "closing",
        ),
    ],
)
def test_broken_uploads_get_a_400(fake: MockSpike, ctype: str, body: bytes, message: str) -> None:
    status, error = call(fake, "POST", "/v1/files", body, ctype)
    assert status == 400 and message in error["error"]["message"]


def test_an_upload_without_a_file_part_or_with_a_bad_expiry(fake: MockSpike) -> None:
    ctype, body = multipart({"other": ("a.txt", b"x", "text/plain")})
    assert call(fake, "POST", "/v1/files", body, ctype)[1]["error"]["message"] == (
        "file: Field required"
    )
    ctype, body = multipart({"file": ("a.txt", b"x")}, {"expires_in_seconds": "60"})
    status, error = call(fake, "POST", "/v1/files", body, ctype)
    assert status == 400 and "expires_in_seconds" in error["error"]["message"]


def test_only_the_final_path_component_of_a_filename_is_kept(fake: MockSpike) -> None:
    _, meta = upload(fake, "../../etc/report.pdf", b"%PDF-1.4", "application/pdf")
    assert meta["filename"] == "report.pdf"


def test_a_files_directory_outlives_the_store(tmp_path: Path) -> None:
    store = MemoryFiles(tmp_path)
    stored = store.add(b"kept", "kept.txt", now=1.0)
    again = MemoryFiles(tmp_path)
    assert again.get(stored.id) == stored and again.content(stored.id) == b"kept"
    again.delete(stored.id)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [600 * 1024 * 1024, None], ids=["600MB", "never-ends"])
def test_oversized_uploads_stop_at_the_limit(fake: MockSpike, size: int | None) -> None:
    source = Zeros(size)
    with httpx.Client(transport=fake.transport(), base_url="http://fake.test") as client:
        response = client.post(
            "/v1/files",
            headers=HEADERS,
            files={"file": ("big.bin", source, "application/octet-stream")},
        )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"
    assert source.served <= MAX_FILE_BYTES + 2 * 1024 * 1024  # stopped reading at the limit
    assert len(fake.files) == 0


def test_a_file_source_spelled_with_an_escape_is_still_looked_up(fake: MockSpike) -> None:
    ghost = {"type": "document", "source": {"type": "file", "file_id": "file_011Cghost"}}
    raw = message(ghost).replace(b'"type": "file"', b'"type": "fil\\u0065"')
    assert b'"file"' not in raw
    status, error = call(fake, "POST", "/v1/messages", raw)
    assert (status, error["error"]["message"]) == (404, "File not found: file_011Cghost")
