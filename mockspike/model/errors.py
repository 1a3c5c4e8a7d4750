"""The error envelope, the one exception every stage raises to answer with it, and the
fake's own 500 (`AnswerError`, `fake_error`)."""

from __future__ import annotations

from typing import Any

#: The error type each status carries, as in CONTRACT.md's table.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


#: The message each status carries when a script does not say (the API's own wording).
DEFAULT_MESSAGES: dict[int, str] = {
    400: "Invalid request",
    401: "invalid x-api-key",
    402: "Your credit balance is too low to complete this request.",
    403: "Your API key does not have permission to use the specified resource.",
    404: "The requested resource could not be found.",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request exceeds the maximum allowed number of bytes.",
    422: "This parameter is not supported by this model.",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Upstream request timed out",
    529: "Overloaded",
}


class ApiError(Exception):
    """A request the gateway refuses: status, `error.type` and message, plus extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        type: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type or ERROR_TYPES.get(status, "api_error")
        self.headers = headers or {}
        self.details = details
        """`error.details` (`{"error_code": ...}`), which the SDK maps to its own classes."""

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.type!r}, {self.message!r})"


def error_body(
    type: str, message: str, request_id: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The exact envelope: `{"type":"error","error":{...},"request_id":...}`, with
    `error.details` when the error has a code."""
    error: dict[str, Any] = {"type": type, "message": message}
    if details is not None:
        error["details"] = details
    return {"type": "error", "error": error, "request_id": request_id}


class AnswerError(Exception):
    """A scripted answer that does not fit the request it matched (or a rule that failed
    while matching it): the fake's own 500, whose message says which rule and why."""


def fake_error(exc: Exception) -> ApiError:
    """The 500 a client gets when the fake itself failed: says what happened, and tells
    SDKs not to retry (`x-should-retry: false`), so a test sees it at once."""
    if isinstance(exc, AnswerError):
        message = str(exc)
    else:
        message = (
            f"mockspike internal error: {type(exc).__name__}: {exc} (the log has the traceback)"
        )
    return ApiError(500, message, "api_error", {"x-should-retry": "false"})
