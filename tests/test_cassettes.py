"""Record through a second mockspike acting as the real upstream, then replay offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from mockspike import MockSpike
from mockspike.cassettes import Cassette

SECRET = "sk-live-7f3a9c-secret-key"
PROMPT = [{"role": "user", "content": "Classify this support ticket: My order is late."}]
TOOL = {
    "name": "lookup_order",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
}


@pytest.fixture
def upstream() -> Iterator[tuple[MockSpike, str]]:
    """The 'real gateway': it only accepts the secret key, so forwarding is proven."""
    fake = MockSpike(config={"keys": {SECRET: {}}})
    fake.on(text="weather").reply_tool_use("lookup_order", {"order_id": "42"})
    with fake.serve() as url:
        yield fake, url


def client_run(base_url: str) -> dict[str, Any]:
    """What a client sees in one run: replies, a stream, a tool call, an error, a count."""
    client = anthropic.Anthropic(base_url=base_url, api_key=SECRET, max_retries=0)
    plain = client.messages.create(model="claude-haiku-4-5", max_tokens=256, messages=PROMPT)
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=PROMPT) as s:
        streamed_text = "".join(s.text_stream)
        streamed = s.get_final_message()
    tool = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=256,
        tools=[TOOL],
        messages=[{"role": "user", "content": "weather?"}],
    )
    with pytest.raises(anthropic.BadRequestError) as error:
        client.messages.create(model="claude-haiku-4-5", max_tokens=9000, messages=PROMPT)
    counted = client.messages.count_tokens(model="claude-haiku-4-5", messages=PROMPT)
    return {
        "plain": plain.to_dict(),
        "streamed": (streamed_text, streamed.id, streamed.usage.output_tokens),
        "tool": tool.to_dict(),
        "error": error.value.body,
        "count": counted.input_tokens,
    }


@pytest.mark.sdk
def test_record_then_replay_offline(tmp_path: Path) -> None:
    origin = MockSpike(config={"keys": {SECRET: {}}})  # the 'real gateway' for this run
    origin.on(text="weather").reply_tool_use("lookup_order", {"order_id": "42"})
    path = tmp_path / "run.json"
    with (
        origin.serve() as origin_url,
        MockSpike(cassette=path, record_mode="once", upstream=origin_url).serve() as url,
    ):
        recorded = client_run(url)
    # the upstream server is stopped now: what follows runs offline
    assert len(origin.requests) == 5  # every call really went upstream
    cassette = json.loads(path.read_text())
    assert cassette["version"] == 1 and len(cassette["interactions"]) == 5
    assert SECRET.encode() not in path.read_bytes()  # the key never reaches the disk
    stream = cassette["interactions"][1]["response"]
    assert [e["event"] for e in stream["events"]][:2] == ["message_start", "content_block_start"]
    assert recorded["tool"]["content"][0]["input"] == {"order_id": "42"}

    with MockSpike(cassette=path, record_mode="none", upstream=origin_url).serve() as url:
        replayed = client_run(url)
    assert replayed == recorded
    assert len(origin.requests) == 5


@pytest.mark.sdk
def test_replay_needs_no_upstream_at_all(upstream: tuple[MockSpike, str], tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    with MockSpike(cassette=path, record_mode="once", upstream=upstream[1]).serve() as url:
        recorded = client_run(url)
    dead_port = upstream[1].rsplit(":", 1)[1]
    replay = MockSpike(cassette=path, record_mode="none", upstream=f"http://127.0.0.1:{dead_port}")
    with replay.serve() as url:
        assert client_run(url) == recorded


@pytest.mark.sdk
def test_miss_is_a_clear_400_the_sdk_does_not_retry(tmp_path: Path, upstream: Any) -> None:
    path = tmp_path / "run.json"
    with MockSpike(cassette=path, record_mode="once", upstream=upstream[1]).serve() as url:
        anthropic.Anthropic(base_url=url, api_key=SECRET).messages.create(
            model="claude-haiku-4-5", max_tokens=64, messages=PROMPT
        )
    fake = MockSpike(cassette=path, record_mode="none")
    client = fake.anthropic_client(max_retries=2)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "Something else"}],
        )
    message = info.value.body["error"]["message"]
    assert (
        f"no interaction in cassette {path} matches POST /v1/messages (record mode none)" in message
    )
    assert '- messages.0.content: "Classify this support ticket: My order is late."' in message
    assert '+ messages.0.content: "Something else"' in message
    assert len(fake.requests) == 1 and fake.requests.last.cassette_miss


@pytest.mark.sdk
def test_identical_requests_replay_in_recorded_order(tmp_path: Path) -> None:
    origin = MockSpike()
    origin.on().reply("first").reply("second")
    path = tmp_path / "order.json"
    with origin.serve() as origin_url:
        recorder = MockSpike(cassette=path, record_mode="new_episodes", upstream=origin_url)
        client = recorder.anthropic_client()
        texts = [
            client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)
            .content[0]
            .text
            for _ in range(2)
        ]
    assert texts == ["first", "second"]
    replay = MockSpike(cassette=path).anthropic_client()
    again = [
        replay.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)
        .content[0]
        .text
        for _ in range(3)
    ]
    assert again == ["first", "second", "second"]


@pytest.mark.sdk
def test_record_modes(tmp_path: Path, upstream: tuple[MockSpike, str]) -> None:
    origin, url = upstream
    path = tmp_path / "modes.json"

    def ask(fake: MockSpike, text: str) -> None:
        fake.anthropic_client(api_key=SECRET).messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": text}]
        )

    ask(MockSpike(cassette=path, record_mode="once", upstream=url), "a")
    once_again = MockSpike(cassette=path, record_mode="once", upstream=url)
    ask(once_again, "a")  # exists: replays
    with pytest.raises(anthropic.BadRequestError):
        ask(once_again, "b")  # exists: no new recording
    episodes = MockSpike(cassette=path, record_mode="new_episodes", upstream=url)
    ask(episodes, "a")
    ask(episodes, "b")
    assert len(Cassette.load(path).interactions) == 2
    assert len(origin.requests) == 2  # "a" once, "b" once
    ask(MockSpike(cassette=path, record_mode="all", upstream=url), "c")
    assert [
        i["request"]["body"]["messages"][0]["content"] for i in Cassette.load(path).interactions
    ] == ["c"]


def test_matching_ignores_volatile_paths_and_takes_custom_matchers(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    cassette = Cassette.load(path)
    request = {
        "method": "POST",
        "path": "/v1/messages",
        "headers": {},
        "body": {
            "model": "claude-haiku-4-5",
            "max_tokens": 8,
            "messages": PROMPT,
            "metadata": {"user_id": "u-1"},
        },
    }
    cassette.add(request, {"status": 200, "headers": {}, "body": {"n": 1}})
    other_user = {**request, "body": {**request["body"], "metadata": {"user_id": "u-2"}}}
    assert cassette.take(other_user) is not None
    last_text = lambda r: r["body"]["messages"][-1]["content"]  # noqa: E731
    by_text = Cassette(path, cassette.interactions, match_on=("path", last_text))
    bigger = {**request, "body": {**request["body"], "max_tokens": 999}}
    assert by_text.take(bigger) is not None
    with pytest.raises(ValueError, match="unknown matcher"):
        Cassette(path, match_on=("colour",))


def test_secrets_and_configured_paths_are_redacted(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    cassette = Cassette.load(
        path, redact_headers=frozenset({"x-org"}), redact_paths=("metadata.user_id",)
    )
    cassette.add(
        {
            "method": "POST",
            "path": "/v1/messages",
            "headers": {"x-api-key": SECRET, "authorization": f"Bearer {SECRET}", "x-org": "acme"},
            "body": {"metadata": {"user_id": "alice@example.com"}},
        },
        {"status": 200, "headers": {"set-cookie": "session=1"}, "body": {}},
    )
    cassette.save()
    text = path.read_text()
    for secret in (SECRET, "acme", "alice@example.com", "session=1"):
        assert secret not in text
    assert text.count("<redacted>") == 5


def test_atomic_write_keeps_the_previous_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.json"
    cassette = Cassette.load(path)
    cassette.add(
        {"method": "GET", "path": "/v1/models", "headers": {}, "body": None},
        {"status": 200, "headers": {}, "body": {"data": []}},
    )
    cassette.save()
    before = path.read_bytes()
    cassette.add(
        {"method": "GET", "path": "/v1/models/x", "headers": {}, "body": None},
        {"status": 404, "headers": {}, "body": {}},
    )

    def killed(fd: int) -> None:
        raise KeyboardInterrupt  # the recorder dies in the middle of writing

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        cassette.save()
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))  # no temporary left (the lock file stays)


@pytest.mark.sdk
def test_concurrent_requests_are_all_recorded(
    tmp_path: Path, upstream: tuple[MockSpike, str]
) -> None:
    path = tmp_path / "c.json"
    with MockSpike(cassette=path, record_mode="new_episodes", upstream=upstream[1]).serve() as url:
        client = anthropic.Anthropic(base_url=url, api_key=SECRET, max_retries=0)

        def ask(n: int) -> None:
            client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=8,
                messages=[{"role": "user", "content": f"question {n}"}],
            )

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(Cassette.load(path).interactions) == 16


@pytest.mark.sdk
def test_slow_upstream_does_not_block_other_clients(tmp_path: Path) -> None:
    origin = MockSpike()
    origin.on(text="slow").fault("stall", seconds=2)
    path = tmp_path / "s.json"
    with (
        origin.serve() as origin_url,
        MockSpike(cassette=path, record_mode="new_episodes", upstream=origin_url).serve() as url,
    ):
        client = anthropic.Anthropic(base_url=url, api_key=SECRET, max_retries=0)
        slow = threading.Thread(
            target=lambda: client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=8,
                messages=[{"role": "user", "content": "slow"}],
            )
        )
        slow.start()
        fast = client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=PROMPT)
        assert fast.content and slow.is_alive()  # answered while the slow one still waits
        slow.join()
    assert len(Cassette.load(path).interactions) == 2


def test_recorded_timing_is_replayed_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    cassette = Cassette.load(path)
    events = [
        {"t": 0.0, "event": "message_start", "data": {"type": "message_start"}},
        {"t": 0.25, "event": "message_stop", "data": {"type": "message_stop"}},
    ]
    cassette.add(
        {"method": "POST", "path": "/v1/messages", "headers": {}, "body": {"a": 1}},
        {"status": 200, "headers": {"content-type": "text/event-stream"}, "events": events},
    )
    cassette.save()
    from mockspike import WireRequest

    request = WireRequest("POST", "/v1/messages", {}, b'{"a": 1}')
    paced = MockSpike(cassette=path, replay_timing="recorded").engine.handle(request)
    instant = MockSpike(cassette=path).engine.handle(request)
    assert [d for d, _ in paced.iter_chunks()] == [0.0, 0.25]
    assert [d for d, _ in instant.iter_chunks()] == [0.0, 0.0]


@pytest.mark.sdk
def test_upstream_down_while_recording_is_a_502(tmp_path: Path) -> None:
    fake = MockSpike(
        cassette=tmp_path / "x.json", record_mode="once", upstream="http://127.0.0.1:9"
    )
    response = httpx.Client(transport=fake.transport(), base_url="http://mockspike.test").post(
        "/v1/messages",
        json={"model": "claude-haiku-4-5", "max_tokens": 8, "messages": PROMPT},
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 502
    assert "cannot reach the upstream http://127.0.0.1:9" in response.json()["error"]["message"]


VCR_CASSETTE = """\
interactions:
- request:
    body: '{"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}'
    headers:
      x-api-key: [sk-vcr-secret]
      anthropic-version: ['2023-06-01']
    method: POST
    uri: https://api.anthropic.com/v1/messages
  response:
    body: {string: '{"id":"msg_01X","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":8,"output_tokens":3}}'}
    headers:
      content-type: [application/json]
    status: {code: 200, message: OK}
