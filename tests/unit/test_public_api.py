"""The public surface is deliberate: `mockspike.__all__` is pinned, every name resolves,
and importing the package or the pytest plugin loads no server, validator or HTTP client."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mockspike

PUBLIC = [
    "ApiError",
    "CassetteOptions",
    "Engine",
    "Entry",
    "Failure",
    "FakeClock",
    "Fault",
    "GatewayConfig",
    "Journal",
    "MockSpike",
    "Pacing",
    "RecordMode",
    "ReplayTiming",
    "Reply",
    "Rule",
    "Settings",
    "WireRequest",
    "WireResponse",
    "__version__",
    "strategies",
]


def test_all_is_pinned() -> None:
    assert sorted(mockspike.__all__) == sorted(PUBLIC)


def test_the_public_names_are_exactly_all() -> None:
    """As httpx pins it: what `dir()` offers is `__all__`, and nothing else the package
    module holds is public by accident (a helper import, a typing name)."""
    import types

    import mockspike.cli  # loads what the package may set on itself
    import mockspike.testing.pytest_plugin

    offered = {name for name in dir(mockspike) if not name.startswith("_")}
    assert offered == set(mockspike.__all__) - {"__version__"}
    held = {
        name
        for name, value in vars(mockspike).items()
        if not name.startswith("_")
        and not (isinstance(value, types.ModuleType) and value.__name__ != "mockspike.strategies")
    }
    assert held <= set(mockspike.__all__), held - set(mockspike.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(mockspike, name) is not None


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = mockspike.Nope  # type: ignore[attr-defined]


def test_old_public_paths_keep_working() -> None:
    from mockspike import strategies as ms
    from mockspike.cassettes import MATCHERS, Cassette

    assert callable(ms.message_requests) and callable(MATCHERS["model"])
    assert Cassette.__module__ == "mockspike.cassettes.format"


HEAVY = ("uvicorn", "starlette", "jsonschema", "jsonschema_rs", "httpx", "httpx2", "anyio")


@pytest.mark.parametrize("module", ["mockspike", "mockspike.testing.pytest_plugin"])
def test_importing_loads_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
