"""Scripting without Python, against real `mockspike serve` processes: `--script PATH
--watch` reloads on change (in memory and on a shared Redis), scenarios move through their
states exactly once across processes, and templates are refused at start when they reach
beyond the request."""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike.testing.redis_server import RedisServer
from mockspike.testing.serve_process import start_serve
from tests.docs_pages import block

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
TOOLS = [{"name": "lookup", "input_schema": {"type": "object"}}]
needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (scripts/test installs it)"
)


def ask(url: str, text: str = "hello", **extra: Any) -> httpx.Response:
    body = {"model": "claude-haiku-4-5", "max_tokens": 32, **extra}
    body.setdefault("messages", [{"role": "user", "content": text}])
    return httpx.post(url + "/v1/messages", json=body, headers=HEADERS, timeout=10)


def answer(url: str, text: str = "hello") -> str:
    response = ask(url, text)
    assert response.status_code == 200, response.text
    return str(response.json()["content"][0]["text"])


def rules(*texts: str, **match: Any) -> str:
    return json.dumps(
        {"rules": [{"match": match or None, "respond": {"reply": {"text": t}}} for t in texts]}
    )


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll `check` until it holds or `seconds` pass (a bounded wait, not a timing claim)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def write(path: Path, text: str) -> None:
    """Write the whole file at once, as editors that save by rename do."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)


class Served:
    """`mockspike serve --quiet ARGS` processes; `stop()` ends them and gives their stderr."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        self.log = ""

    def __call__(self, *args: str) -> str:
        process, url = start_serve("--quiet", *args)
        self.processes.append(process)
        return url

    def stop(self) -> str:
        for process in self.processes:
            process.terminate()
            self.log += process.communicate(timeout=10)[1]
        self.processes.clear()
        return self.log


@pytest.fixture
def served() -> Iterator[Served]:
    started = Served()
    yield started
    started.stop()


def test_watch_reloads_an_edit_keeps_the_journal_and_refuses_a_broken_one(
    served: Served, tmp_path: Path
) -> None:
    script = tmp_path / "rules.json"
    script.write_text(rules("first"))
    url = served("--script", str(script), "--watch")
    assert answer(url) == "first"

    write(script, rules("second"))
    assert eventually(lambda: answer(url) == "second")

    write(script, '{"rules": [{"respond": {"reply": {"txt": "typo"}}}]}')
    assert eventually(
        lambda: httpx.get(url + "/_mockspike/script").json()["sources"][0]["error"] is not None
    )
    assert answer(url) == "second"  # the last good rules stay
    status = httpx.get(url + "/_mockspike/script").json()["sources"][0]
    assert (
        "rules[0].respond[0]: reply: unknown field 'txt'; did you mean 'text'?" in status["error"]
    )

    write(script, rules("third"))
    assert eventually(lambda: answer(url) == "third")
    journal = httpx.get(url + "/_mockspike/requests").json()["requests"]
    assert len(journal) >= 4  # every request since the start: nothing was restarted
    log = served.stop()
    assert f"reloaded {script}" in log and f"not reloaded: {script}: rules[0]" in log
    assert "unknown field 'txt'" in log and "the 1 rule loaded before stays in force" in log


def test_watch_a_folder_of_files_and_keep_rules_added_through_the_admin_api(
    served: Served, tmp_path: Path
) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "rules:\n  - match: {text: alpha}\n    respond: {reply: {text: A}}\n"
    )
    url = served("--script", str(folder), "--watch")
    added = {"match": {"text": "admin"}, "respond": {"reply": {"text": "from the admin API"}}}
    httpx.post(url + "/_mockspike/rules", json=added).raise_for_status()
    assert answer(url, "alpha") == "A"

    write(folder / "b.json", rules("B", text="beta"))
    assert eventually(lambda: answer(url, "beta") == "B")
    assert answer(url, "alpha") == "A" and answer(url, "admin") == "from the admin API"
    listed = [r["rule"] for r in httpx.get(url + "/_mockspike/rules").json()["rules"]]
    assert [r.split(" ", 2)[2] for r in listed] == [
        "on(text='alpha')",
        "on(text='beta')",
        "on(text='admin')",
    ]