- request:
    body: '{"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}], "stream": true}'
    headers: {}
    method: POST
    uri: https://api.anthropic.com/v1/messages
  response:
    body: {string: "event: message_start\\ndata: {\\"type\\":\\"message_start\\",\\"message\\":{\\"id\\":\\"msg_01Y\\",\\"type\\":\\"message\\",\\"role\\":\\"assistant\\",\\"model\\":\\"claude-haiku-4-5\\",\\"content\\":[],\\"stop_reason\\":null,\\"stop_sequence\\":null,\\"usage\\":{\\"input_tokens\\":8,\\"output_tokens\\":1}}}\\n\\nevent: content_block_start\\ndata: {\\"type\\":\\"content_block_start\\",\\"index\\":0,\\"content_block\\":{\\"type\\":\\"text\\",\\"text\\":\\"\\"}}\\n\\nevent: content_block_delta\\ndata: {\\"type\\":\\"content_block_delta\\",\\"index\\":0,\\"delta\\":{\\"type\\":\\"text_delta\\",\\"text\\":\\"Hello!\\"}}\\n\\nevent: content_block_stop\\ndata: {\\"type\\":\\"content_block_stop\\",\\"index\\":0}\\n\\nevent: message_delta\\ndata: {\\"type\\":\\"message_delta\\",\\"delta\\":{\\"stop_reason\\":\\"end_turn\\",\\"stop_sequence\\":null},\\"usage\\":{\\"output_tokens\\":3}}\\n\\nevent: message_stop\\ndata: {\\"type\\":\\"message_stop\\"}\\n\\n"}
    headers:
      content-type: [text/event-stream]
    status: {code: 200, message: OK}
