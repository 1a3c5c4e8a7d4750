"""A newcomer's mistakes, each as the user makes it and the answer they get: pytest runs
(pytester), the command line (subprocess) and the admin API."""

from __future__ import annotations

import contextlib
import importlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockspike import MockSpike
from mockspike.testing.serve_process import start_serve
from tests.conftest import HEADERS, SEED_BODY, serve_process

for _name in ("anthropic", "httpx", "httpcore", "httpx2", "httpcore2"):  # see test_plugin.py
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)

pytest_plugins = ["pytester"]

ASK = """
ASK = dict(model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
"""


def run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(ASK + source)
    return pytester.runpytest("-p", "no:cacheprovider")


@pytest.mark.sdk  # the SDK's retry and base-URL behaviour
def test_tool_use_scripted_for_a_request_without_tools_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
import anthropic

def test_it(mockspike, anthropic_client):
    mockspike.reply_tool_use("get_weather", {"city": "Paris"})
    try:
        anthropic_client.messages.create(**ASK)  # offers no tools
    except anthropic.APIStatusError:
        pass  # the code under test swallows errors
    assert len(mockspike.requests) == 1  # a 500 the SDK does not retry
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the fake could not answer*",
            "*rule #1 reply_tool_use('get_weather') matched, but it answers with a tool_use "
            "block calling 'get_weather' and the request offered no tools; send tools=*",
        ]
    )


def test_an_error_inside_the_fake_fails_the_test_whatever_the_client_did(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
def test_it(mockspike, anthropic_client):
    mockspike.on(where=lambda body: body["metadata"]["user_id"] == "u1").reply("hi")
    try:
        anthropic_client.messages.create(**ASK)
    except Exception:
        pass
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*rule #1 on(where='<predicate>') raised KeyError: 'metadata' while matching*"]
    )
    assert "never used" not in result.stdout.str()  # one cause, said once


# -- the admin API ---------------------------------------------------------------------


@pytest.fixture
def admin() -> Iterator[tuple[MockSpike, httpx.Client]]:
    fake = MockSpike()
    json_writes = {"content-type": "application/json"}  # as the admin API wants writes
    with (
        fake.serve() as url,
        httpx.Client(base_url=url, timeout=10, headers=json_writes) as client,
    ):
        yield fake, client


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("failures", {"status": 429, "retry_after": "soon"}, "fail: retry_after must be a number"),
        ("faults", {"kind": "stall", "seconds": "soon"}, "fault: seconds must be a number"),
        ("replies", {"txt": "hi"}, "reply: unknown field 'txt'; did you mean 'text'?"),
        ("replies", {"text": "hi", "stop_reason": "done"}, "stop_reason is one the API sends"),
        ("replies", {"text": "hi", "timing": {"tps": 5}}, "did you mean 'tokens_per_second'?"),
        ("failures", {"retry_after": 1}, "fail: 'status' is required"),
        ("rules", {"match": {"regex": "("}, "respond": {"reply": {"text": "x"}}}, "is not valid"),
    ],
)
def test_admin_refuses_a_bad_value_with_a_400_naming_the_field(
    admin: tuple[MockSpike, httpx.Client], path: str, payload: dict[str, Any], message: str
) -> None:
    fake, client = admin
    response = client.post(f"/_mockspike/{path}", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert message in response.json()["error"]["message"]
    assert fake.rules == []  # no half-built rule left behind


def test_a_rejected_admin_script_leaves_no_rule_behind(
    admin: tuple[MockSpike, httpx.Client],
) -> None:
    _, client = admin
    rules = [
        {"name": "good", "respond": {"reply": {"text": "fine"}}},
        {"name": "bad", "respond": [{"reply": {"text": "a"}}, {"fail": {"status": "oops"}}]},
    ]
    response = client.post("/_mockspike/rules", json={"rules": rules})
    assert response.status_code == 400
    assert (
        "rules[1] ('bad').respond[1]: fail: status must be" in response.json()["error"]["message"]
    )
    assert client.get("/_mockspike/rules").json() == {"rules": []}


# -- cassettes and rules that cannot answer ----------------------------------------------


def test_a_rule_without_an_answer_is_reported_as_such(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(mockspike, anthropic_client):
    mockspike.on(text="Hi")  # forgot .reply(...)
    anthropic_client.messages.create(**ASK)
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*a rule has no answer, so requests it matched got the default reply:",
            "*rule #1 on(text='Hi') (matched 1 request(s))",
            "*(chain .reply(...), .fail(...) or .fault(...) to the on(...))",
        ]
    )
    assert "never used" not in result.stdout.str()
    assert "assert_all_used" not in result.stdout.str()


