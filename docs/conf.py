"""The documentation site: Sphinx with MyST (the pages are Markdown) and the Furo theme.

Built offline and strict by `tests/test_docs_site.py`: `sphinx-build -W --keep-going -b html
docs site`; a warning (a broken cross-reference, a page outside the table of contents) fails
the build."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mockspike._version import __version__  # noqa: E402

project = "mockspike"
release = version = __version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "conf.py"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
html_theme = "furo"
html_title = f"mockspike {__version__}"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False
html_show_copyright = False  # no empty "Copyright ©" line in the footer
