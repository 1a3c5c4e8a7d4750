"""mockspike: a faithful, fast fake of the ByteSpike / Anthropic Messages API."""

from .contract.errors import ApiError
from .engine import Engine
from .mock import MockSpike
from .reply import Reply
from .wire import WireRequest, WireResponse

__version__ = "0.1.0"

__all__ = ["ApiError", "Engine", "MockSpike", "Reply", "WireRequest", "WireResponse", "__version__"]
