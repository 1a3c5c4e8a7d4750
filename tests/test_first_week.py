"""A new user's first week, run for real: cassette names, xdist reports, scripting and
config mistakes caught when written, recording litter, the network block, strategies."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from mockspike import strategies as ms
from tests.docs_pages import text

for _name in ("anthropic", "httpx", "httpcore", "httpx2", "httpcore2"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)

pytest_plugins = ["pytester"]

RECORDING_TEST = """
import pytest

def call(client):
    return client.messages.create(
        model="claude-haiku-4-5", max_tokens=8,
        messages=[{"role": "user", "content": "hi"}]).content[0].text

@pytest.mark.mockspike(cassette=True)
def test_call(anthropic_client):
    assert call(anthropic_client) == "recorded"

class TestApi:
    @pytest.mark.mockspike(cassette=True)
    def test_call(self, anthropic_client):
        assert call(anthropic_client) == "recorded"

@pytest.mark.mockspike(cassette=True)
@pytest.mark.parametrize("x", ["a/b", "a:b"])
def test_param(anthropic_client, x):
    assert call(anthropic_client) == "recorded"
"""


@pytest.mark.sdk
def test_own_cassettes_are_named_as_pytest_recording_names_them(
    pytester: pytest.Pytester,
) -> None:
    from mockspike import MockSpike

    root = pytester.path / "app_tests"  # a package name the outer run has not imported
    for package in ("a", "b"):
        (root / package).mkdir(parents=True)
        (root / package / "test_api.py").write_text(RECORDING_TEST)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    origin = MockSpike()
    origin.on().reply("recorded")
    with origin.serve() as url:
        result = pytester.runpytest("--mockspike-record-mode", "once", "--mockspike-upstream", url)
    result.assert_outcomes(passed=8)
    found = sorted(
        str(p.relative_to(pytester.path)) for p in pytester.path.rglob("*.json") if p.is_file()
    )
    expected = [
        f"app_tests/{package}/cassettes/test_api/{name}.json"
        for package in ("a", "b")
        for name in ("TestApi.test_call", "test_call", "test_param[a-b]", "test_param[a-b]")
    ]
    assert sorted(set(found)) == sorted(set(expected))
    assert len(origin.requests) == 6  # a/b and a:b share one file, as pytest-recording's do
    pytester.runpytest().assert_outcomes(passed=8)  # and replays offline


def test_a_cassette_at_the_old_path_says_how_to_move_it(pytester: pytest.Pytester) -> None:
    old = pytester.path / "tests" / "cassettes" / "test_old" / "test_it.json"
    old.parent.mkdir(parents=True)
    old.write_text('{"version": 1, "interactions": []}')
    pytester.makepyfile(
        test_old="""
        import pytest

        @pytest.mark.mockspike(cassette=True)
        def test_it(mockspike):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*cassette=True now names cassettes/test_old/test_it.json*still at "
            "tests/cassettes/test_old/test_it.json*",
            "*git mv 'tests/cassettes/test_old/test_it.json' 'cassettes/test_old/test_it.json'",
        ]
    )
    assert "Traceback" not in result.stdout.str()


XDIST_TESTS = """
import httpx
import pytest

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 8,
        "messages": [{"role": "user", "content": "hi"}]}

@pytest.mark.parametrize("n", range(4))
def test_hammers(mockspike, n):
    mockspike.fail(400)
    with httpx.Client(transport=mockspike.transport(), base_url="http://x") as c:
        c.post("/v1/messages", json=BODY, headers=HEADERS)
        c.post("/v1/messages", json=BODY, headers=HEADERS)
"""


def _mockspike_summary(output: str) -> str:
    return output.split("mockspike verdict", 1)[1].split("passed", 1)[0]


