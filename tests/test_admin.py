"""The admin API and script files: the same scripting, from any language."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from tests.conftest import HEADERS, SEED_BODY, call_asgi, serve_process


@pytest.fixture
def served() -> Iterator[tuple[MockSpike, httpx.Client]]:
    fake = MockSpike()
    with fake.serve() as url, httpx.Client(base_url=url, timeout=10) as client:
        yield fake, client


def ask(client: httpx.Client, **changes: Any) -> httpx.Response:
    return client.post("/v1/messages", headers=HEADERS, json={**SEED_BODY, **changes})


def test_health(served: tuple[MockSpike, httpx.Client]) -> None:
    assert served[1].get("/_mockspike/health").json() == {"status": "ok", "profile": "bytespike"}


def test_rules_replies_failures_and_journal(served: tuple[MockSpike, httpx.Client]) -> None:
    fake, client = served
    added = client.post(
        "/_mockspike/rules",
        json={
            "match": {"text": "late"},
            "name": "triage",
            "respond": [{"reply": {"text": "Logistics — delivery delay."}}],
        },
    )
    assert added.status_code == 201
    assert added.json()["added"][0]["rule"] == "rule #1 'triage' on(text='late')"
    client.post("/_mockspike/failures", json={"status": 429, "times": 1, "retry_after": 0.5})

    first = ask(client)  # a queued failure answers first, before the standing rule
    assert first.status_code == 429 and first.headers["retry-after-ms"] == "500"
    assert ask(client).json()["content"][0]["text"] == "Logistics — delivery delay."
    client.post("/_mockspike/replies", json={"text": "queued"})
    assert ask(client).json()["content"][0]["text"] == "queued"

    journal = client.get("/_mockspike/requests").json()["requests"]
    assert [r["status"] for r in journal] == [429, 200, 200]
    assert journal[1]["rule"] == "rule #1 'triage' on(text='late')"
    assert journal[1]["body"]["model"] == "claude-haiku-4-5"
    assert journal[0]["response"] == {"fail": {"status": 429, "type": None}}
    rules = client.get("/_mockspike/rules").json()["rules"]
    assert [r["calls"] for r in rules] == [1, 1, 1]
    assert len(fake.requests) == 3  # one implementation: Python sees the same journal

    assert client.post("/_mockspike/reset", json={}).json() == {"status": "reset"}
    assert client.get("/_mockspike/requests").json() == {"requests": []}
    assert fake.rules == []


def test_faults_over_admin(served: tuple[MockSpike, httpx.Client]) -> None:
    _, client = served
    client.post("/_mockspike/faults", json={"kind": "break", "after": 2, "error": {"status": 529}})
    raw = ask(client, stream=True).content
    assert raw.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        + raw.split(b'overloaded_error",', 1)[1]
    )
    assert raw.count(b"event: ") == 3


def test_any_answer_verb_over_admin(served: tuple[MockSpike, httpx.Client]) -> None:
    _, client = served
    added = client.post("/_mockspike/answers/refuse", json={"category": "bio", "times": 2})
    assert added.status_code == 201
    for _ in range(2):
        answer = ask(client).json()
        assert answer["stop_reason"] == "refusal" and answer["stop_details"]["category"] == "bio"
    refused = client.post("/_mockspike/answers/refuze", json={})
    assert refused.status_code == 400
    assert "one of reply, reply_tool_use" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"respond": {"explode": {}}},
            "rules[0].respond[0]: one of reply, reply_tool_use, reply_web_search,",
        ),
        (
            {"match": {"colour": "red"}, "respond": {"reply": {"text": "x"}}},
            "unknown matcher 'colour'",
        ),
        ({"respond": {"fail": {"status": 418}}}, "status 418 is not one this profile sends"),
        ({"match": {"text": "x"}}, "rules[0]: 'respond' is required"),
    ],
)
def test_bad_admin_specs_are_clear_400s(
    served: tuple[MockSpike, httpx.Client], payload: dict, message: str
) -> None:
    response = served[1].post("/_mockspike/rules", json=payload)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


async def _call(app: Any, client: tuple[str, int], headers: dict[str, str]) -> int:
    sent = await call_asgi(app, "GET", "/_mockspike/rules", headers=headers, client=client)
    return int(sent[0]["status"])


@pytest.mark.anyio
async def test_admin_refused_off_loopback_without_token() -> None:
    """No traffic leaves loopback: the ASGI app is called with a public client address."""
    assert await _call(MockSpike().app, ("192.0.2.10", 8000), {}) == 403
    assert await _call(MockSpike().app, ("127.0.0.1", 8000), {}) == 200
    guarded = MockSpike(admin_token="s3cret").app
    assert await _call(guarded, ("192.0.2.10", 8000), {}) == 403
    assert await _call(guarded, ("192.0.2.10", 8000), {"x-mockspike-admin-token": "s3cret"}) == 200


def test_script_file_loads_in_python(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(
        "rules:\n"
        "  - match: {text: late}\n"
        "    respond:\n"
        "      - reply_tool_use: {name: lookup_order, input: {order: 42}}\n"
        "      - reply: {text: Shipped yesterday., timing: {ttft: 0}}\n"
    )
    fake = MockSpike()
    (rule,) = fake.load_script(path)
    assert rule.describe() == "rule #1 on(text='late')"
    assert len(rule.responses) == 2


def test_bad_script_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        MockSpike().load_script(path)


def test_serve_with_script_and_admin_token(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"rules": [{"respond": {"reply": {"text": "scripted"}}}]}))
    with serve_process("--script", str(path), "--admin-token", "tok") as (process, url):
        with httpx.Client(base_url=url) as client:
            assert ask(client).json()["content"][0]["text"] == "scripted"
            assert client.get("/_mockspike/health").status_code == 200  # needs no token
            assert client.get("/_mockspike/rules").status_code == 403
            assert (
                client.get(
                    "/_mockspike/rules", headers={"x-mockspike-admin-token": "tok"}
                ).status_code
                == 200
            )
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_serve_with_a_broken_script_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"rules": [{"respond": {"fail": {"status": 999}}}]}))
    result = subprocess.run(
        [sys.executable, "-m", "mockspike", "serve", "--script", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "status 999 is not one this profile sends" in result.stderr
    assert "Traceback" not in result.stderr
