"""mockspike: a faithful, fast fake of the ByteSpike / Anthropic Messages API.

The public names below are imported on first use (PEP 562), so `import mockspike` (and the
pytest plugin, in every session) stays cheap until a fake is made."""

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
    from . import strategies
    from .contract.errors import ApiError
    from .core.engine import Engine
    from .core.faults import Fault
    from .core.journal import Entry, Journal
    from .core.outcomes import Failure, Reply
    from .core.wire import WireRequest, WireResponse
    from .gateway.clock import FakeClock
    from .gateway.keys import GatewayConfig
    from .mock import MockSpike
    from .render.pacing import Pacing
    from .responders.scripted import Rule
    from .settings import CassetteOptions, RecordMode, ReplayTiming, Settings

_HOMES = {
    "ApiError": ".contract.errors",
    "CassetteOptions": ".settings",
    "Engine": ".core.engine",
    "Entry": ".core.journal",
    "Failure": ".core.outcomes",
    "FakeClock": ".gateway.clock",
    "Fault": ".core.faults",
    "GatewayConfig": ".gateway.keys",
    "Journal": ".core.journal",
    "MockSpike": ".mock",
    "Pacing": ".render.pacing",
    "RecordMode": ".settings",
    "ReplayTiming": ".settings",
    "Reply": ".core.outcomes",
    "Rule": ".responders.scripted",
    "Settings": ".settings",
    "WireRequest": ".core.wire",
    "WireResponse": ".core.wire",
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
        return _importlib.import_module(".strategies", __name__)
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mockspike' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (`__all__`) and the module's own dunders: what `dir()`, completion
    and `from mockspike import *` should offer. Subpackages imported meanwhile are reached
    by their own import (`mockspike.testing.strategies`), not listed here."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