def test_reports_are_the_same_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_xdist=XDIST_TESTS)
    serial = pytester.runpytest_subprocess("-p", "xdist", "-n", "0", "--mockspike-verdict")
    parallel = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--mockspike-verdict")
    serial.assert_outcomes(passed=4)
    parallel.assert_outcomes(passed=4)
    summary = _mockspike_summary(serial.stdout.str())
    assert "8 requests served by mockspike fakes" in summary
    assert summary.count("retried-non-retryable") == 4
    assert _mockspike_summary(parallel.stdout.str()) == summary


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            lambda f: f.reply("hi", usage={"output_tokens": "many"}),
            "reply: usage.output_tokens must be a whole number, not 'many'",
        ),
        (lambda f: f.on(text=5), "on: text must be a string, not 5"),
        (lambda f: f.on(where="x"), "on: where must be a function of the request body"),
        (lambda f: f.on(stream="yes"), "on: stream must be true or false, not 'yes'"),
        (lambda f: f.on(tools=5), "on: tools must be a string or a list of strings, not 5"),
        (lambda f: f.on(tools=[{"name": "x"}]), "on: tools: 0 must be a string, not {'name': 'x'}"),
        (
            lambda f: f.on(model="claude-haiku-4.5"),
            "on: model='claude-haiku-4.5' can never match: the profile serves no such model "
            "(a request for it is answered 404 before any rule); did you mean 'claude-haiku-4-5'?",
        ),
    ],
)
def test_scripting_mistakes_are_refused_when_written(script: object, message: str) -> None:
    from mockspike import MockSpike
    from mockspike.script.checks import ScriptValueError

    fake = MockSpike()
    with pytest.raises(ScriptValueError) as caught:
        script(fake)  # type: ignore[operator]
    assert str(caught.value).startswith(message)
    assert not fake.rules  # a refused rule leaves nothing behind


ASK = {
    "model": "claude-haiku-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "x marks the spot"}],
}


@pytest.mark.sdk
@pytest.mark.parametrize("stream", [False, True])
def test_a_stall_waited_out_answers_with_the_scripted_reply(stream: bool) -> None:
    from mockspike import MockSpike

    fake = MockSpike()
    fake.on(text="x").reply("scripted")
    fake.fault("stall", seconds=0.05)
    with fake.anthropic_client(max_retries=0) as client:
        if stream:
            with client.messages.stream(**ASK) as events:
                text = events.get_final_message().content[0].text  # type: ignore[union-attr]
        else:
            text = client.messages.create(**ASK).content[0].text  # type: ignore[union-attr]
    assert text == "scripted"
    assert [e.rule for e in fake.requests] == [
        "rule #1 on(text='x'), through rule #2 fault('stall', seconds=0.05)"
    ]
    assert all(rule.call_count == 1 for rule in fake.rules)


@pytest.mark.sdk
def test_queued_answers_are_journaled_as_written() -> None:
    import anthropic

    from mockspike import MockSpike

    fake = MockSpike()
    fake.fail(429, times=2)
    fake.reply("Hello!")
    fake.reply_tool_use("lookup", {"id": 1})
    with fake.anthropic_client(max_retries=0) as client:
        for _ in range(2):
            with pytest.raises(anthropic.RateLimitError):
                client.messages.create(**ASK)
        client.messages.create(**ASK)
        client.messages.create(
            **ASK, tools=[{"name": "lookup", "input_schema": {"type": "object"}}]
        )
    assert [e.rule for e in fake.requests] == [
        "rule #1 fail(429, times=2)",
        "rule #1 fail(429, times=2)",
        "rule #2 reply('Hello!')",
        "rule #3 reply_tool_use('lookup')",
    ]


def test_an_ini_key_typo_stops_the_run_with_the_nearest_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmockspike_strikt = true\n")
    pytester.makepyfile("def test_it(mockspike):\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*mockspike: unknown ini key 'mockspike_strikt'; did you mean 'mockspike_strict'?"]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_a_marker_value_of_the_wrong_type_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockspike(strict="yes")
        def test_it(mockspike):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mockspike: strict must be True or False, not 'yes'"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.sdk
