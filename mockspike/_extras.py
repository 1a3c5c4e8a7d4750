"""Optional dependencies: `pip install mockspike` serves and scripts the fake; the SDK-backed
clients need `mockspike[sdk]`, the Hypothesis strategies `mockspike[hypothesis]`."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str, needed_for: str) -> ModuleType:
    """`import module`, or a `ModuleNotFoundError` that says which extra to install."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise ModuleNotFoundError(
            f"{needed_for} needs {module}: pip install 'mockspike[{extra}]'", name=module
        ) from None
