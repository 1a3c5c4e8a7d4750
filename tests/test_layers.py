"""The layering is a check, not a sentence: layers look only down (the import-linter contract
in pyproject.toml, whose order docs/architecture.md explains), and no module takes part in an
import cycle, type-only and lazy imports included (grimp counts every import statement)."""

from __future__ import annotations

import graphlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_looks_down_a_layer() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency: pip install -e '.[test]'"
    run = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph("mockspike", include_external_packages=False)
    sorter = graphlib.TopologicalSorter(
        {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    )
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise AssertionError(f"an import cycle: {cycle}") from None
