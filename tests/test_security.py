"""The HTTP edge under attack: no web page can script the fake, no secret leaks, no request
freezes it, nothing answers 500 or plain text. Real servers on loopback, bounded in time."""

from __future__ import annotations

import contextlib
import http.server
import logging
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from mockspike.adapters.bounds import Bounds
from tests.conftest import HEADERS, SEED_BODY, chromium

JSON = {"content-type": "application/json"}
SECRET = "sk-ant-api03-SECRET-do-not-leak"
RULE = {"match": {"text": "hello"}, "respond": {"reply": {"text": "scripted by a web page"}}}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record, uvicorn's too (its logger does not propagate to the root)."""
    caplog.set_level(logging.DEBUG)
    server = logging.getLogger("uvicorn")
    server.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        server.removeHandler(caplog.handler)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[MockSpike, str]]:
    fake = MockSpike()
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
def served(server: tuple[MockSpike, str]) -> tuple[MockSpike, str]:
    """The module's server, its script and journal cleared for each test."""
    server[0].reset()
    return server


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# -- a real browser on another origin ------------------------------------------------------


@contextlib.contextmanager
def page_server(html: str) -> Iterator[str]:
    """A second local server, on its own port (so another origin), serving one page."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = html.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


ATTACK = """<!doctype html><title>loading</title><script>
const target = "%(target)s";
const rule = JSON.stringify(%(rule)s);
async function attempt(fn) { try { await fn(); } catch (e) {} }
(async () => {
  await attempt(() => fetch(target + "/v1/models", {mode: "no-cors"}));
  await attempt(() => fetch(target + "/_mockspike/rules", {method: "POST", mode: "no-cors",
    headers: {"content-type": "text/plain"}, body: rule}));
  await attempt(() => fetch(target + "/_mockspike/rules", {method: "POST", mode: "no-cors",
    body: new Blob([rule], {type: "application/json"})}));
  await attempt(() => fetch(target + "/_mockspike/rules", {method: "POST",
    headers: {"content-type": "application/json"}, body: rule}));
  await attempt(() => fetch(target + "/_mockspike/reset", {method: "POST", mode: "no-cors"}));
  document.title = "done";
})();
</script>"""


def test_a_page_on_another_origin_cannot_script_the_fake(served: tuple[MockSpike, str]) -> None:
    fake, url = served
    fake.reply("set by the test")  # the page's reset must not clear it either
    html = ATTACK % {"target": url, "rule": httpx.Response(200, json=RULE).text}
    with page_server(html) as page_url, chromium() as browser:
        page = browser.new_page()
        page.goto(page_url)
        page.wait_for_function("document.title === 'done'", timeout=20_000)
    assert [e.path for e in fake.requests] == ["/v1/models"]  # the browser did reach it
    assert [r.describe() for r in fake.rules] == ["rule #1 reply('set by the test')"]  # unchanged


# -- access ---------------------------------------------------------------------------------


def test_admin_answers_only_under_its_own_host_names(served: tuple[MockSpike, str]) -> None:
    _, url = served
    port = _port(url)
    with httpx.Client(base_url=url) as client:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "[::1]", "app.localhost"):
            assert client.get("/_mockspike/requests", headers={"host": host}).status_code == 200
        refused = client.get("/_mockspike/requests", headers={"host": f"rebound.example:{port}"})
        assert refused.status_code == 403
        assert "rebound.example" in refused.json()["error"]["message"]
        # the API itself is for any client
        assert client.get("/v1/models", headers={**HEADERS, "host": "x.example"}).is_success
    fake = MockSpike(allowed_hosts=["dev.example"])
    with fake.serve() as url, httpx.Client(base_url=url) as client:
        assert client.get("/_mockspike/health", headers={"host": "dev.example"}).is_success


def test_admin_writes_are_same_origin_json(served: tuple[MockSpike, str]) -> None:
    fake, url = served
    with httpx.Client(base_url=url) as client:
        cross = client.post("/_mockspike/rules", json=RULE, headers={"origin": "http://evil.test"})
        assert cross.status_code == 403 and "evil.test" in cross.json()["error"]["message"]
        text = client.post(
            "/_mockspike/rules", content=b"{}", headers={"content-type": "text/plain"}
        )
        assert text.status_code == 415
        preflight = client.options(
            "/_mockspike/rules",
            headers={"origin": url, "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 405
        for answer in (cross, text, preflight):
            assert not [h for h in answer.headers if h.startswith("access-control-")]
        assert not fake.rules
        same = client.post("/_mockspike/rules", json=RULE, headers={"origin": url})
        assert same.status_code == 201


@pytest.mark.anyio
async def test_loopback_clients_of_an_ipv6_wildcard_bind_get_the_admin_api() -> None:
    from tests.conftest import call_asgi

    app = MockSpike().app
    for client in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "127.8.9.10"):
        sent = await call_asgi(
            app, "GET", "/_mockspike/rules", server=("::", 8000), client=(client, 1)
        )
        assert sent[0]["status"] == 200, client
    sent = await call_asgi(
        app, "GET", "/_mockspike/rules", server=("::", 8000), client=("2001:db8::1", 1)
    )
    assert sent[0]["status"] == 403


def test_forwarded_for_does_not_bypass_an_ip_allowlist() -> None:
    config = {"keys": {"sk-office": {"ip_allowlist": ["10.0.0.0/8"]}}}
    request = {
        "json": SEED_BODY,
        "headers": {**HEADERS, "x-api-key": "sk-office", "x-forwarded-for": "10.1.2.3"},
    }
    with MockSpike(config=config).serve() as url:
        refused = httpx.post(f"{url}/v1/messages", **request)  # type: ignore[arg-type]
    assert refused.status_code == 403
    assert "127.0.0.1" in refused.json()["error"]["message"]
    trusting = MockSpike(config=config, forwarded_allow_ips="127.0.0.1")
    with trusting.serve() as url:
        assert httpx.post(f"{url}/v1/messages", **request).status_code == 200  # type: ignore[arg-type]


# -- secrets --------------------------------------------------------------------------------


def test_no_secret_in_any_admin_output_or_log(logs: pytest.LogCaptureFixture) -> None:
    fake = MockSpike()
    secrets = {
        "x-api-key": SECRET,
        "authorization": f"Bearer {SECRET}",
        "cookie": f"session={SECRET}",
        "proxy-authorization": f"Basic {SECRET}",
    }
    body = {**SEED_BODY, "system": "no secret in the body"}
    with fake.serve() as url, httpx.Client(base_url=url) as client:
        client.post("/v1/messages", json=body, headers={**HEADERS, **secrets})
        client.post("/v1/messages", content=b"{broken", headers={**HEADERS, **secrets})
        client.post("/v1/messages", json={"deep": [[[[[[]]]]]]}, headers=secrets)
        outputs = [
            client.get(f"/_mockspike/{path}").text
            for path in ("requests", "rules", "wallets", "cache", "health")
        ]
    assert "<redacted>" in outputs[0]
    for text in [*outputs, logs.text]:
        assert SECRET not in text
    assert fake.requests[0].headers["x-api-key"] == "<redacted>"
    raw = MockSpike(journal_raw=True)
    with raw.serve() as url:
        httpx.post(f"{url}/v1/messages", json=SEED_BODY, headers={**HEADERS, **secrets})
    assert raw.requests.last.headers["x-api-key"] == SECRET  # the explicit opt-out


# -- bounds ---------------------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return (
        b'{"model":"claude-haiku-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"metadata":'
        + b'{"a":' * depth
        + b"{}"
        + b"}" * depth
        + b"}"
    )


def test_one_depth_limit_answered_with_the_envelope(served: tuple[MockSpike, str]) -> None:
    _, url = served
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        for depth in (200, 251, 490, 1100):
            answer = client.post("/v1/messages", content=_nested(depth), headers=JSON)
            assert answer.status_code == 400
            assert "depth limit exceeded: more than 128 levels" in answer.json()["error"]["message"]
        rule = (
            b'{"match":'
            + b'{"a":' * 300
            + b"1"
            + b"}" * 300
            + b', "respond": {"reply": {"text": "x"}}}'
        )
        admin = client.post("/_mockspike/rules", content=rule, headers=JSON)
        assert admin.status_code == 400 and "depth limit" in admin.json()["error"]["message"]
        journal = client.get("/_mockspike/requests")
        assert journal.status_code == 200 and len(journal.json()["requests"]) == 4


def test_the_journal_is_bounded_and_reset_gives_its_memory_back() -> None:
    fake = MockSpike(journal_size=50)
    client = httpx.Client(transport=fake.transport(), base_url="http://mockspike.test")
    big = (
        b'{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"'
        + b"x" * (3 * 2**20)
        + b'"}]}'
    )
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(40):  # each rejected (no max_tokens), each 3 MiB
            assert (
                client.post("/v1/messages", content=big, headers={**HEADERS, **JSON}).status_code
                == 400
            )
        for _ in range(100):
            client.post("/v1/messages", json=SEED_BODY, headers=HEADERS)
        after_storm = tracemalloc.get_traced_memory()[0]
        fake.reset()
        after_reset = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(fake.requests) == 0
    assert after_storm - start < 8 * 2**20  # the journal kept summaries, not 120 MiB
    assert after_reset - start < 2 * 2**20
    with fake.serve() as url:
        for _ in range(60):
            httpx.post(f"{url}/v1/messages", json=SEED_BODY, headers=HEADERS)
        httpx.post(f"{url}/v1/messages", content=big, headers={**HEADERS, **JSON})
        shown = httpx.get(f"{url}/_mockspike/requests").json()["requests"]
    assert len(shown) == 50 and fake.requests.dropped == 11
    summary = shown[-1]["body_summary"]
    assert shown[-1]["body"] is None and summary["bytes"] == len(big)
    assert (
        summary["prefix"].startswith('{"model":"claude-haiku-4-5"') and len(summary["sha256"]) == 64
    )


@contextlib.contextmanager
def raw_connection(url: str) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
    try:
        yield sock
    finally:
        sock.close()


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def _trickle(sock: socket.socket, first: bytes, drip: bytes, limit: float = 10.0) -> bytes:
    """Send `first`, then `drip` every 50 ms, until the server answers or closes (or the
    bound passes); returns what the server sent."""
    sock.sendall(first)
    sock.settimeout(0.05)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            try:
                sock.sendall(drip)
            except OSError:
                break
            continue
        except ConnectionResetError:
            break
        sock.settimeout(1)
        return data + _read_all(sock)
    return b""


def test_slowloris_headers_and_endless_uploads_are_cut() -> None:
    fake = MockSpike(bounds=Bounds(header_timeout=0.5, body_timeout=0.5))
    with fake.serve() as url:
        with raw_connection(url) as slow:
            answer = _trickle(slow, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n", b"X")
            assert answer == b""  # closed without an answer, within the bound
        with raw_connection(url) as upload:
            head = b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            answer = _trickle(
                upload, head + b"content-type: application/json\r\n\r\n", b"1\r\n \r\n"
            )
            assert answer.startswith(b"HTTP/1.1 408")
            assert b'"type":"error"' in answer
        assert httpx.get(f"{url}/v1/models", headers=HEADERS).is_success  # others still served


def test_the_header_deadline_runs_from_the_last_response() -> None:
    """A keep-alive connection making requests for longer than the header deadline is
    served throughout; once it trickles a request's headers, it is cut."""
    fake = MockSpike(bounds=Bounds(header_timeout=1.0))
    with fake.serve() as url, raw_connection(url) as sock:
        for _ in range(6):  # 1.2 s and more on one connection, 0.2 s between requests
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 ")
            time.sleep(0.2)
        assert _trickle(sock, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n", b"X") == b""


def _read_response(sock: socket.socket) -> bytes:
    """One whole response off a keep-alive connection (its body by content-length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _more(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += _more(sock)
    return head + b"\r\n\r\n" + body


def _more(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    assert chunk, "the server closed the connection"
    return chunk


def test_bytes_in_flight_and_connections_are_capped() -> None:
    fake = MockSpike(bounds=Bounds(max_bytes_in_flight=2**20, max_connections=4))
    with fake.serve() as url:
        body = b'{"x":"' + b"y" * (2 * 2**20) + b'"}'
        over = httpx.post(f"{url}/v1/messages", content=body, headers={**HEADERS, **JSON})
        assert over.status_code == 503 and over.json()["type"] == "error"
        with contextlib.ExitStack() as stack:
            idle = [stack.enter_context(raw_connection(url)) for _ in range(4)]
            _wait(lambda: len(fake.server_state.connections) == 4)  # all accepted
            with raw_connection(url) as extra:
                extra.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = _read_all(extra)
            assert answer.startswith(b"HTTP/1.1 503") and b'"type":"error"' in answer
            assert len(idle) == 4
        assert httpx.get(f"{url}/v1/models", headers=HEADERS).is_success


def test_bytes_in_flight_are_given_back_when_each_request_ends() -> None:
    """A body counts against the cap only while its request runs, whichever way it ends
    (answered, refused, or left mid-upload): an idle server never refuses for bytes it
    no longer holds."""
    fake = MockSpike(bounds=Bounds(max_bytes_in_flight=4096))
    question = {"role": "user", "content": "x" * 3000}
    body = httpx.Request("POST", "/", json={**SEED_BODY, "messages": [question]}).read()
    assert 3000 < len(body) < 4096  # two such bodies held at once would pass the cap
    with fake.serve() as url:
        post = f"{url}/v1/messages"
        headers = {**HEADERS, **JSON}
        assert httpx.post(post, content=body + b" " * 2000, headers=headers).status_code == 503
        with raw_connection(url) as upload:  # whole head, most of the body, then gone
            upload.sendall(
                b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: %d\r\n"
                b"content-type: application/json\r\n\r\n%s" % (len(body), body[:2000])
            )
            _wait(lambda: fake.server_state.tasks)  # the server is reading it
        _wait(lambda: not fake.server_state.tasks)  # and has seen the client go
        chunked = (body[i : i + 1000] for i in range(0, len(body), 1000))  # read part by part
        assert httpx.post(post, content=chunked, headers=headers).is_success
        assert (
            httpx.post(f"{url}/v1/messages/count_tokens", content=b"{", headers=headers).status_code
            == 400
        )
        for _ in range(5):
            assert httpx.post(post, content=body, headers=headers).is_success


def test_an_answer_before_the_connection_closes_arrives_whole() -> None:
    """A client that asks to close the connection after its request gets the whole answer,
    then the close."""
    fake = MockSpike()
    fake.on().reply("all of it " * 500)
    with fake.serve() as url, raw_connection(url) as sock:
        body = httpx.Request("POST", "/", json=SEED_BODY).read()
        head = "".join(f"{k}: {v}\r\n" for k, v in {**HEADERS, **JSON}.items()).encode()
        sock.sendall(
            b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + head
            + b"content-length: %d\r\n\r\n" % len(body)
            + body
        )
        answer = _read_all(sock)
    status, _, payload = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200") and b"connection: close" in status.lower()
    assert httpx.Response(200, content=payload).json()["content"][0]["text"] == "all of it " * 500


def _wait(condition: Any, bound: float = 5.0) -> None:
    deadline = time.monotonic() + bound
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_an_aborted_upload_logs_no_traceback(
    served: tuple[MockSpike, str], logs: pytest.LogCaptureFixture
) -> None:
    fake, url = served
    state = fake.server_state
    for _ in range(3):
        with raw_connection(url) as upload:
            upload.sendall(
                b'POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-length: 100000\r\n\r\n{"mo'
            )
            _wait(lambda: state.tasks)  # the app is reading the body when the client goes
    _wait(lambda: not state.connections and not state.tasks)
    assert not [r for r in logs.records if r.levelno >= logging.WARNING], logs.text


# -- never a 500, never plain text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("rules", {"match": {"text": 5}, "respond": {"reply": {"text": "x"}}}, "match.text"),
        ("rules", {"match": {"regex": "(("}, "respond": {"reply": {"text": "x"}}}, "regex '(('"),
        ("rules", {"respond": {"fault": {"kind": "stall", "seconds": 1e308}}}, "fault: seconds"),
        ("rules", {"respond": {"reply": {"text": "x", "timing": {"ttft": "1"}}}}, "timing.ttft"),
        ("failures", {"status": "429"}, "fail: status"),
        ("faults", {"kind": "break", "after": -1}, "fault: after"),
        ("replies", {"text": ["not", "text"]}, "reply: text"),
        ("wallets/sk-a", {"balance": "nan"}, "balance"),
        ("wallets/sk-a", {"top_up": 1e300}, "top_up"),
        ("wallets/sk-a", {"top_up": True}, "top_up"),
    ],
)
def test_admin_inputs_of_the_wrong_type_are_400s_naming_the_field(
    served: tuple[MockSpike, str], path: str, payload: dict[str, Any], field: str
) -> None:
    fake, url = served
    answer = httpx.post(f"{url}/_mockspike/{path}", json=payload)
    assert answer.status_code == 400
    assert field in answer.json()["error"]["message"]
    assert not fake.rules
    assert httpx.post(f"{url}/v1/messages", json=SEED_BODY, headers=HEADERS).is_success
    assert httpx.get(f"{url}/_mockspike/wallets").is_success


def test_http_layer_errors_come_in_the_envelope(served: tuple[MockSpike, str]) -> None:
    _, url = served
    with httpx.Client(base_url=url) as client:
        for answer, status in (
            (client.request("PUT", "/_mockspike/health", headers=JSON), 404),
            (client.request("TRACE", "/v1/messages"), 405),  # Starlette's own answer
        ):
            assert answer.status_code == status, answer.text
            assert answer.json()["type"] == "error"
    with raw_connection(url) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400") and b"application/json" in answer
    assert b'"type":"error"' in answer
