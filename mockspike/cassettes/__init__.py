"""Cassettes: the file format, the recording/replaying front stage, the tools, vcrpy import."""

from .format import (
    MATCHERS,
    RECORD_MODES,
    Cassette,
    CassetteError,
    Matcher,
    register_matcher,
)

__all__ = ["MATCHERS", "RECORD_MODES", "Cassette", "CassetteError", "Matcher", "register_matcher"]
