"""The documentation site (docs/, Sphinx with MyST) builds with warnings as errors, its
generated reference pages are what the code says today, the Python examples on each page
run as shown (a page's ```python blocks are one test module; ```py blocks are snippets,
scripts or tests that need a server: the tests beside their subject run those, finding them
with tests/docs_pages.py), and the README's links and example hold too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from mockspike.contract.table import splice

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
    assert splice(page) == page, "run: python -m mockspike.contract.table docs/reference/errors.md"


def test_the_command_line_reference_is_current() -> None:
    from tools import cli_reference

    made = cli_reference.page()
    assert cli_reference.PAGE.read_text(encoding="utf-8") == made, (
        "run: python -m tools.cli_reference"
    )


def test_the_http_api_reference_is_current() -> None:
    from tools import http_reference

    made = http_reference.page()
    assert http_reference.PAGE.read_text(encoding="utf-8") == made, (
        "run: python -m tools.http_reference"
    )


EXAMPLES = [page for page in PAGES if python_blocks(page)]
# Each drawn case of a page's property tests is a whole conversation: fewer of them in the
# suite, every example and rule still exercised (the run is in this process, so the suite's
# own profile is loaded again after it).
PAGE_PROFILE = """
from hypothesis import settings

settings.register_profile(
    "docs", derandomize=True, deadline=None, max_examples=10, stateful_step_count=10
)
settings.load_profile("docs")
"""


def defined_tests(code: str) -> list[str]:
    """The tests a module defines: functions, and test cases assigned to a `Test` name (a
    Hypothesis state machine's `TestCase`)."""
    found = re.findall(r"^(?:async )?def (test_\w+)|^(Test\w+) = ", code, re.M)
    return [function or case for function, case in found]


@pytest.mark.sdk
@pytest.mark.parametrize("page", EXAMPLES, ids=[str(p.relative_to(DOCS)) for p in EXAMPLES])
def test_the_examples_on_the_page_run(page: Path, pytester: pytest.Pytester) -> None:
    code = "\n\n".join(python_blocks(page))
    tests = defined_tests(code)
    assert tests, f"{page.name}: its ```python blocks define no test (use ```py for a snippet)"
    # a module name no test of the suite has (pytester runs in this process)
    name = "test_docs_" + re.sub(r"\W", "_", str(page.relative_to(DOCS).with_suffix("")))
    pytester.makepyfile(**{name: code})
    pytester.makeconftest(PAGE_PROFILE)
    try:
        result = pytester.runpytest("-p", "anyio", "-p", "no:cacheprovider")
    finally:
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    result.assert_outcomes(passed=len(tests))


def test_every_relative_link_in_the_readme_reaches_a_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t and not t.startswith("mailto:")]
    assert local, "the README links into the documentation"
    broken = [t for t in local if not (ROOT / t).is_file()]
    assert not broken, f"README.md links to files that do not exist: {broken}"


@pytest.mark.sdk
def test_the_readme_example_runs(pytester: pytest.Pytester) -> None:
    code = "\n\n".join(python_blocks(ROOT / "README.md"))
    tests = defined_tests(code)
    assert tests, "the README's ```python blocks define no test"
    pytester.makepyfile(test_docs_readme=code)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=len(tests))