def test_recording_leaves_the_documented_lock_and_the_umasks_mode(tmp_path: Path) -> None:
    import os
    import re

    from mockspike import MockSpike

    origin = MockSpike()
    origin.on().reply("recorded")
    cassette = tmp_path / "triage.json"
    old = os.umask(0o027)
    try:
        with (
            origin.serve() as url,
            MockSpike(cassette=cassette, record_mode="once", upstream=url) as fake,
            fake.anthropic_client(max_retries=0) as client,
        ):
            client.messages.create(**ASK)
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".triage.json.lock", "triage.json"]
    assert cassette.stat().st_mode & 0o777 == 0o640
    page = text("reference/cassettes.md")
    assert re.search(r"`\.NAME\.json\.lock`", page)
    assert "`.*.json.lock` to your `.gitignore`" in page


@pytest.mark.sdk
def test_never_used_says_why_the_requests_missed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        ASK = dict(model="claude-haiku-4-5", max_tokens=8,
                   messages=[{"role": "user", "content": "hi"}])

        def test_missed(mockspike, anthropic_client):
            mockspike.on(text="refund").reply("Billing.")
            anthropic_client.messages.create(**ASK)

        def test_beaten(mockspike, anthropic_client):
            mockspike.on(text="hi").reply("first")
            mockspike.on(model="claude-haiku-4-5").reply("second")
            anthropic_client.messages.create(**ASK)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*rule #1 on(text='refund'): the closest request, #1, did not match: "
            "last user text 'hi' does not contain 'refund'",
            "*rule #2 on(model='claude-haiku-4-5'): request #1 matched, but "
            "rule #1 on(text='hi') answered it first",
        ]
    )