version: 1
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockspike", "cassette", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.sdk
def test_import_a_vcrpy_cassette_and_replay_it(tmp_path: Path) -> None:
    source, target = tmp_path / "vcr.yaml", tmp_path / "ours.json"
    source.write_text(VCR_CASSETTE)
    result = cli("import", str(source), str(target))
    assert result.returncode == 0, result.stderr
    assert "sk-vcr-secret" not in target.read_text()
    client = MockSpike(cassette=target).anthropic_client()
    args: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    assert client.messages.create(**args).content[0].text == "Hello!"
    with client.messages.stream(**args) as stream:
        assert "".join(stream.text_stream) == "Hello!"
    assert cli("import", str(source), str(target)).returncode == 2  # never overwrites


@pytest.mark.sdk
def test_cassette_tools(tmp_path: Path, upstream: tuple[MockSpike, str]) -> None:
    path = tmp_path / "tools.json"
    with MockSpike(cassette=path, record_mode="once", upstream=upstream[1]).serve() as url:
        client_run(url)
    listed = cli("list", str(path))
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 5
    assert "POST /v1/messages  claude-haiku-4-5  200  json" in listed.stdout
    shown = json.loads(cli("show", str(path), "0").stdout)
    headers = shown["request"]["headers"]
    assert (headers.get("authorization") or headers.get("x-api-key")) == "<redacted>"
    checked = cli("check", str(path))
    assert checked.returncode == 0, checked.stdout
    assert "5 interactions, 0 inconsistent with the contract" in checked.stdout
    redacted = cli("redact", str(path), "--body-path", "messages")
    assert redacted.returncode == 0
    assert "Classify this support ticket" not in path.read_text()
    assert cli("list", str(tmp_path / "missing.json")).returncode == 2


def test_check_reports_drift(tmp_path: Path) -> None:
    path = tmp_path / "drift.json"
    cassette = Cassette.load(path)
    body = {"model": "claude-haiku-4-5", "max_tokens": 9000, "messages": PROMPT}
    cassette.add(
        {"method": "POST", "path": "/v1/messages", "headers": {}, "body": body},
        {"status": 200, "headers": {}, "body": {}},
    )
    cassette.save()
    result = cli("check", str(path))
    assert result.returncode == 1
    assert "interaction 0: recorded 200, but the contract answers 400" in result.stdout