def test_a_script_that_does_not_load_stops_serve_with_the_validate_message(
    tmp_path: Path,
) -> None:
    script = tmp_path / "rules.yaml"
    script.write_text(
        "rules:\n  - name: greet\n    respond: {reply: {text: '{{ body.__class__ }}'}}\n"
    )
    command = ["serve", "--port", "0", "--script", str(script)]
    served = subprocess.run(
        [sys.executable, "-m", "mockspike", *command], capture_output=True, text=True, timeout=60
    )
    validated = subprocess.run(
        [sys.executable, "-m", "mockspike", "validate", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode == 2 and validated.returncode == 1
    problem = "rules[0] ('greet').respond[0]: template '{{ body.__class__ }}': attribute"
    assert problem in served.stderr and problem in validated.stderr


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (scripts/test installs it)")
    with RedisServer() as server:
        yield server.url


@needs_redis
def test_watch_on_shared_state_reloads_every_process_once(
    served: Served, tmp_path: Path, redis_url: str
) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    script = tmp_path / "rules.json"
    script.write_text(rules("one", "never", text="hello"))
    urls = [served("--state", redis_url, "--script", str(script), "--watch") for _ in range(2)]
    admin = {"times": 1, "match": {"text": "once"}, "respond": {"reply": {"text": "admin"}}}
    httpx.post(urls[0] + "/_mockspike/rules", json=admin).raise_for_status()
    assert answer(urls[1], "once") == "admin"

    write(script, rules("two", text="hello"))
    for url in urls:
        assert eventually(lambda url=url: answer(url) == "two")
    listed = httpx.get(urls[1] + "/_mockspike/rules").json()["rules"]
    assert [(r["rule"].split(" ", 2)[2], r["calls"]) for r in listed] == [
        ("on(text='hello')", 2),
        ("on(text='once')", 1),  # the admin rule kept its one use: not answered again
    ]
    assert answer(urls[0], "once") != "admin"


SCENARIO = {
    "rules": [
        {
            "scenario": "refund",
            "state": "started",
            "next_state": "looking_up",
            "match": {"text": "refund"},
            "respond": {"reply_tool_use": {"name": "lookup", "input": {"order": "42"}}},
        },
        {
            "scenario": "refund",
            "state": "looking_up",
            "match": {"text": "refund"},
            "respond": {"reply": {"text": "Still looking it up ({{ count }})."}},
        },
    ]
}


@needs_redis
def test_a_scenario_step_is_taken_once_across_processes(
    served: Served, tmp_path: Path, redis_url: str
) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    script = tmp_path / "refund.json"
    script.write_text(json.dumps(SCENARIO))
    urls = [served("--state", redis_url, "--script", str(script)) for _ in range(2)]

    def one(i: int) -> str:
        response = ask(urls[i % 2], "please refund", tools=TOOLS)
        assert response.status_code == 200, response.text
        return str(response.json()["content"][0]["type"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        kinds = list(pool.map(one, range(16)))
    assert kinds.count("tool_use") == 1 and kinds.count("text") == 15
    assert httpx.get(urls[1] + "/_mockspike/scenarios").json() == {
        "scenarios": {"refund": "looking_up"}
    }
    journal = httpx.get(urls[0] + "/_mockspike/requests").json()["requests"]
    assert sorted(e["scenario"]["state"] for e in journal) == ["looking_up"] * 15 + ["started"]

    put = httpx.put(urls[0] + "/_mockspike/scenarios/refund", json={"state": "started"})
    assert put.json() == {"scenario": "refund", "state": "started"}
    assert one(1) == "tool_use"
    httpx.post(urls[1] + "/_mockspike/scenarios/reset", json={}).raise_for_status()
    assert httpx.get(urls[0] + "/_mockspike/scenarios").json()["scenarios"] == {"refund": "started"}
    bad = httpx.put(urls[0] + "/_mockspike/scenarios/refund", json={"state": 3})
    assert bad.status_code == 400 and "a non-empty string" in bad.text


@pytest.mark.sdk
def test_the_scenario_page_example_runs_with_the_sdk_against_serve(
    served: Served, tmp_path: Path
) -> None:
    script = tmp_path / "refund.yaml"
    script.write_text(block("how-to/script-files.md", "yaml", "# refund.yaml"))
    url = served("--script", str(script))
    example = block("how-to/script-files.md", "py", "def refund(client")
    namespace: dict[str, Any] = {}
    exec(
        compile(example.replace("http://127.0.0.1:8000", url), "how-to/script-files.md", "exec"),
        namespace,
    )
    assert httpx.get(url + "/_mockspike/scenarios").json() == {"scenarios": {"refund": "refunded"}}
    # set back to the start, the conversation runs again (the holding rule's second answer)
    httpx.put(url + "/_mockspike/scenarios/refund", json={"state": "started"}).raise_for_status()
    assert namespace["refund"](namespace["client"], "7") == (
        {"order_id": "7"},
        "Still looking the order up (answer 2).",
        "Refunded: order 7 paid back.",
    )
    journal = httpx.get(url + "/_mockspike/requests").json()["requests"]
    assert [e["scenario"]["state"] for e in journal] == ["started", "looking_up", "looking_up"] * 2


def test_the_dashboard_says_what_was_reloaded_and_what_was_refused(tmp_path: Path) -> None:
    from mockspike import MockSpike
    from tests.conftest import chromium

    script = tmp_path / "rules.json"
    script.write_text(json.dumps(SCENARIO))
    with MockSpike() as fake, chromium() as browser:
        watcher = fake.watch_script(script)
        with fake.dashboard() as url:
            from playwright.sync_api import expect

            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            expect(page.locator("#scripts")).to_contain_text(f"{script}: 2 rules, loaded")
            expect(page.locator("#scenarios")).to_contain_text("refund: started")

            write(script, '{"rules": [{"respond": {"fail": {"status": 7}}}]}')
            assert eventually(lambda: watcher.status.error is not None)
            ask(
                url.removesuffix("/_mockspike/"), "please refund", tools=TOOLS
            )  # the panel refreshes
            expect(page.locator("#scripts")).to_contain_text("not reloaded")
            expect(page.locator("#scripts")).to_contain_text("status 7 is not one this profile")
            expect(page.locator("#scripts")).to_contain_text("(2 rules before it stay)")
            expect(page.locator("#scenarios")).to_contain_text("refund: looking_up")
