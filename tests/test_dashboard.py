"""The dashboard in a real browser (headless Chromium from the system, driven by Playwright):
a request appears live, its detail opens, the filter narrows the journal, and a cassette miss
shows the closest recorded request and the diff. Also the event stream and the state routes
over plain HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from tests.conftest import chromium

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"x-api-key": "sk-live-secret-1234", "anthropic-version": "2023-06-01"}
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Classify this support ticket: my order is late."}],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def post(url: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(url + "/v1/messages", json=body, headers={**HEADERS, **headers})


def test_requests_appear_live_open_filter_and_misses_show_their_diff(
    browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    fake = MockSpike()
    fake.on(text="ticket", name="triage").reply("Logistics — delivery delay.")
    with fake.dashboard() as url:
        base = url.removesuffix("/_mockspike/")
        page = browser.new_page(viewport={"width": 1500, "height": 820})
        page.goto(url + "?live=stream")  # a headless browser would poll by default
        expect(page.locator("#live")).to_have_text("live")
        rows = page.locator("#journal tbody tr")
        expect(rows).to_have_count(0)

        post(base, BODY)  # sent after the page loaded: it must arrive over the event stream
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("rule #1 'triage'")

        fake.fail(429, retry_after=0.01)  # queued: the next request gets it
        post(base, {**BODY, "messages": [{"role": "user", "content": "Hello there"}]})
        post(base, {**BODY, "stream": True, "model": "claude-sonnet-4-6"})
        expect(rows).to_have_count(3)
        expect(page.locator("#journal tbody tr.error")).to_have_count(1)  # the 429

        rows.filter(has_text="claude-sonnet-4-6").click()
        expect(page.locator("#detail-reply-title")).to_contain_text("ended: message_stop")
        expect(page.locator("#detail-reply")).to_contain_text("event: message_stop")
        expect(page.locator("#detail-request")).to_contain_text('"stream": true')

        page.fill("#f-status", "429")
        expect(rows).to_have_count(1)
        page.fill("#f-status", "")
        page.fill("#f-text", "order is late")
        expect(rows).to_have_count(2)
        page.fill("#f-text", "")
        page.fill("#f-model", "sonnet")
        expect(rows).to_have_count(1)
        page.fill("#f-model", "")

        expect(page.locator("#rules")).to_contain_text("rule #1 'triage' on(text='ticket')")
        expect(page.locator("#verdict")).to_contain_text("gave-up")
        expect(page.locator("#totals")).to_contain_text("requests")

        # a cassette miss, with the closest recorded request and how it differs
        cassette = tmp_path / "triage.json"
        recorder = MockSpike(cassette=cassette, record_mode="once", upstream=base)
        with recorder, recorder.serve() as recording:
            post(recording, BODY)
        fake.use_cassette(cassette)
        post(base, {**BODY, "max_tokens": 99})
        miss = page.locator("#journal tbody tr.miss")
        expect(miss).to_have_count(1)
        expect(miss).to_contain_text("cassette miss")
        miss.click()
        diff = page.locator("#detail-miss pre")
        expect(diff).to_contain_text("Closest recorded request: POST /v1/messages")
        expect(diff.locator(".del")).to_contain_text("64")
        expect(diff.locator(".add")).to_contain_text("99")

        page.screenshot(path=str(tmp_path / "dashboard.png"))
        if os.environ.get("MOCKSPIKE_SCREENSHOT"):
            page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))

        page.click("#reset")
        expect(rows).to_have_count(0)
        page.close()


def test_the_page_shows_no_api_key(browser: Any) -> None:
    fake = MockSpike()
    with fake.dashboard() as url:
        base = url.removesuffix("/_mockspike/")
        post(base, BODY)
        page = browser.new_page()
        page.goto(url)
        page.locator("#journal tbody tr").first.click()
        page.locator("#detail-headers").wait_for()
        assert "sk-live-secret-1234" not in page.content()


def test_event_stream_sends_entries_as_they_are_appended() -> None:
    fake = MockSpike()
    with fake.serve() as base, httpx.Client(base_url=base, timeout=10) as client:
        with client.stream("GET", "/_mockspike/events") as events:
            lines = events.iter_lines()
            assert next(lines) == "retry: 1000"
            post(base, BODY)
            event = [next(lines) for _ in range(3)]
            assert event[0] == "" and event[1] == "event: entry"
            entry = json.loads(event[2].removeprefix("data: "))
            assert entry["number"] == 1 and entry["status"] == 200
            assert entry["model"] == "claude-haiku-4-5"
        client.post("/_mockspike/reset", json={})
    assert fake.requests._listeners == []  # the closed stream unsubscribed


def test_state_verdict_and_one_request_over_http() -> None:
    fake = MockSpike()
    fake.fail(400)
    with fake.serve() as base, httpx.Client(base_url=base, timeout=10) as client:
        post(base, BODY)
        post(base, BODY)
        state = client.get("/_mockspike/state").json()
        assert state["totals"]["requests"] == 2 and state["totals"]["errors"] == 1
        assert state["rules"][0]["calls"] == 1
        assert all("secret" not in b["key"] for b in state["buckets"])
        verdict = client.get("/_mockspike/verdict").json()
        assert [f["rule"] for f in verdict["findings"]] == ["retried-non-retryable"]
        one = client.get("/_mockspike/requests/2").json()
        assert one["number"] == 2
        assert json.loads(one["reply"]["body"])["id"].startswith("msg_")
        for path in ("/_mockspike/", "/_mockspike/dashboard"):
            page = client.get(path)
            assert page.headers["content-type"].startswith("text/html")
            assert "/_mockspike/dashboard/app.js" in page.text
        script = client.get("/_mockspike/dashboard/app.js").text
        assert "http://" not in script and "https://" not in script  # nothing from elsewhere


def test_the_page_shows_each_requests_dialect(browser: Any) -> None:
    from playwright.sync_api import expect

    fake = MockSpike()
    with fake.dashboard() as url:
        base = url.removesuffix("/_mockspike/")
        post(base, BODY)
        chat = {"model": "claude-haiku-4-5", "messages": BODY["messages"], "seed": 7}
        httpx.post(
            base + "/v1/chat/completions", json=chat, headers={"authorization": "Bearer sk-x"}
        ).raise_for_status()
        page = browser.new_page(viewport={"width": 1500, "height": 820})
        page.goto(url)
        rows = page.locator("#journal tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("#journal tbody td.dialect")).to_have_text(["openai", "anthropic"])
        rows.filter(has_text="/v1/chat/completions").click()
        expect(page.locator("#detail-ignored")).to_have_text("seed")
        expect(page.locator("#detail-translated")).to_contain_text('"max_tokens": 8192')
        rows.filter(has_text="/v1/messages").click()
        expect(page.locator("#detail-openai")).to_be_hidden()
        page.close()
