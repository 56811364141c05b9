"""The per-record error shape every Salesforce API uses: ``{statusCode, message, fields}``."""

from __future__ import annotations

from typing import Any


def error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    """One error in the API's shape."""
    return {"statusCode": code, "message": message, "fields": list(fields or [])}
