"""The contract: what a request may say, and what the gateway answers when it breaks a rule.

Names are imported on first use (PEP 562): reading the catalog does not load the validator."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockspike.contract.catalog import Model, Profile, load_profile, profile_names
    from mockspike.contract.validate import check_count_tokens, check_message_request
    from mockspike.model.errors import ApiError, error_body

_HOMES = {
    "ApiError": "mockspike.model.errors",
    "Model": "mockspike.contract.catalog",
    "Profile": "mockspike.contract.catalog",
    "check_count_tokens": "mockspike.contract.validate",
    "check_message_request": "mockspike.contract.validate",
    "error_body": "mockspike.model.errors",
    "load_profile": "mockspike.contract.catalog",
    "profile_names": "mockspike.contract.catalog",
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
    return getattr(importlib.import_module(home), name)
