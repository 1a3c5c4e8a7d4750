"""The recorder under a stalling or hostile upstream (a real asyncio server on 127.0.0.1):
replays and other clients are still answered, a client that leaves frees its slot, and no
cassette is written that the tools then refuse. Bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx

from mockspike import MockSpike
from mockspike.cassettes import Cassette
from tests.conftest import HEADERS, SEED_BODY
from tests.hostile_upstream import HostileUpstream, Request, response


def ask(text: str) -> dict[str, object]:
    return dict(SEED_BODY, messages=[{"role": "user", "content": text}])


def stall_unless_fast() -> HostileUpstream:
    """Answers a request that says "fast" at once; any other never (until closed)."""

    async def answer(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if b"fast" in request.body:
            body = json.dumps({"type": "message", "said": request.body.decode()}).encode()
            writer.write(response(200, [(b"content-type", b"application/json")], body))
            return
        await upstream.stall(reader)

    upstream = HostileUpstream(answer)
    return upstream


def test_stalling_upstream_never_wedges_the_recorder(tmp_path: Path) -> None:
    """45 clients wait on a stalling upstream and give up after 2 s (as in the red-team
    run). Meanwhile a replay is answered; once they left, the upstream sees every stalled
    connection closed and a new recording gets a slot (max_recordings=2)."""
    upstream = stall_unless_fast()
    path = tmp_path / "stall.json"
    with upstream.running() as origin:
        fake = MockSpike(
            cassette=path, record_mode="new_episodes", upstream=origin, max_recordings=2
        )
        with fake.serve() as url, httpx.Client(base_url=url, headers=HEADERS) as http:
            assert http.post("/v1/messages", json=ask("fast one"), timeout=10).status_code == 200

            async def give_up(n: int) -> str:
                async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=2) as c:
                    try:
                        await c.post("/v1/messages", json=ask(f"stall {n}"))
                    except httpx.TimeoutException:
                        return "gave up"
                    return "answered"

            async def crowd_then_replay() -> tuple[list[str], int]:
                crowd = [asyncio.create_task(give_up(n)) for n in range(45)]
                await asyncio.sleep(0.5)  # the crowd is waiting on the upstream now
                async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=10) as c:
                    replay = await c.post("/v1/messages", json=ask("fast one"))
                return list(await asyncio.gather(*crowd)), replay.status_code

            outcomes, replayed = asyncio.run(crowd_then_replay())
            assert outcomes == ["gave up"] * 45
            assert replayed == 200  # answered from the cassette while the crowd waited

            deadline = time.monotonic() + 10
            while upstream.stalled > 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert upstream.stalled == 0, "clients that left still hold upstream connections"
            fresh = http.post("/v1/messages", json=ask("fast two"), timeout=10)
            assert fresh.status_code == 200, fresh.text  # a slot was free: not a 529
        left = [e for e in fake.requests if e.status == 408]
        assert left and all("the client left" in (e.error or {})["message"] for e in left)


def test_deep_json_through_the_cassette_path_is_a_clear_400(tmp_path: Path) -> None:
    """In replay mode the body reaches the cassette before the engine's depth check: 300
    and 1,000 levels deep are a clear miss (400 envelope), and the journal still reads."""
    path = tmp_path / "one.json"
    recorded = {"method": "POST", "path": "/v1/messages", "body": SEED_BODY}
    interaction = {"request": recorded, "response": {"status": 200, "body": {"ok": True}}}
    path.write_text(json.dumps({"version": 1, "interactions": [interaction]}))
    with MockSpike(cassette=path).serve() as url, httpx.Client(base_url=url, timeout=30) as http:
        for depth in (300, 1000):
            body = b'{"model":"claude-haiku-4-5","messages":' + b"[" * depth + b"]" * depth + b"}"
            answer = http.post("/v1/messages", content=body, headers=HEADERS)
            assert answer.status_code == 400, answer.text
            assert answer.json()["type"] == "error"
        journal = http.get("/_mockspike/requests")
        assert journal.status_code == 200
        assert [e["status"] for e in journal.json()["requests"]] == [400, 400]


def hostile() -> HostileUpstream:
    """Answers by what the request says: a gzip bomb, a UTF-8 header, odd SSE."""

    async def answer(
        request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        said = request.body.decode()
        sse = [(b"content-type", b"text/event-stream")]
        if "bomb" in said:  # 64 MiB of zeros in 64 KiB of gzip
            writer.write(
                response(
                    200,
                    [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")],
                    bomb(),
                )
            )
        elif "utf8 header" in said:
            head = [(b"content-type", b"application/json"), (b"x-note", "Zoë ✓".encode())]
            writer.write(response(200, head, b'{"ok":true}'))
        elif "empty event" in said:
            writer.write(response(200, sse, b'event:\ndata: {"type":"ping"}\n\n'))
        elif "bad name" in said:
            writer.write(response(200, sse, b"event: \xff\xfe\ndata: 1\n\nevent: ok\ndata: 2\n\n"))
        elif "no blank lines" in said:
            line = b"data: " + b"x" * 1018 + b"\n"
            size = 24 * 1024 * 1024
            writer.write(response(200, sse, b"")[: -len(b"0\r\n\r\n")] + b"%d\r\n\r\n" % size)
            for _ in range(size // (8 * 1024)):
                writer.write(line * 8)
                await writer.drain()

    return HostileUpstream(answer)


_BOMB: list[bytes] = []


def bomb() -> bytes:
    if not _BOMB:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * (1024 * 1024)
        _BOMB.append(b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush())
    return _BOMB[0]


def test_a_hostile_upstream_never_leaves_a_cassette_the_tools_refuse(tmp_path: Path) -> None:
    path = tmp_path / "hostile.json"
    upstream = hostile()
    with (
        upstream.running() as origin,
        MockSpike(cassette=path, record_mode="new_episodes", upstream=origin).serve() as url,
        httpx.Client(base_url=url, headers=HEADERS, timeout=60) as http,
    ):
        bombed = http.post("/v1/messages", json=ask("bomb"))
        assert bombed.status_code == 502
        assert "over 33,554,432 bytes decoded" in bombed.json()["error"]["message"]
        odd = {text: http.post("/v1/messages", json=ask(text)) for text in ODD}
        assert (b"x-note", "Zoë ✓".encode()) in odd["utf8 header"].headers.raw
        assert odd["empty event"].text == 'event:\ndata: {"type":"ping"}\n\n'
        assert odd["bad name"].content == b"event: \xff\xfe\ndata: 1\n\nevent: ok\ndata: 2\n\n"
        long = http.post("/v1/messages", json=ask("no blank lines"))
        assert len(long.content) == 24 * 1024 * 1024
    listed = subprocess.run(
        [sys.executable, "-m", "mockspike", "cassette", "list", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    cassette = Cassette.load(path)
    said = [json.dumps(i["request"]["body"]) for i in cassette.interactions]
    assert not any("bomb" in s for s in said)
    assert len(cassette.interactions) == 4
    with (
        MockSpike(cassette=path).serve() as url,
        httpx.Client(base_url=url, headers=HEADERS, timeout=60) as http,
    ):
        again = {text: http.post("/v1/messages", json=ask(text)) for text in ODD}
    assert (b"x-note", "Zoë ✓".encode()) in again["utf8 header"].headers.raw
    assert again["empty event"].text == 'data: {"type":"ping"}\n\n'  # the default type
    assert (
        again["bad name"].content
        == "event: \ufffd\ufffd\ndata: 1\n\nevent: ok\ndata: 2\n\n".encode()
    )


ODD = ("utf8 header", "empty event", "bad name")
