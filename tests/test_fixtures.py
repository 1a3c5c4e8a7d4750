"""The shipped example cassettes replay for the same client code, and agree with the
contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mockspike import MockSpike
from mockspike.cassettes import Cassette
from mockspike.cassettes.tools import check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENARIOS = ["text", "tool_use", "streaming", "error"]


def _recorder_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("record_fixtures", FIXTURES / "record.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.sdk
@pytest.mark.parametrize("name", SCENARIOS)
def test_fixture_replays_for_the_same_client_code(name: str) -> None:
    fake = MockSpike(cassette=FIXTURES / f"{name}.json", record_mode="none")
    getattr(_recorder_script(), name)(fake.anthropic_client(max_retries=0))
    assert fake.requests and not any(e.cassette_miss for e in fake.requests)
    assert len(fake.requests) == len(fake.cassette.interactions)


@pytest.mark.parametrize("name", SCENARIOS)
def test_fixture_is_labelled_redacted_and_consistent(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / f"{name}.json"
    cassette = Cassette.load(path)
    assert "not real gateway traffic" in (cassette.note or "")
    assert "sk-example-not-a-real-key" not in path.read_text()
    assert check(cassette, "bytespike") == 0, capsys.readouterr().out
