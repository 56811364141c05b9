"""Dates in manifests: campaign and program start/end dates, written as ISO 8601 strings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator


def parse_date(text: str) -> date | None:
    """The calendar date of ``YYYY-MM-DD`` or an ISO 8601 date-time (``Z`` allowed); None if it is not one."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def date_range_problems(entry: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(key, message, hint) for a ``startDate``/``endDate`` that is not a real date, or an end before the start."""
    parsed: dict[str, date] = {}
    for key in ("startDate", "endDate"):
        if key not in entry:
            continue
        value = parse_date(str(entry[key]))
        if value is None:
            yield key, f"{key} '{entry[key]}' is not a date", "write it as YYYY-MM-DD, e.g. 2026-12-10"
        else:
            parsed[key] = value
    if len(parsed) == 2 and parsed["endDate"] < parsed["startDate"]:
        yield "endDate", f"endDate {entry['endDate']} is before startDate {entry['startDate']}", \
            "swap them, or fix the end date"