def test_a_cassette_that_does_not_exist_fails_at_start(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

@pytest.mark.mockspike(cassette="nothing-recorded-yet")
def test_it(mockspike, anthropic_client):
    anthropic_client.messages.create(**ASK)
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*no cassette at *nothing-recorded-yet.json (record mode none only replays)*"]
    )
    result.stdout.fnmatch_lines(["*--mockspike-record-mode once*"])
    assert "Traceback" not in result.stdout.str()


def mockspike_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockspike", *args], capture_output=True, text=True, timeout=60
    )


def test_serve_with_a_missing_cassette_says_how_to_record(tmp_path: Path) -> None:
    result = mockspike_cli("serve", "--port", "0", "--cassette", str(tmp_path / "none.json"))
    assert result.returncode == 2
    assert "no cassette at" in result.stderr and "--record-mode once" in result.stderr
    assert "Traceback" not in result.stderr


def test_upstream_without_a_record_mode_is_refused(tmp_path: Path) -> None:
    result = mockspike_cli(
        "serve", "--port", "0", "--cassette", str(tmp_path / "c.json"), "--upstream", "http://x"
    )
    assert result.returncode == 2
    assert "--upstream has no effect in record mode none" in result.stderr
    result = mockspike_cli("serve", "--port", "0", "--upstream", "http://x")
    assert result.returncode == 2
    assert "add --cassette PATH" in result.stderr


# -- one sentence, not a traceback --------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "mockspike" / "examples"


def test_show_an_interaction_that_does_not_exist() -> None:
    result = mockspike_cli("cassette", "show", str(FIXTURES / "text.json"), "9")
    assert result.returncode == 2
    assert "has 1 interaction(s) (0 to 0), not 9" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_a_hand_edited_cassette(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "text.json").read_text())
    data["interactions"][0]["response"]["status"] = "200"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = mockspike_cli("cassette", "check", str(edited))
    assert result.returncode == 2
    assert 'interaction 0 (response.status): must be an integer, not "200"' in result.stderr
    assert "Traceback" not in result.stderr


