"""Cassettes keep every interaction, and recording keeps secrets and degrades gracefully:
concurrent recorders, symlinks, a full disk, files of the wrong shape, leftovers of a killed
writer, cookies, credentials in the upstream URL, and bursts past the upstream pool.
Bounded in count and time, loopback only."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from mockspike.cassettes import Cassette, CassetteError, storage
from mockspike.model.pacing import Pacing
from tests.conftest import HEADERS, SEED_BODY, serve_process

IN_PROCESS = "http://mockspike.test"


def body(text: str, **extra: Any) -> dict[str, Any]:
    return dict(SEED_BODY, max_tokens=16, messages=[{"role": "user", "content": text}], **extra)


def client(fake: MockSpike) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), base_url=IN_PROCESS, headers=HEADERS)


def prompts(path: Path) -> list[str]:
    return [
        i["request"]["body"]["messages"][0]["content"] for i in Cassette.load(path).interactions
    ]


@pytest.fixture(scope="module")
def origin() -> Iterator[tuple[MockSpike, str]]:
    """The 'real gateway' the recorders record from."""
    fake = MockSpike()
    with fake.serve() as url:
        yield fake, url


# -- two recorders, one file ---------------------------------------------------------------


def test_two_recorder_processes_lose_nothing(tmp_path: Path, origin: tuple[MockSpike, str]) -> None:
    path = tmp_path / "shared.json"
    args = ("--cassette", str(path), "--record-mode", "new_episodes", "--upstream", origin[1])
    with serve_process(*args) as (_, first), serve_process(*args) as (_, second):

        def record(url: str, name: str) -> None:
            with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as http:
                for n in range(12):
                    assert http.post("/v1/messages", json=body(f"{name} {n}")).status_code == 200

        workers = [
            threading.Thread(target=record, args=(url, name))
            for url, name in ((first, "first"), (second, "second"))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    recorded = Counter(prompts(path))
    assert recorded == Counter(f"{name} {n}" for name in ("first", "second") for n in range(12))


def test_a_recorder_merges_what_another_saved_meanwhile(tmp_path: Path) -> None:
    """Two episodes of one request, recorded by two processes: both are kept."""
    path = tmp_path / "merge.json"
    mine, theirs = Cassette.load(path), Cassette.load(path)
    request = {"method": "POST", "path": "/v1/messages", "headers": {}, "body": {"n": 0}}
    mine.add(request, {"status": 200, "headers": {}, "body": {"who": "mine"}})
    theirs.add(request, {"status": 200, "headers": {}, "body": {"who": "theirs"}})
    theirs.save()
    mine.save()
    again = {**request, "body": {"n": 1}}
    theirs.add(again, {"status": 200, "headers": {}, "body": {"who": "theirs"}})
    theirs.save()
    on_disk = [i["response"]["body"]["who"] for i in Cassette.load(path).interactions]
    assert sorted(on_disk) == ["mine", "theirs", "theirs"]
    assert len(mine.interactions) == 2  # it replays the other's episode too


# -- symlinks -------------------------------------------------------------------------------


@pytest.mark.parametrize("target_exists", [True, False], ids=["target", "dangling"])
def test_a_symlinked_cassette_writes_through_to_its_target(
    tmp_path: Path, origin: tuple[MockSpike, str], target_exists: bool
) -> None:
    store, links = tmp_path / "store", tmp_path / "links"
    store.mkdir()
    links.mkdir()
    target, link = store / "real.json", links / "cassette.json"
    if target_exists:
        Cassette.load(target).save()
    link.symlink_to(Path("..") / "store" / "real.json")
    fake = MockSpike(cassette=link, record_mode="new_episodes", upstream=origin[1])
    with client(fake) as http:
        assert http.post("/v1/messages", json=body("through the link")).status_code == 200
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert prompts(target) == ["through the link"]
    assert not list(store.glob("*.tmp")) and not list(links.glob("*.tmp"))


# -- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Any]]:
    """A folder, and `fill(on)` to make its disk full or give the space back. A real 64 KiB
    tmpfs when this machine lets us mount one (as root); otherwise a full disk is simulated
    by making `os.write` fail with ENOSPC (a real full disk cannot be made there)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = (
        hasattr(os, "geteuid")
        and os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    filler = folder / "filler"
    full = threading.Event()
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if full.is_set():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def fill(on: bool) -> None:
        if not mounted:
            full.set() if on else full.clear()
        elif on:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
            finally:
                os.close(fd)
        else:
            filler.unlink()

    if not mounted:
        monkeypatch.setattr(storage.os, "write", write)
    try:
        yield folder, fill
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_passes_the_answer_through_and_keeps_the_cassette(
    full_disk: tuple[Path, Any], origin: tuple[MockSpike, str], caplog: pytest.LogCaptureFixture
) -> None:
    folder, fill = full_disk
    path = folder / "c.json"
    fake = MockSpike(cassette=path, record_mode="new_episodes", upstream=origin[1])
    with client(fake) as http:
        assert http.post("/v1/messages", json=body("before")).status_code == 200
        before = path.read_bytes()
        fill(True)
        answer = http.post("/v1/messages", json=body("while full"))
        with http.stream("POST", "/v1/messages", json=body("streamed", stream=True)) as stream:
            events = stream.read()
        assert answer.status_code == 200 and answer.json()["type"] == "message"
        assert stream.status_code == 200 and b"event: message_stop" in events
        assert path.read_bytes() == before  # intact
        assert not list(folder.glob("*.tmp"))
        for entry in fake.requests[-2:]:
            assert entry.status == 200
            assert "No space left on device" in (entry.cassette_error or "")
            assert entry.to_json()["cassette_error"] == entry.cassette_error
        assert "could not save the cassette" in caplog.text
        fill(False)
        assert http.post("/v1/messages", json=body("after")).status_code == 200
    assert prompts(path) == ["before", "while full", "streamed", "after"]
    assert fake.requests.last.cassette_error is None


# -- files of the wrong shape ---------------------------------------------------------------

REQUEST = {"method": "POST", "path": "/v1/messages", "body": {}}


def with_headers(headers: dict[str, str]) -> dict[str, Any]:
    """An interaction whose response has `headers` (as a hand edit might leave them)."""
    return {"request": REQUEST, "response": {"status": 200, "headers": headers, "body": {}}}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"version": 1, "interactions": [1]}, "interaction 0: must be an object, not 1"),
        (
            {"version": 1, "interactions": [{"request": REQUEST, "response": {"status": 200}}]},
            "interaction 0 (response): the response has no content: neither 'body' nor 'events'",
        ),
        (
            {
                "version": 1,
                "interactions": [
                    {"request": REQUEST, "response": {"status": 200, "body": {}}},
                    {"request": REQUEST, "response": {"status": "200", "body": {}}},
                ],
            },
            'interaction 1 (response.status): must be an integer, not "200"',
        ),
        (
            {"version": 1, "interactions": [{"response": {"status": 200, "body": {}}}]},
            "interaction 0: 'request' is missing",
        ),
        (
            {
                "version": 1,
                "interactions": [
                    {"request": REQUEST, "response": {"status": 200, "events": [{"t": 0}]}}
                ],
            },
            "interaction 0 (response.events.0): 'event', 'data' is missing",
        ),
        ({"version": 1, "interactions": {}}, "interactions: must be a list, not {}"),
        (
            {"version": 1, "interactions": [with_headers({"x-split": "a\r\nset-cookie: b"})]},
            'interaction 0 (response.headers.x-split): the header value "a\\r\\nset-cookie: b" '
            "must be one line of latin-1 text (no CR, LF or other control characters, no "
            "character beyond U+00FF)",
        ),
        (
            {"version": 1, "interactions": [with_headers({"x-name": "Zoë ✓"})]},
            'interaction 0 (response.headers.x-name): the header value "Zoë ✓" must be one '
            "line of latin-1 text (no CR, LF or other control characters, no character "
            "beyond U+00FF)",
        ),
        (
            {"version": 1, "interactions": [with_headers({"x spaced": "v"})]},
            'interaction 0 (response.headers): the header name "x spaced" is not an HTTP '
            "token (letters, digits and !#$%&'*+-.^_`|~, no spaces)",
        ),
    ],
)
def test_a_cassette_of_the_wrong_shape_is_refused_at_load(
    tmp_path: Path, document: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    sentence = f"{path}: not a valid cassette: {problem}"
    with pytest.raises(CassetteError) as info:
        MockSpike(cassette=path)
    assert str(info.value) == sentence
    served = subprocess.run(
        [sys.executable, "-m", "mockspike", "serve", "--port", "0", "--cassette", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode == 2
    assert sentence in served.stderr and "Traceback" not in served.stderr


def test_leftovers_of_a_killed_writer_are_removed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    Cassette.load(path).save()
    stale = tmp_path / ".c.json.k1ll3d_x.tmp"
    stale.write_text('{"half": ')
    unrelated = tmp_path / ".other.json.k1ll3d_x.tmp"
    unrelated.write_text("")
    Cassette.load(path)
    assert not stale.exists() and unrelated.exists()


# -- secrets --------------------------------------------------------------------------------


def test_no_cookie_goes_from_one_client_to_another(tmp_path: Path) -> None:
    origin = MockSpike(journal_raw=True)  # the test reads the cookies the origin received
    origin.on(text="log me in", times=1).fail(400, headers={"set-cookie": "session=alice"})
    with origin.serve() as url:
        fake = MockSpike(cassette=tmp_path / "c.json", record_mode="all", upstream=url)
        with client(fake) as alice, client(fake) as bob:
            assert "session=alice" in alice.post(
                "/v1/messages", json=body("log me in")
            ).headers.get("set-cookie", "")
            assert bob.post("/v1/messages", json=body("hello")).status_code == 200
            assert "cookie" not in origin.requests.last.headers
            alice.post("/v1/messages", json=body("again"), headers={"cookie": "session=alice"})
            assert origin.requests.last.headers["cookie"] == "session=alice"  # her own


def test_upstream_url_credentials_never_show(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "hunter2-upstream-PASSWORD"
    dead = MockSpike(
        cassette=tmp_path / "a.json",
        record_mode="all",
        upstream=f"http://alice:{password}@127.0.0.1:9",
    )
    with client(dead) as http:
        answer = http.post("/v1/messages", json=body("hi"))
    assert answer.status_code == 502
    assert "cannot reach the upstream http://127.0.0.1:9" in answer.json()["error"]["message"]
    origin = MockSpike(journal_raw=True)  # the test reads the headers the origin received
    with origin.serve() as url:
        live = MockSpike(
            cassette=tmp_path / "b.json",
            record_mode="all",
            upstream=url.replace("http://", f"http://alice:{password}@"),
        )
        with client(live) as http:
            assert http.post("/v1/messages", json=body("hi")).status_code == 200
            sent = origin.requests.last.headers
            assert sent["authorization"].startswith("Basic ")  # the URL's credentials
            mine = {**HEADERS, "authorization": "Bearer sk-own"}
            assert http.post("/v1/messages", json=body("hi"), headers=mine).status_code == 200
            assert origin.requests.last.headers["authorization"] == "Bearer sk-own"
    shown = [
        answer.text,
        caplog.text,
        json.dumps([e.to_json() for e in dead.requests]),
        json.dumps([e.to_json() for e in live.requests]),
        (tmp_path / "b.json").read_text(),
        repr(vars(live.engine.front)),
    ]
    assert not [text for text in shown if password in text]


# -- bursts past the upstream pool ----------------------------------------------------------


async def _burst(url: str, count: int, tag: str) -> list[tuple[int, bytes]]:
    async def one(http: httpx.AsyncClient, n: int) -> tuple[int, bytes]:
        async with http.stream("POST", "/v1/messages", json=body(f"{tag} {n}", stream=True)) as r:
            return r.status_code, await r.aread()

    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=120, limits=limits) as http:
        return await asyncio.gather(*[one(http, n) for n in range(count)])


@pytest.mark.parametrize(
    ("count", "limits"),
    [(200, {}), (40, {"max_recordings": 4, "queue_timeout": 0.2})],
    ids=["200-default-pool", "40-past-a-pool-of-4"],
)
def test_a_burst_of_streaming_recordings_is_answered_or_clearly_refused(
    tmp_path: Path, count: int, limits: dict[str, Any]
) -> None:
    """A proxy used to wedge for good at 141 concurrent streaming recordings."""
    origin = MockSpike(pacing=Pacing(ttft=0.2, tokens_per_second=50))
    path = tmp_path / "burst.json"
    with origin.serve() as upstream:
        recorder = MockSpike(cassette=path, record_mode="new_episodes", upstream=upstream, **limits)
        with recorder.serve() as url:
            answers = asyncio.run(_burst(url, count, "burst"))
            refused = [raw for status, raw in answers if status == 529]
            completed = [raw for status, raw in answers if status == 200]
            assert len(refused) + len(completed) == count
            assert all(raw.rstrip().endswith(b'data: {"type":"message_stop"}') for raw in completed)
            for raw in refused:
                error = json.loads(raw)["error"]
                assert error["type"] == "overloaded_error"
                assert "in flight to the upstream" in error["message"]
            assert bool(refused) == bool(limits)  # 4 slots held >= 0.4 s, waits of 0.2 s
            after = httpx.post(f"{url}/v1/messages", json=body("after"), headers=HEADERS)
            assert after.status_code == 200  # still serving
    assert len(Cassette.load(path).interactions) == len(completed) + 1
