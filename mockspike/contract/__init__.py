"""The contract: what a request may say, and what the gateway answers when it breaks a rule.

Names are imported on first use (PEP 562): reading the catalog does not load the validator."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import Model, Profile, load_profile, profile_names
    from .errors import ApiError, error_body
    from .validate import check_count_tokens, check_message_request

_HOMES = {
    "ApiError": ".errors",
    "Model": ".catalog",
    "Profile": ".catalog",
    "check_count_tokens": ".validate",
    "check_message_request": ".validate",
    "error_body": ".errors",
    "load_profile": ".catalog",
    "profile_names": ".catalog",
}

__all__ = [
    "ApiError",
    "Model",
    "Profile",
    "check_count_tokens",
    "check_message_request",
    "error_body",
    "load_profile",
    "profile_names",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)
