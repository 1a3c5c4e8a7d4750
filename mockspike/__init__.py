"""mockspike: a faithful, fast fake of the ByteSpike / Anthropic Messages API."""

from ._version import __version__
from .clock import FakeClock
from .config import GatewayConfig
from .contract.errors import ApiError
from .engine import Engine
from .journal import Entry, Journal
from .mock import MockSpike
from .pacing import Pacing
from .reply import Failure, Fault, Reply
from .responders.scripted import Rule
from .wire import WireRequest, WireResponse

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
