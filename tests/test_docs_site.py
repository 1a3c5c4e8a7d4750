"""The documentation site (docs/, Sphinx with MyST) builds with warnings as errors, its
generated reference pages are what the code says today, and the Python examples on each
page run as shown (a page's ```python blocks are one test module; ```py blocks are only
shown)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.error_table import splice

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q"]
    result = subprocess.run(
        [*command, "-b", "html", str(DOCS), str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "index.html").is_file()


def test_the_error_reference_is_current() -> None:
    page = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    assert splice(page) == page, "run: python -m tools.error_table docs/reference/errors.md"


def test_the_command_line_reference_is_current() -> None:
    from tools import cli_reference

    made = cli_reference.page()
    assert cli_reference.PAGE.read_text(encoding="utf-8") == made, (
        "run: python -m tools.cli_reference"
    )


EXAMPLES = [page for page in PAGES if python_blocks(page)]


@pytest.mark.sdk
@pytest.mark.parametrize("page", EXAMPLES, ids=[str(p.relative_to(DOCS)) for p in EXAMPLES])
def test_the_examples_on_the_page_run(page: Path, pytester: pytest.Pytester) -> None:
    code = "\n\n".join(python_blocks(page))
    tests = re.findall(r"^(?:async )?def (test_\w+)", code, re.M)
    assert tests, f"{page.name}: its ```python blocks define no test (use ```py for a snippet)"
    # a module name no test of the suite has (pytester runs in this process)
    name = "test_docs_" + re.sub(r"\W", "_", str(page.relative_to(DOCS).with_suffix("")))
    pytester.makepyfile(**{name: code})
    result = pytester.runpytest("-p", "anyio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(tests))
