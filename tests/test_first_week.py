"""A new user's first week, run for real: cassette names, xdist reports, scripting and
config mistakes caught when written, recording litter, the network block, strategies."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

import pytest

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
    from mockspike.core.checks import ScriptValueError

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
    assert all(rule.calls == 1 for rule in fake.rules)


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
        client.messages.create(**ASK, tools=[{"name": "lookup", "input_schema": {"type": "object"}}])
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
        with origin.serve() as url:
            with MockSpike(cassette=cassette, record_mode="once", upstream=url) as fake:
                with fake.anthropic_client(max_retries=0) as client:
                    client.messages.create(**ASK)
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".triage.json.lock", "triage.json"]
    assert cassette.stat().st_mode & 0o777 == 0o640
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert re.search(r"`\.NAME\.json\.lock`", readme)
    assert "`.*.json.lock` to your `.gitignore`" in readme


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
