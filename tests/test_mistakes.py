"""A newcomer's mistakes, each as the user makes it and the answer they get: pytest runs
(pytester), the command line (subprocess) and the admin API."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockspike import MockSpike

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
            "*rule #1 on() matched, but it answers with a tool_use block calling 'get_weather'"
            " and the request offered no tools; send tools=*",
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
    with fake.serve() as url, httpx.Client(base_url=url, timeout=10) as client:
        yield fake, client


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("failures", {"status": 429, "retry_after": "soon"}, "fail: retry_after must be a number"),
        ("faults", {"kind": "stall", "seconds": "soon"}, "fault: seconds must be a number"),
        ("replies", {"txt": "hi"}, "reply: unknown field 'txt'; did you mean 'text'?"),
        ("replies", {"text": "hi", "stop_reason": "done"}, "stop_reason must be one of"),
        ("replies", {"text": "hi", "timing": {"tps": 5}}, "did you mean 'tokens_per_second'?"),
        ("failures", {"retry_after": 1}, "fail: 'status' is required"),
        ("rules", {"match": {"regex": "("}, "respond": {"reply": {"text": "x"}}}, "regular"),
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
