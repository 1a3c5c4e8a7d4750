"""The contract: what a request may say, and what the gateway answers when it breaks a rule."""

from .catalog import Model, Profile, load_profile, profile_names
from .errors import ApiError, error_body
from .validate import check_count_tokens, check_message_request

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
