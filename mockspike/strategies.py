"""Hypothesis strategies for the whole contract: `from mockspike import strategies as ms`.

The implementation lives in `mockspike.testing.strategies`; this module is its public name."""

from mockspike.testing.strategies import *  # noqa: F403
from mockspike.testing.strategies import __all__ as __all__
