"""Cassettes: the file format, the recording/replaying front stage, the tools, vcrpy import."""

from ..settings import RECORD_MODES
from .format import (
    MATCHERS,
    Cassette,
    CassetteError,
    Matcher,
    register_matcher,
)

__all__ = [
    "MATCHERS",
    "RECORD_MODES",
    "Cassette",
    "CassetteError",
    "Matcher",
    "register_matcher",
]
