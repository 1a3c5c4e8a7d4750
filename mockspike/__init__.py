"""mockspike: a faithful, fast fake of the ByteSpike / Anthropic Messages API."""

from ._version import __version__
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

__all__ = [
    "ApiError",
    "Engine",
    "Entry",
    "Failure",
    "FakeClock",
    "Fault",
    "GatewayConfig",
    "Journal",
    "MockSpike",
    "Pacing",
    "Reply",
    "Rule",
    "WireRequest",
    "WireResponse",
    "__version__",
]