def test_setup_errors_print_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockspike(strikt=True)
        def test_typo(mockspike):
            pass

        @pytest.mark.mockspike(cassette="nope")
        def test_missing(mockspike):
            pass
        """
    )
    result = pytester.runpytest("-rN")  # no short summary: each error's own report only
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert "During handling of the above exception" not in output
    assert output.count("did you mean 'strict'?") == 1
    assert output.count("no cassette at") == 1


# -- the Docker image's command line, called from outside its network namespace -----------


def _image_command(args: str = "") -> list[str]:
    """The Dockerfile's CMD with its ENV defaults (and MOCKSPIKE_ARGS=`args`), after
    `mockspike`: the command line the image runs."""
    import json
    import shlex

    dockerfile = (Path(__file__).resolve().parents[1] / "Dockerfile").read_text()
    cmd = json.loads(next(line for line in dockerfile.splitlines() if line.startswith("CMD "))[4:])
    script = cmd[-1].replace('"$MOCKSPIKE_STATE"', "memory").replace('"$MOCKSPIKE_WORKERS"', "1")
    words = shlex.split(script.replace("$MOCKSPIKE_ARGS", args))
    assert words[:2] == ["exec", "mockspike"], words
    return words[2:]


@contextlib.contextmanager
def _namespace() -> Iterator[tuple[str, str, str]]:
    """A network namespace of this test's own, joined to this one by a veth pair, as a
    container is to its host: (namespace, the host's address, the namespace's address)."""
    import os
    import secrets
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (ip netns) to stand in for a container")
    tag = f"{os.getpid() % 100000}{secrets.token_hex(2)}"
    ns, outer, inner = f"ms{tag}", f"vo{tag}"[:15], f"vi{tag}"[:15]
    net = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(250)}"
    host_ip, ns_ip = f"{net}.1", f"{net}.2"

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    try:
        ip("netns", "add", ns)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot make a network namespace here: {exc.stderr!r}")
    try:
        ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        ip("link", "set", inner, "netns", ns)
        ip("addr", "add", f"{host_ip}/30", "dev", outer)
        ip("link", "set", outer, "up")
        ip("-n", ns, "addr", "add", f"{ns_ip}/30", "dev", inner)
        ip("-n", ns, "link", "set", inner, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        yield ns, host_ip, ns_ip
    finally:
        subprocess.run(["ip", "link", "del", outer], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def _serve_in(ns: str, *args: str) -> tuple[Any, list[str]]:
    """`mockspike ARGS…` in the namespace; its first banner lines once it serves."""
    import subprocess
    import sys

    process = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "mockspike", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(3)]
    if "serving on " not in lines[0]:
        process.kill()
        raise RuntimeError(f"mockspike serve did not start: {lines}{process.communicate()[1]}")
    return process, [line.strip() for line in lines]


def test_the_images_command_is_scriptable_from_outside_its_namespace() -> None:
    import re

    import httpx

    with _namespace() as (ns, _host_ip, ns_ip):
        process, banner = _serve_in(ns, *_image_command())
        try:
            # a URL one can open, never 0.0.0.0; the token it made, and how to use it
            assert banner[0].endswith("serving on http://127.0.0.1:8000")
            found = re.search(r"admin token (\S+) .*dashboard (http://\S+\?token=\S+)", banner[2])
            assert found, banner
            token = found[1]
            assert found[2] == f"http://127.0.0.1:8000/_mockspike/?token={token}"
            outside = f"http://{ns_ip}:8000"  # as `docker run -p 8000:8000` is reached
            with httpx.Client(base_url=outside, timeout=10) as client:
                assert client.get("/_mockspike/health").status_code == 200
                refused = client.get("/_mockspike/requests")
                assert refused.status_code == 403
                assert "x-mockspike-admin-token" in refused.json()["error"]["message"]
                admin = {"x-mockspike-admin-token": token}
                assert client.post("/_mockspike/reset", headers=admin).json() == {
                    "status": "reset"
                }  # bodiless, as curl -X POST sends it
                added = client.post(
                    "/_mockspike/rules",
                    headers=admin,
                    json={
                        "rules": [
                            {"match": {"text": "hi"}, "respond": {"reply": {"text": "scripted"}}}
                        ]
                    },
                )
                assert added.status_code in (200, 201), added.text
                answer = client.post(
                    "/v1/messages",
                    headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
                    json={**ASK, "messages": [{"role": "user", "content": "hi"}]},
                )
                assert answer.json()["content"][0]["text"] == "scripted"
                # the dashboard: opened once with ?token=, then the browser's cookie
                opened = client.get(f"/_mockspike/?token={token}")
                assert opened.status_code == 303 and opened.headers["location"] == "/_mockspike/"
                assert "SameSite=Strict" in opened.headers["set-cookie"]
                assert client.get("/_mockspike/").status_code == 200  # with the cookie now
                assert client.get("/_mockspike/requests").json()["requests"]
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_admin_open_is_a_choice_the_banner_shows() -> None:
    import httpx

    with _namespace() as (ns, _host_ip, ns_ip):
        process, banner = _serve_in(ns, *_image_command("--admin-open"))
        try:
            assert "admin API open to any client (--admin-open)" in banner[2]
            with httpx.Client(base_url=f"http://{ns_ip}:8000", timeout=10) as client:
                assert client.get("/_mockspike/requests").status_code == 200
                assert client.post("/_mockspike/reset").status_code == 200
                # a page on another origin is still refused
                page = client.post("/_mockspike/reset", headers={"origin": "http://evil.test"})
                assert page.status_code == 403
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.anyio
async def test_health_needs_no_token_and_bodiless_writes_need_no_content_type() -> None:
    from mockspike import MockSpike
    from tests.conftest import call_asgi

    app = MockSpike(admin_token="s3cret").app
    outside = ("192.0.2.10", 5000)
    health = await call_asgi(app, "GET", "/_mockspike/health", client=outside)
    assert health[0]["status"] == 200
    token = {"x-mockspike-admin-token": "s3cret"}
    reset = await call_asgi(app, "POST", "/_mockspike/reset", headers=token, client=outside)
    assert reset[0]["status"] == 200
    form = {**token, "content-type": "text/plain"}
    refused = await call_asgi(
        app, "POST", "/_mockspike/reset", headers=form, body=b"{}", client=outside
    )
    assert refused[0]["status"] == 415  # a body still comes as JSON


def test_other_http_libraries_cannot_reach_the_real_hosts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import urllib.request

        def test_urllib():
            try:
                urllib.request.urlopen("https://api.anthropic.com/v1/models", timeout=5)
            except OSError:
                pass  # the code under test swallows it

        def test_requests():
            import requests

            try:
                requests.post("https://llm.bytespike.ai/v1/messages", timeout=5)
            except requests.RequestException:
                pass

        def test_aiohttp():
            import pytest

            aiohttp = pytest.importorskip("aiohttp")

            async def call():
                async with aiohttp.ClientSession() as session:
                    try:
                        await session.get("https://api.anthropic.com/v1/models")
                    except aiohttp.ClientError:
                        pass

            asyncio.run(call())
        """
    )
    import importlib.util

    has_aiohttp = importlib.util.find_spec("aiohttp") is not None
    result = pytester.runpytest("-rN")
    if has_aiohttp:
        result.assert_outcomes(passed=3, errors=3)
    else:
        result.assert_outcomes(passed=2, errors=2, skipped=1)
    output = result.stdout.str()
    assert output.count("a test tried to reach the real host api.anthropic.com") == (
        2 if has_aiohttp else 1
    )
    assert output.count("a test tried to reach the real host llm.bytespike.ai") == 1
    assert "--mockspike-allow-real-hosts on purpose" in output


