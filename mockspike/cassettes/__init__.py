"""Cassettes: the file format, the recording/replaying front stage, the tools, vcrpy import."""

from mockspike.cassettes.format import MATCHERS, Cassette, CassetteError, Matcher, register_matcher
from mockspike.settings import RECORD_MODES

__all__ = [
    "MATCHERS",
    "RECORD_MODES",
    "Cassette",
    "CassetteError",
    "Matcher",
    "register_matcher",
]
