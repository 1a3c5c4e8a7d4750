"""The pytest plugin, run for real with pytester: fixtures, marker, options, checks."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

import pytest

from tests.docs_pages import blocks

# Imported here, before any in-process pytester run: a run drops the modules it imported
# first, and an HTTP stack imported inside one would leave stale exception classes behind
# (httpx and httpx2 import their cores lazily).
for _name in ("anthropic", "httpx", "httpcore", "httpx2", "httpcore2"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.sdk
def test_the_first_test_tutorial_prints_the_run_summary(pytester: pytest.Pytester) -> None:
    """The tutorial's tests (tests/test_docs_site.py runs them too) and the summary after."""
    pytester.makepyfile(test_tutorial="\n\n".join(blocks("tutorial/first-test.md", "python")))
    result = pytester.runpytest("-p", "anyio")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*mockspike*",
            "*requests served by mockspike fakes (* messages): * input + * output "
            "tokens, about * credits ($*) on the real gateway",
        ]
    )


@pytest.mark.sdk
def test_unused_reply_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_forgot(mockspike, anthropic_client):
            mockspike.on(text="never sent").reply("unused")

        @pytest.mark.mockspike(assert_all_used=False)
        def test_allowed(mockspike):
            mockspike.reply("unused, on purpose")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mockspike: scripted replies were never used:*",
            "*rule #1 on(text='never sent')*",
        ]
    )


@pytest.mark.sdk
def test_strict_unmatched_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import anthropic, pytest

        @pytest.mark.mockspike(strict=True)
        def test_strict(mockspike, anthropic_client):
            mockspike.on(model="claude-sonnet-4-6").reply("sonnet")
            with pytest.raises(anthropic.BadRequestError):
                anthropic_client.messages.create(
                    model="claude-haiku-4-5", max_tokens=8,
                    messages=[{"role": "user", "content": "hi"}])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mockspike: requests matched no rule (strict):*",
            "*model is 'claude-haiku-4-5', not 'claude-sonnet-4-6'*",
        ]
    )


@pytest.mark.sdk
def test_reaching_a_real_host_fails_loudly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import anthropic

        def test_pays_by_accident():
            client = anthropic.Anthropic(
                base_url="https://llm.bytespike.ai", api_key="sk-real", max_retries=0)
            try:
                client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                       messages=[{"role": "user", "content": "hi"}])
            except Exception:
                pass  # the code under test swallows errors; the test must still fail
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*mockspike: a test tried to reach the real host llm.bytespike.ai*"]
    )


@pytest.mark.sdk
def test_profile_option_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_option(mockspike, anthropic_client):
            assert mockspike.profile == "anthropic"
            m = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                                 messages=[{"role": "user", "content": "hi"}])
            assert m.model == "claude-haiku-4-5-20251001"

        @pytest.mark.mockspike(profile="bytespike")
        def test_marker(mockspike):
            assert mockspike.profile == "bytespike"

        @pytest.mark.mockspike(colour="red")
        def test_unknown_marker_argument(mockspike):
            pass
        """
    )
    result = pytester.runpytest("--mockspike-profile", "anthropic")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*mockspike marker: unknown argument(s) colour*"])


def test_server_fixture_sets_and_restores_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    pytester.makepyfile(
        """
        import os

        def test_a(mockspike_server):
            assert os.environ["ANTHROPIC_BASE_URL"] == mockspike_server.base_url
            assert mockspike_server.base_url.startswith("http://127.0.0.1:")
            mockspike_server.reply("only for a")

        def test_b_after(mockspike_server):
            assert mockspike_server.rules == []  # reset between tests
            assert len(mockspike_server.requests) == 0

        def test_c_outside():
            assert os.environ.get("ANTHROPIC_BASE_URL") is None
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, errors=1)  # test_a's reply was unused


@pytest.mark.sdk
def test_cassette_marker_replays_and_a_miss_fails_the_test(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "tests" / "cassettes"
    folder.mkdir(parents=True)
    (folder / "text.json").write_text((ROOT / "mockspike" / "examples" / "text.json").read_text())
    pytester.makepyfile(
        """
        import anthropic, pytest

        PROMPT = [{"role": "user", "content": "Classify this support ticket: My order is late."}]

        @pytest.mark.mockspike(cassette="text")
        def test_replays(anthropic_client):
            reply = anthropic_client.messages.create(
                model="claude-haiku-4-5", max_tokens=256, messages=PROMPT)
            assert reply.content[0].text == "Logistics — delivery delay."

        @pytest.mark.mockspike(cassette="text")
        def test_misses(anthropic_client):
            try:
                anthropic_client.messages.create(
                    model="claude-haiku-4-5", max_tokens=256,
                    messages=[{"role": "user", "content": "Something new"}])
            except anthropic.BadRequestError:
                pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no interaction in cassette*text.json matches POST /v1/messages (record mode none)*",
            '*+ messages.0.content: "Something new"*',
        ]
    )


@pytest.mark.sdk
def test_recording_through_the_plugin(pytester: pytest.Pytester) -> None:
    from mockspike import MockSpike

    origin = MockSpike()
    origin.on().reply("recorded answer")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockspike(cassette="new")
        def test_records(anthropic_client):
            reply = anthropic_client.messages.create(
                model="claude-haiku-4-5", max_tokens=8,
                messages=[{"role": "user", "content": "hi"}])
            assert reply.content[0].text == "recorded answer"
        """
    )
    with origin.serve() as url:
        result = pytester.runpytest("--mockspike-record-mode", "once", "--mockspike-upstream", url)
    result.assert_outcomes(passed=1)
    assert (pytester.path / "tests" / "cassettes" / "new.json").exists()
    assert len(origin.requests) == 1
    pytester.runpytest().assert_outcomes(passed=1)  # and replays offline afterwards


def test_verdict_option_prints_the_verdict_of_tests_that_injected_failures(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import httpx

        HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
        BODY = {"model": "claude-haiku-4-5", "max_tokens": 8,
                "messages": [{"role": "user", "content": "hi"}]}

        def test_hammers(mockspike):
            mockspike.fail(400)
            with httpx.Client(transport=mockspike.transport(), base_url="http://x") as c:
                c.post("/v1/messages", json=BODY, headers=HEADERS)
                c.post("/v1/messages", json=BODY, headers=HEADERS)

        def test_no_failure(mockspike):
            with httpx.Client(transport=mockspike.transport(), base_url="http://x") as c:
                c.post("/v1/messages", json=BODY, headers=HEADERS)
        """
    )
    result = pytester.runpytest("--mockspike-verdict")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*mockspike verdict*",
            "*::test_hammers: mockspike verdict: 1 finding(s)",
            "*[[]error[]] retried-non-retryable: #2 repeats #1 after the 400*",
        ]
    )
    assert "test_no_failure" not in result.stdout.str()


def test_the_marker_turns_on_agent_mode_for_the_in_process_fixture(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_agent="""
import pytest

TOOLS = [{"name": "lookup", "description": "Look up an order",
          "input_schema": {"type": "object", "properties": {"q": {"type": "string"}},
                           "required": ["q"]}}]

@pytest.mark.mockspike(synthetic="agent")
def test_agent(anthropic_client):
    reply = anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=100, tools=TOOLS,
        messages=[{"role": "user", "content": "Where is order 42?"}])
    assert reply.stop_reason == "tool_use"

def test_default(anthropic_client):
    reply = anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=100, tools=TOOLS,
        messages=[{"role": "user", "content": "Where is order 42?"}])
    assert reply.stop_reason == "end_turn"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