def test_block_network_allows_loopback_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket

        import httpx

        def test_elsewhere():
            with socket.socket() as sock:
                sock.settimeout(5)
                try:
                    sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never reached
                except OSError:
                    pass

        def test_loopback(mockspike_server):
            assert httpx.get(mockspike_server.base_url + "/_mockspike/health").is_success
        """
    )
    result = pytester.runpytest("-rN", "--mockspike-block-network")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*--mockspike-block-network stopped a connection to 192.0.2.1:80; only loopback "
            "is allowed. Allow a host with --mockspike-allowed-hosts=NAME*",
        ]
    )


@settings(max_examples=25)
@given(ms.message_requests(tools=["lookup_order", "refund"], stream=False))
def test_message_requests_take_tool_names_as_replies_do(body: dict[str, Any]) -> None:
    assert {"lookup_order", "refund"} <= {t["name"] for t in body["tools"]}


@pytest.mark.sdk
@settings(max_examples=40)
@given(ms.replies())
def test_replies_without_tools_always_answer_a_request_without_tools(reply: Any) -> None:
    from mockspike import MockSpike

    fake = MockSpike()
    fake.reply(reply)
    with fake.anthropic_client(max_retries=0) as client:
        client.messages.create(**ASK)  # offers no tools
    assert fake.requests.last.status == 200, fake.requests.last.error


# -- the dashboard in a real Chromium --------------------------------------------------------


def _busy_fake() -> Any:
    from mockspike import MockSpike

    fake = MockSpike()
    fake.on(text="ticket", name="triage for the support queue").reply("Logistics.")
    fake.on(text="x").reply("scripted")
    fake.fault("stall", seconds=0.01)
    fake.fail(429, times=2)
    return fake


def _ask(base: str, text: str) -> None:
    import httpx

    body = {**ASK, "messages": [{"role": "user", "content": text}]}
    httpx.post(
        base + "/v1/messages",
        json=body,
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        timeout=10,
    )


@pytest.mark.parametrize("width", [1000, 1200, 1400])
def test_the_answered_by_column_is_visible_at_common_widths(width: int, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from tests.conftest import chromium

    fake = _busy_fake()
    with fake.dashboard() as url, chromium() as browser:
        base = url.removesuffix("/_mockspike/")
        for text in ("x marks", "a ticket about a late order", "hi", "hi", "x again"):
            _ask(base, text)
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(url)
        rows = page.locator("#journal tbody tr")
        expect(rows).to_have_count(5)
        for opened in (False, True):
            if opened:
                rows.first.click()
                expect(page.locator("#detail")).to_be_visible()
            panel = page.locator("#journal-panel")
            fits = panel.evaluate("p => p.scrollWidth <= p.clientWidth")
            header = page.locator("#journal th", has_text="answered by").bounding_box()
            box = panel.bounding_box()
            assert header is not None and box is not None
            assert fits and header["x"] + header["width"] <= box["x"] + box["width"], (
                width,
                opened,
            )
            page.screenshot(path=str(tmp_path / f"dashboard-{width}-{opened}.png"))
        expect(page.locator("#journal")).to_contain_text("through rule #3 fault('stall'")


def test_the_page_settles_for_headless_tools(tmp_path: Path) -> None:
    """`chromium --headless --screenshot --virtual-time-budget` returns: the page holds no
    request open (an event stream would keep virtual time from ever passing)."""
    import os
    import subprocess

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no system Chromium at {CHROMIUM}")
    fake = _busy_fake()
    shot = tmp_path / "shot.png"
    with fake.dashboard() as url:
        _ask(url.removesuffix("/_mockspike/"), "x marks")
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                *CHROMIUM_ARGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--window-size=1200,800",
                "--virtual-time-budget=3000",
                f"--screenshot={shot}",
                url,
            ],
            capture_output=True,
            timeout=90,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 0


# -- conventions users know -------------------------------------------------------------------


@pytest.mark.sdk
@pytest.mark.parametrize("mode", ["rewrite", "all"])
def test_rewrite_records_everything_again_and_all_is_its_alias(mode: str, tmp_path: Path) -> None:
    from mockspike import MockSpike
    from mockspike.cassettes import Cassette
    from mockspike.settings import RecordMode

    origin = MockSpike()
    origin.on().reply("recorded")
    path = tmp_path / "c.json"
    with origin.serve() as url:
        for text, record_mode in (("first", "once"), ("second", mode)):
            with (
                MockSpike(cassette=path, record_mode=record_mode, upstream=url) as fake,
                fake.anthropic_client(max_retries=0) as client,
            ):
                client.messages.create(**{**ASK, "messages": [{"role": "user", "content": text}]})
                assert fake.settings.cassette is not None
                recorded = fake.settings.cassette.record_mode
    assert recorded is RecordMode.REWRITE
    contents = [
        i["request"]["body"]["messages"][0]["content"] for i in Cassette.load(path).interactions
    ]
    assert contents == ["second"]


@pytest.mark.sdk
def test_rules_say_called_call_count_and_calls_as_respx_routes_do() -> None:
    from mockspike import MockSpike

    fake = MockSpike()
    route = fake.on(text="refund").reply("Billing.")
    other = fake.on(text="never").reply("-")
    assert not route.called and route.call_count == 0 and route.calls == []
    with fake.anthropic_client(max_retries=0) as client:
        for text in ("refund please", "hi", "another refund"):
            client.messages.create(**{**ASK, "messages": [{"role": "user", "content": text}]})
    assert route.called and route.call_count == 2
    assert [e.number for e in route.calls] == [1, 3]
    assert route.calls.last.body["messages"][0]["content"] == "another refund"
    assert not other.called
    with pytest.raises(IndexError, match="answered no request yet"):
        other.calls.last  # noqa: B018


@pytest.mark.parametrize("name", ["text.json", "tool_use.json", "streaming.json", "error.json"])
def test_a_cassette_exports_to_vcr_and_imports_back_the_same(name: str, tmp_path: Path) -> None:
    import yaml

    from mockspike import examples
    from mockspike.cassettes import Cassette
    from mockspike.cli import main

    source = Path(examples.path(name))
    exported, back = tmp_path / "vcr.yaml", tmp_path / "back.json"
    assert main(["cassette", "export", "--vcr", str(source), str(exported)]) == 0
    document = yaml.safe_load(exported.read_text())
    assert document["version"] == 1
    first = document["interactions"][0]
    assert first["request"]["uri"] == "https://api.anthropic.com/v1/messages"
    assert isinstance(first["response"]["body"]["string"], str)
    assert main(["cassette", "import", str(exported), str(back)]) == 0

    def plain(path: Path) -> list[Any]:
        out = []
        for i in Cassette.load(path).interactions:
            response = dict(i["response"])
            response.pop("elapsed", None)  # nor has vcrpy a place for the time it took
            if "events" in response:  # vcrpy keeps no event times
                response["events"] = [{**e, "t": 0.0} for e in response["events"]]
            out.append(
                (i["request"]["method"], i["request"]["path"], i["request"]["body"], response)
            )
        return out

    assert plain(back) == plain(source)
    assert main(["cassette", "export", "--vcr", str(source), str(exported)]) == 2  # exists


def test_the_dashboard_opens_in_a_browser_with_the_admin_token() -> None:
    from playwright.sync_api import expect

    from mockspike import MockSpike
    from tests.conftest import chromium

    fake = MockSpike(admin_token="s3cret")
    fake.on(text="x").reply("scripted")
    with fake.dashboard() as url, chromium() as browser:
        _ask(url.removesuffix("/_mockspike/"), "x marks")
        stranger = browser.new_page()
        assert stranger.goto(url).status == 403  # type: ignore[union-attr]
        page = browser.new_context().new_page()
        page.goto(url + "?token=s3cret")
        assert page.url == url  # the token left the address bar for a cookie
        answered = page.locator("#journal tbody tr", has_text="rule #1 on(text='x')")
        expect(answered).to_have_count(1)
        expect(page.locator("#rules")).to_contain_text("rule #1 on(text='x') — 1 calls")
        page.click("#reset")  # a write, with the cookie
        expect(page.locator("#journal tbody tr")).to_have_count(0)
    assert not fake.rules


@pytest.mark.sdk
def test_block_network_lets_a_recording_reach_its_upstream(pytester: pytest.Pytester) -> None:
    """As pytest-recording lifts its block while recording: the upstream, off loopback in a
    network namespace of the test's own, is reached by the recording test only."""
    with _namespace() as (ns, _host_ip, ns_ip):
        process, _ = _serve_in(ns, *_image_command("--admin-open"))
        try:
            upstream = f"http://{ns_ip}:8000"
            pytester.makepyfile(
                f"""
                import httpx
                import pytest

                ASK = dict(model="claude-haiku-4-5", max_tokens=8,
                           messages=[{{"role": "user", "content": "hi"}}])

                @pytest.mark.mockspike(cassette="rec", record_mode="once",
                                       upstream="{upstream}")
                def test_records(anthropic_client):
                    anthropic_client.messages.create(**ASK)

                def test_elsewhere():
                    try:
                        httpx.get("{upstream}/_mockspike/health")
                    except httpx.ConnectError:
                        pass
                """
            )
            result = pytester.runpytest("-rN", "--mockspike-block-network")
        finally:
            process.terminate()
            process.wait(timeout=10)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([f"*stopped a connection to {ns_ip}:8000*"])
    assert (pytester.path / "tests" / "cassettes" / "rec.json").exists()


