"""Bounds and headers at the edges, on the stack `serve` runs (uvicorn with httptools):
the head of a request is bounded, the admin API and dashboard refuse to be framed.
Loopback only; bounded in count and time."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mockspike import MockSpike
from tests.conftest import HEADERS, SEED_BODY, chromium, serve_process
from tests.hostile_upstream import HostileUpstream, Request, response
from tests.test_security import page_server


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with MockSpike().serve() as served:
        yield served


def exchange(url: str, head: bytes, extra: int = 0) -> bytes:
    """Send `head` then `extra` more header bytes (in 64 KiB writes, stopping when the
    server closes), then the head's end; the answer's first bytes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        try:
            sock.sendall(head)
            sent = 0
            while sent < extra:
                sock.sendall(b"a" * 65536)
                sent += 65536
            sock.sendall(b"\r\n\r\n")
        except OSError:
            pass  # the server stopped reading: its answer is waiting
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer


def test_a_head_over_64_kib_is_a_431_on_httptools(url: str) -> None:
    import uvicorn.protocols.http.auto as auto

    assert auto.AutoHTTPProtocol.__name__ == "HttpToolsProtocol"  # the stack serve runs
    head = b"GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: sk-test\r\nx-big: "
    big = exchange(url, head, extra=16 * 1024 * 1024)  # 16 MiB, cut after the first 64 KiB
    assert big.startswith(b"HTTP/1.1 431 ")
    assert b'"type":"invalid_request_error"' in big.replace(b" ", b"")
    assert b"65,536 bytes" in big
    fits = exchange(url, head + b"a" * 60_000 + b"\r\nconnection: close")
    assert not fits.startswith(b"HTTP/1.1 431 ")  # a large head within the bound is read
    assert fits.startswith(b"HTTP/1.1 ")


def test_a_keep_alive_connection_is_never_refused_for_the_requests_it_carried(url: str) -> None:
    """The head bound counts one request's head: 40 requests of about 2.3 KB each, whole in
    one read, on one connection (90 KB in all) are all answered."""
    import http.client
    import json

    body = {**SEED_BODY, "messages": [{"role": "user", "content": "word " * 400}]}
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    statuses = []
    try:
        for _ in range(40):  # http.client sends a request's head and body in one write
            connection.request("POST", "/v1/messages", json.dumps(body).encode(), HEADERS)
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
    finally:
        connection.close()
    assert statuses == [200] * 40


FRAMING = """<!doctype html><title>framing</title>
<iframe id="dash" src="%(target)s/_mockspike/" style="opacity:0.01"></iframe>
<iframe id="journal" src="%(target)s/_mockspike/requests"></iframe>"""


def test_no_page_of_another_origin_can_frame_the_admin_api_or_dashboard() -> None:
    fake = MockSpike()
    with fake.serve() as target, page_server(FRAMING % {"target": target}) as page_url:
        with chromium() as browser:
            page = browser.new_page()
            page.goto(page_url)
            page.wait_for_load_state("load")
            framed = [f for f in page.frames if f is not page.main_frame]
            assert len(framed) == 2
            for frame in framed:  # blocked: Chromium's error page, not the fake's answer
                assert not frame.url.startswith(target), frame.url
        for path in ("/_mockspike/", "/_mockspike/requests", "/_mockspike/nothing"):
            answer = httpx.get(target + path)
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def stalled_reader(url: str) -> socket.socket:
    """A live-feed subscriber that never reads (a tiny receive buffer, so the server's
    writes back up at once)."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(b"GET /_mockspike/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
    return sock


def test_live_feed_subscribers_that_stop_reading_hold_bounded_memory() -> None:
    """Two `/events` readers that stop reading, then 300 requests of 700 KB: the server's
    RSS grows by the journal's own bound and little more (before: +484 MiB)."""
    with serve_process() as (process, url):
        body = {**SEED_BODY, "metadata": {"user_id": "x" * 700_000}}
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:
            for _ in range(20):  # warm up: the journal's first bodies, the allocator
                http.post("/v1/messages", json=body)
            before = rss_mib(process.pid)
            readers = [stalled_reader(url) for _ in range(2)]
            try:
                for _ in range(300):
                    http.post("/v1/messages", json=body)
                grown = rss_mib(process.pid) - before
            finally:
                for reader in readers:
                    reader.close()
    assert grown < 150, f"RSS grew {grown:.0f} MiB"


FOREIGN = {"host": "rebound.example"}
FILES_BETA = {"anthropic-beta": "files-api-2025-04-14"}


def test_stored_files_and_batch_results_answer_only_under_the_servers_own_names() -> None:
    """A DNS-rebinding page reaches the fake under its own name: it may still send
    messages (a fake behind a proxy is reached under other names too), but reads no stored
    file and no batch result."""
    fake = MockSpike(profile="anthropic")
    stored = fake.files.add(b"secret figures", "figures.csv")
    with fake.serve() as url, httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:
        batch = http.post(
            "/v1/messages/batches",
            json={"requests": [{"custom_id": "a", "params": SEED_BODY}]},
        ).json()
        reads = [
            f"/v1/files/{stored['id']}/content",
            f"/v1/files/{stored['id']}",
            "/v1/files",
            f"/v1/messages/batches/{batch['id']}/results",
        ]
        assert http.get(f"/v1/messages/batches/{batch['id']}").is_success  # ends it
        for path in reads:
            assert http.get(path, headers=FILES_BETA).status_code == 200, path
            refused = http.get(path, headers={**FILES_BETA, **FOREIGN})
            assert refused.status_code == 403, path
            assert "refused the Host 'rebound.example'" in refused.json()["error"]["message"]
        assert http.post("/v1/messages", json=SEED_BODY, headers=FOREIGN).status_code == 200


def test_a_recorder_spends_its_upstreams_credentials_only_under_its_own_names(
    tmp_path: Path,
) -> None:
    seen: list[bytes] = []

    async def answer(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        seen.append(request.body)
        writer.write(response(200, [(b"content-type", b"application/json")], b'{"ok":true}'))

    with HostileUpstream(answer).running() as origin:
        upstream = origin.replace("http://", "http://user:PASSWORD@")
        recorder = MockSpike(
            cassette=tmp_path / "c.json", record_mode="new_episodes", upstream=upstream
        )
        with recorder.serve() as url, httpx.Client(base_url=url, headers=HEADERS) as http:
            refused = http.post("/v1/messages", json=SEED_BODY, headers=FOREIGN)
            assert refused.status_code == 403
            assert "forwards requests with its upstream's credentials" in refused.text
            assert seen == []  # nothing went upstream
            assert http.post("/v1/messages", json=SEED_BODY).status_code == 200
            assert len(seen) == 1
