"""Recorded real API traffic (fixtures/real, see its NOTICE) agrees with the contract: nothing
the API answered 200 is refused, and recorded refusals get the API's own status and words."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockspike.cassettes.tools import check
from mockspike.cassettes import Cassette

REAL = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "real").glob("*.json"))


def test_there_is_real_traffic_to_check() -> None:
    assert len(REAL) >= 10


@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_traffic_is_consistent_with_the_contract(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = check(Cassette.load(path), "anthropic")
    assert status == 0, capsys.readouterr().out