@pytest.mark.sdk
def test_a_recording_made_in_the_test_still_reaches_a_guarded_upstream(
    pytester: pytest.Pytester,
) -> None:
    """`localhost` stands in for the real gateway (added to the guarded hosts): urllib cannot
    resolve it, and a cassette that records from it in the test itself still does."""
    from mockspike import MockSpike

    origin = MockSpike()
    origin.on().reply("recorded")
    with origin.serve() as url:
        upstream = url.replace("127.0.0.1", "localhost")
        pytester.makeini("[pytest]\nmockspike_blocked_hosts = localhost\n")
        pytester.makepyfile(
            f"""
            import urllib.request

            from mockspike import MockSpike

            ASK = dict(model="claude-haiku-4-5", max_tokens=8,
                       messages=[{{"role": "user", "content": "hi"}}])

            def test_urllib():
                try:
                    urllib.request.urlopen("{upstream}/_mockspike/health", timeout=5)
                except OSError:
                    pass

            def test_records(tmp_path):
                fake = MockSpike(cassette=tmp_path / "c.json", record_mode="once",
                                 upstream="{upstream}")
                with fake, fake.anthropic_client(max_retries=0) as client:
                    assert client.messages.create(**ASK).content[0].text == "recorded"
            """
        )
        result = pytester.runpytest_subprocess("-rN")  # this run's guard, not the outer one's
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*a test tried to reach the real host localhost*"])
