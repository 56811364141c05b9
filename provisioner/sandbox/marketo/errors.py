"""Marketo error codes as the sandbox reports them, and the exception handlers raise to report one."""

from __future__ import annotations

# Response-level codes (``errors[]``), with Marketo's standard wording.
EMPTY_TOKEN = ("600", "Access token not specified")
INVALID_TOKEN = ("601", "Access token invalid")
EXPIRED_TOKEN = ("602", "Access token expired")
ACCESS_DENIED = ("603", "Access denied")
TIMED_OUT = ("604", "Request timed out")
METHOD_NOT_SUPPORTED = ("605", "HTTP Method not supported")
DAILY_QUOTA = ("607", "Daily quota reached")
UNAVAILABLE = ("608", "API Temporarily Unavailable")
INVALID_JSON = ("609", "Invalid JSON")
NOT_FOUND = ("610", "Requested resource not found")
SYSTEM_ERROR = ("611", "System error")
INVALID_CONTENT_TYPE = ("612", "Invalid Content Type")
INVALID_MULTIPART = ("613", "Invalid Multipart Request")
CONCURRENCY = ("615", "Concurrent access limit reached")
TRANSIENT = ("713", "Transient Error")

# Codes used with a specific message.
BLANK = "701"  # "<field> cannot be blank"
NO_DATA = "702"
BUSINESS_RULE = "709"  # duplicate names, changes refused after approval, wrong channel kind, …
FOLDER_NOT_FOUND = "710"
INVALID_VALUE = "1001"
MISSING_PARAMETER = "1002"
INVALID_DATA = "1003"  # bad input, too many records in one call
LEAD_NOT_FOUND = "1004"
LEAD_EXISTS = "1005"
FIELD_NOT_FOUND = "1006"
MULTIPLE_LEADS = "1007"
OBJECT_NOT_FOUND = "1013"
TOO_MANY_IMPORTS = "1016"
OBJECT_EXISTS = "1017"
PROGRAM_STATUS_NOT_FOUND = "1025"
TYPE_LIMIT = "1027"
FIELD_LIMIT = "1028"
UNSUPPORTED_FILTER = "1035"
DUPLICATE_IN_INPUT = "1036"
LEAD_SKIPPED = "1037"
DISCARD_DRAFT_FAILED = "1048"


def rate_limit_message(calls: int, window_s: float) -> str:
    """Marketo's 606 wording (its own spelling included)."""
    return f"Max rate limit '{calls}' exceeded with in '{window_s:g}' secs"


class ApiError(Exception):
    """A response-level failure: ``success: false`` with one ``errors[]`` entry, HTTP 200."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message

    @classmethod
    def of(cls, pair: tuple[str, str]) -> "ApiError":
        """An error from one of the (code, message) constants above."""
        return cls(*pair)


def reason(code: str, message: str) -> dict[str, str]:
    """A record-level reason (``reasons[]``/``errors[]`` entry)."""
    return {"code": code, "message": message}
