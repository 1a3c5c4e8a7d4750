"""Cassettes: the file format, the matchers, the recording and replaying `CassetteSource`
(recorder.py), the tools, vcrpy import."""

from mockspike.cassettes.format import Cassette, CassetteError
from mockspike.cassettes.matchers import MATCHERS, Matcher
from mockspike.settings import RECORD_MODES

__all__ = [
    "MATCHERS",
    "RECORD_MODES",
    "Cassette",
    "CassetteError",
    "Matcher",
]
