"""The docs say what the fake does: the README's error table is the engine's output."""

from __future__ import annotations

from pathlib import Path

from mockspike.contract.table import splice

ROOT = Path(__file__).resolve().parents[1]


def test_readme_error_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert splice(readme) == readme, "run: python -m mockspike.contract.table README.md"