def test_check_a_cassette_whose_response_lost_its_content(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "text.json").read_text())
    del data["interactions"][0]["response"]["body"]["content"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = mockspike_cli("cassette", "check", str(edited))
    assert result.returncode == 1
    assert "breaks the response contract at body: 'content' is a required" in result.stdout


def test_import_a_mockspike_cassette(tmp_path: Path) -> None:
    result = mockspike_cli(
        "cassette", "import", str(FIXTURES / "text.json"), str(tmp_path / "out.json")
    )
    assert result.returncode == 2
    assert "is already a mockspike cassette" in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_serve_on_a_port_that_cannot_exist() -> None:
    result = mockspike_cli("serve", "--port", "99999")
    assert result.returncode == 2
    assert "99999 is not a port: use 0 to 65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_piped_into_head_is_quiet() -> None:
    shown = subprocess.Popen(
        [sys.executable, "-m", "mockspike", "cassette", "show", str(FIXTURES / "streaming.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert shown.stdout is not None and shown.stderr is not None
    shown.stdout.readline()
    shown.stdout.close()  # the reader leaves, like `| head -1`
    assert shown.wait(timeout=30) == 0
    assert b"Traceback" not in shown.stderr.read()


def test_ctrl_c_twice_with_a_stalled_request_in_flight() -> None:
    with serve_process() as (process, url):
        httpx.post(f"{url}/_mockspike/faults", json={"kind": "stall", "seconds": 3600})
        with httpx.Client(timeout=60) as client, contextlib.ExitStack() as stack:
            pool = stack.enter_context(ThreadPoolExecutor(1))
            pending = pool.submit(
                client.post, f"{url}/v1/messages", headers=HEADERS, json=SEED_BODY
            )
            while not httpx.get(f"{url}/_mockspike/requests").json()["requests"]:
                pass  # the stalled request has arrived
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
            with pytest.raises(httpx.TransportError):  # its connection was dropped
                pending.result()
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


def test_a_stalled_request_does_not_hold_the_server_when_it_stops() -> None:
    fake = MockSpike()
    fake.fault("stall", seconds=3600)
    with ThreadPoolExecutor(1) as pool, httpx.Client(timeout=60) as client:
        with fake.serve() as url:
            pending = pool.submit(
                client.post, f"{url}/v1/messages", headers=HEADERS, json=SEED_BODY
            )
            while not fake.requests:
                pass
        with pytest.raises(httpx.TransportError):  # dropped at shutdown, not after an hour
            pending.result()


# -- fixtures that point the right way ---------------------------------------------------

BUILDS_ITS_OWN_CLIENT = """
import anthropic

def summarize(text):
    client = anthropic.Anthropic(max_retries=0)  # from ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY
    reply = client.messages.create(model="claude-haiku-4-5", max_tokens=64,
                                   messages=[{"role": "user", "content": text}])
    return reply.content[0].text
"""


@pytest.mark.sdk  # the SDK's retry and base-URL behaviour
def test_scripting_mockspike_while_the_code_talks_to_mockspike_server(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        BUILDS_ITS_OWN_CLIENT
        + """
def test_it(mockspike, mockspike_server):
    mockspike.reply("Revenue is up.")
    summarize("the quarterly report")
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no request reached `mockspike` at all:*",
            "*The code under test talked to `mockspike_server` (1 request(s)): two different"
            " fakes. Script `mockspike_server` instead (drop `mockspike` from the test).",
        ]
    )


@pytest.mark.sdk  # the SDK's retry and base-URL behaviour
def test_an_app_that_builds_its_own_client_with_the_in_process_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-not-used")
    result = run(
        pytester,
        BUILDS_ITS_OWN_CLIENT
        + """
def test_it(mockspike):
    mockspike.reply("Revenue is up.")
    try:
        summarize("the quarterly report")
    except Exception:
        pass  # the app swallows it
""",
    )
    result.assert_outcomes(passed=1, errors=1)  # one readable failure, not an exception group
    out = result.stdout.str()
    assert "ExceptionGroup" not in out
    assert "a test tried to reach the real host api.anthropic.com" in out
    assert "needs mockspike_server: it sets ANTHROPIC_BASE_URL" in out
    assert "use the `mockspike_server` fixture, which points ANTHROPIC_BASE_URL" in out


# -- redaction keeps replay working ------------------------------------------------------


def test_a_redacted_body_path_still_replays(tmp_path: Path) -> None:
    from mockspike.cassettes.format import Cassette, request_record

    body = {**SEED_BODY, "system": "internal prompt, secret"}
    record = request_record("POST", "/v1/messages", HEADERS, json.dumps(body).encode())
    recording = Cassette.load(tmp_path / "c.json", redact_paths=("system",))
    recording.add(record, {"status": 200, "headers": {}, "body": {"ok": True}})
    recording.save()
    assert "secret" not in (tmp_path / "c.json").read_text()

    replay = Cassette.load(tmp_path / "c.json", redact_paths=("system",))
    hit = replay.take(record)  # the live request still has the real system prompt
    assert hit is not None and hit["response"]["body"] == {"ok": True}


def test_redact_a_list_index_and_a_path_that_is_not_there(tmp_path: Path) -> None:
    cassette = tmp_path / "c.json"
    cassette.write_text((FIXTURES / "text.json").read_text())
    result = mockspike_cli("cassette", "redact", str(cassette), "--body-path", "messages.0.content")
    assert result.returncode == 0
    assert "redacted 1 body value(s) in 1 interactions" in result.stdout
    body = json.loads(cassette.read_text())["interactions"][0]["request"]["body"]
    assert body["messages"][0]["content"] == "<redacted>"

    result = mockspike_cli("cassette", "redact", str(cassette), "--body-path", "sytem")
    assert result.returncode == 2
    assert "no request body in" in result.stderr and "has sytem (nothing written)" in result.stderr


# -- the server tells you what it does ---------------------------------------------------


def test_serve_logs_one_line_a_request(tmp_path: Path) -> None:
    script = tmp_path / "rules.json"
    script.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "match": {"text": "weather"},
                        "name": "w",
                        "respond": {"reply": {"text": "Sunny"}},
                    }
                ]
            }
        )
    )
    process, url = start_serve("--strict", "--time-scale", "0", "--script", str(script))
    assert process.stderr is not None
    try:
        for text in ("weather in Paris?", "hello"):
            body = {**SEED_BODY, "messages": [{"role": "user", "content": text}]}
            httpx.post(f"{url}/v1/messages", headers=HEADERS, json=body)
        unmatched = httpx.get(f"{url}/_mockspike/requests", params={"unmatched": "true"}).json()
        assert [r["body"]["messages"][0]["content"] for r in unmatched["requests"]] == ["hello"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    log = process.stderr.read().splitlines()
    assert log[0] == "POST /v1/messages 200 rule #1 'w' on(text='weather')"
    assert log[1].startswith("POST /v1/messages 400 mockspike strict mode: no rule matched")
    assert "the closest is rule #1 'w' on(text='weather'): last user text 'hello'" in log[1]
    assert len(log) == 2  # admin calls are not API requests


def test_serve_logs_a_cassette_entry_and_a_miss(tmp_path: Path) -> None:
    from mockspike.adapters.request_log import line

    fake = MockSpike(cassette=FIXTURES / "text.json")
    recorded = json.loads((FIXTURES / "text.json").read_text())["interactions"][0]["request"]
    with fake.anthropic_client(max_retries=0) as client:
        client.messages.create(**recorded["body"])
        with contextlib.suppress(Exception):
            client.messages.create(**{**recorded["body"], "max_tokens": 7})
    hit, miss = (line(e) for e in fake.requests)
    assert hit == "POST /v1/messages 200 cassette interaction 0"
    assert miss.startswith("POST /v1/messages 400 mockspike: no interaction in cassette")
    assert "- max_tokens: " in miss and "+ max_tokens: 7" in miss


def test_admin_deletes_a_rule_and_numbers_restart_after_reset(
    admin: tuple[MockSpike, httpx.Client],
) -> None:
    fake, client = admin
    fake.on(text="a").reply("A")
    fake.on(text="b").reply("B")
    assert client.delete("/_mockspike/rules/1").json()["removed"]["rule"] == "rule #1 on(text='a')"
    assert [r.describe() for r in fake.rules] == ["rule #2 on(text='b')"]
    missing = client.delete("/_mockspike/rules/9")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "mockspike admin: no rule #9 (the rules are #2)"
    client.post("/_mockspike/reset")
    assert fake.on(text="c").number == 1


def test_journal_json_uses_the_python_names(admin: tuple[MockSpike, httpx.Client]) -> None:
    fake, client = admin
    httpx.post(f"{fake.base_url}/v1/messages", headers=HEADERS, json=SEED_BODY)
    (entry,) = client.get("/_mockspike/requests").json()["requests"]
    python = fake.requests.last
    for name in ("input_tokens", "output_tokens", "credits", "duration", "started_at", "rule"):
        assert entry[name] == getattr(python, name)


# -- packaging ---------------------------------------------------------------------------


def test_strategies_without_hypothesis_say_which_extra_to_install() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['hypothesis'] = None\nfrom mockspike import strategies",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "ModuleNotFoundError: mockspike.strategies needs hypothesis: "
        "pip install 'mockspike[hypothesis]'"
    )


def test_sdk_fixtures_without_the_sdk_say_which_extra_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest("import sys\nsys.modules['anthropic'] = None  # not installed\n")
    pytester.makepyfile(
        """
def test_scripted_in_process(mockspike):
    assert mockspike.profile == "bytespike"  # the fake itself needs no SDK

def test_it(anthropic_client):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1, passed=1)
    assert (
        "mockspike: the MockSpike.anthropic_client() needs anthropic: "
        "pip install 'mockspike[sdk]'" in result.stdout.str()
    )


# -- the marker ------------------------------------------------------------------------


def test_marker_refuses_positional_arguments(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

@pytest.mark.mockspike("anthropic")
def test_it(mockspike):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mockspike marker: it takes keyword arguments only, not*"])


def test_marker_cassette_options_and_the_tests_own_cassette(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "cassettes" / "test_marker_cassette_options_and_the_tests_own_cassette"
    folder.mkdir(parents=True)
    (folder / "test_own.json").write_text((FIXTURES / "text.json").read_text())
    recorded = json.loads((FIXTURES / "text.json").read_text())["interactions"][0]["request"]
    result = run(
        pytester,
        f"""
import pytest

BODY = {recorded["body"]!r}

@pytest.mark.mockspike(cassette=True, ignore=("max_tokens",))
def test_own(anthropic_client):
    reply = anthropic_client.messages.create(**{{**BODY, "max_tokens": 7}})  # ignored
    assert reply.content[0].text == "Logistics — delivery delay."

@pytest.mark.mockspike(cassette=True)
def test_not_recorded(mockspike):
    pass
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*no cassette at *test_not_recorded.json*"])
