"""mockspike: a faithful, fast fake of the ByteSpike / Anthropic Messages API.

The public names below are imported on first use (PEP 562), so `import mockspike` (and the
pytest plugin, in every session) stays cheap until a fake is made."""

import importlib as _importlib
import typing as _typing

from mockspike._version import __version__

if _typing.TYPE_CHECKING:
    from mockspike import strategies
    from mockspike.engine.engine import Engine
    from mockspike.gateway.keys import GatewayConfig
    from mockspike.mock import MockSpike
    from mockspike.model.clock import FakeClock
    from mockspike.model.errors import ApiError
    from mockspike.model.faults import Failure, Fault
    from mockspike.model.outcomes import Reply
    from mockspike.model.pacing import Pacing
    from mockspike.model.wire import WireRequest, WireResponse
    from mockspike.script.rules import Rule
    from mockspike.settings import CassetteOptions, RecordMode, ReplayTiming, Settings
    from mockspike.state.journal import Entry, Journal

_HOMES = {
    "ApiError": "mockspike.model.errors",
    "CassetteOptions": "mockspike.settings",
    "Engine": "mockspike.engine.engine",
    "Entry": "mockspike.state.journal",
    "Failure": "mockspike.model.faults",
    "FakeClock": "mockspike.model.clock",
    "Fault": "mockspike.model.faults",
    "GatewayConfig": "mockspike.gateway.keys",
    "Journal": "mockspike.state.journal",
    "MockSpike": "mockspike.mock",
    "Pacing": "mockspike.model.pacing",
    "RecordMode": "mockspike.settings",
    "ReplayTiming": "mockspike.settings",
    "Reply": "mockspike.model.outcomes",
    "Rule": "mockspike.script.rules",
    "Settings": "mockspike.settings",
    "WireRequest": "mockspike.model.wire",
    "WireResponse": "mockspike.model.wire",
}

__all__ = [
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


def __getattr__(name: str) -> _typing.Any:
    if name == "strategies":
        return _importlib.import_module("mockspike.strategies")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mockspike' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (`__all__`) and the module's own dunders: what `dir()`, completion
    and `from mockspike import *` should offer. Subpackages imported meanwhile are reached
    by their own import (`mockspike.testing.strategies`), not listed here."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
