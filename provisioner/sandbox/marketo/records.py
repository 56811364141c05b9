"""Helpers shared by the lead-database handlers: typed value checks and opaque paging tokens."""

from __future__ import annotations

import base64
import re
from typing import Any

from . import errors
from .errors import ApiError, reason
from .state import parse_iso

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_value(name: str, data_type: str, value: Any) -> dict[str, str] | None:
    """A 1001 reason when ``value`` is not of Marketo ``data_type``; None when it fits (or is empty)."""
    if value is None or value == "":
        return None
    ok = True
    if data_type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, str) and
                                                                        re.fullmatch(r"-?\d+", value) is not None)
    elif data_type in ("float", "currency"):
        try:
            float(value)
        except (TypeError, ValueError):
            ok = False
        ok = ok and not isinstance(value, bool)
    elif data_type == "boolean":
        ok = isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
    elif data_type in ("date", "datetime"):
        ok = parse_iso(str(value)) is not None
    elif data_type == "email":
        ok = isinstance(value, str) and _EMAIL.match(value) is not None
    elif data_type in ("string", "phone", "url"):
        ok = isinstance(value, (str, int, float)) and len(str(value)) <= 255
    if ok:
        return None
    return reason(errors.INVALID_VALUE, f"Invalid value '{value}' for field '{name}'. Required of type '{data_type}'")


def batch_size(value: Any, max_batch: int) -> int:
    """A ``batchSize`` parameter: 1..``max_batch``, ``max_batch`` when absent (1003 otherwise)."""
    if value in (None, ""):
        return max_batch
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= max_batch:
        raise ApiError(errors.INVALID_DATA, f"batchSize must be between 1 and {max_batch}")
    return size


def paged(rows: list[Any], token: str | None, size: int) -> tuple[list[Any], int, dict[str, Any]]:
    """One page of ``rows`` after a paging token: the page, its offset, and ``moreResult``/``nextPageToken``."""
    offset = decode_page_token(token)
    extras: dict[str, Any] = {}
    if offset + size < len(rows):
        extras = {"moreResult": True, "nextPageToken": encode_page_token(offset + size)}
    return rows[offset:offset + size], offset, extras


def encode_page_token(offset: int) -> str:
    """An opaque paging token for a result offset."""
    return base64.urlsafe_b64encode(f"sbx:{offset}".encode()).decode().rstrip("=")


def decode_page_token(token: str | None) -> int:
    """The offset a paging token stands for (0 for none; 1003 for a token this instance never issued)."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, offset = text.split(":")
        if prefix != "sbx":
            raise ValueError(text)
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(errors.INVALID_DATA, f"Invalid nextPageToken '{token}'")
