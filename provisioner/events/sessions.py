"""The sessions file of `event new --sessions`: one row per session, checked before anything is rendered.

Columns: ``name`` and ``start`` are required; ``end`` and ``type`` (``live`` or ``on-demand``,
default live) are optional; every other column is a template variable. A bad row is reported
with its line and the reason, and never reaches an org.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

REQUIRED = ("name", "start")
TYPES = {"live": "live", "on-demand": "on-demand", "ondemand": "on-demand", "on demand": "on-demand"}


@dataclass
class RowError:
    """Why one session cannot be created: where (``sessions.csv:7``), what, and what to do."""

    where: str
    message: str
    hint: str = ""

    def render(self) -> str:
        return f"{self.where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class SessionRow:
    """One session to stamp out: its variables for the templates and where it came from."""

    where: str
    variables: dict[str, Any]
    start: datetime
    end: datetime | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.variables["name"])

    @property
    def on_demand(self) -> bool:
        return self.variables["type"] == "on-demand"

    def is_past(self, now: datetime) -> bool:
        """A live session that started before ``now`` (on-demand sessions never are)."""
        return not self.on_demand and self.start < now


class SessionsFileError(Exception):
    """The sessions file cannot be used at all (unreadable, no header, a required column missing)."""


def parse_when(text: str) -> datetime | None:
    """``2026-12-10``, ``2026-12-10T15:00``, ``2026-12-10 15:00:00Z`` or with an offset; naive means UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def make_row(where: str, raw: dict[str, Any]) -> SessionRow:
    """Check one session's values and derive the variables templates get (``start_date``, ``end_date``)."""
    errors: list[RowError] = []
    variables = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    if not variables.get("name"):
        errors.append(RowError(where, "the session has no name", "fill in the 'name' column"))
    start = parse_when(str(variables.get("start") or ""))
    if start is None:
        errors.append(RowError(where, f"start '{variables.get('start') or ''}' is not a date",
                               "write it as 2026-12-10 or 2026-12-10T15:00:00Z"))
    end = None
    if variables.get("end"):
        end = parse_when(str(variables["end"]))
        if end is None:
            errors.append(RowError(where, f"end '{variables['end']}' is not a date",
                                   "write it as 2026-12-10 or 2026-12-10T17:00:00Z"))
        elif start is not None and end < start:
            errors.append(RowError(where, f"end {variables['end']} is before start {variables['start']}",
                                   "swap them, or fix the end"))
    kind = str(variables.get("type") or "live").lower()
    if kind not in TYPES:
        errors.append(RowError(where, f"type '{variables.get('type')}' is not live or on-demand",
                               "use live for a scheduled session, on-demand for a recording"))
    variables["type"] = TYPES.get(kind, kind)
    fallback = datetime(1970, 1, 1, tzinfo=timezone.utc)
    variables["start_date"] = (start or fallback).date().isoformat()
    variables["end_date"] = (end or start or fallback).date().isoformat()
    variables.setdefault("end", "")
    return SessionRow(where, variables, start or fallback, end, errors)


def read_sessions(path: str | Path, defaults: dict[str, Any] | None = None) -> list[SessionRow]:
    """Every row of ``path`` (``defaults``, e.g. ``--var`` values, fill columns the file lacks).

    Raises SessionsFileError when the file as a whole is unusable; row problems stay on the rows,
    including a name used twice (case-insensitive, as Marketo program names are).
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise SessionsFileError(f"{path}: cannot read the sessions file: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
        except csv.Error as exc:
            raise SessionsFileError(f"{path}:1: not a CSV file: {exc}") from None
        missing = [c for c in REQUIRED if c not in header and c not in (defaults or {})]
        if not header:
            raise SessionsFileError(f"{path}:1: the file is empty; the first line names the columns "
                                    f"({', '.join(REQUIRED)}, end, type, and any template variables)")
        if missing:
            raise SessionsFileError(f"{path}:1: column {', '.join(repr(c) for c in missing)} is missing "
                                    f"(the header has: {', '.join(header)}); add it to the first line")
        rows: list[SessionRow] = []
        first: dict[str, str] = {}
        try:
            for record in reader:
                where = f"{path}:{reader.line_num}"
                if None in record:
                    rows.append(SessionRow(where, {"name": "", "type": "live"}, datetime.now(timezone.utc), None,
                                           [RowError(where, "the row has more values than the header has columns",
                                                     "quote values that contain commas")]))
                    continue
                values = dict(defaults or {})
                values.update({k.strip(): v for k, v in record.items() if k is not None and v is not None})
                row = make_row(where, values)
                key = row.name.lower()
                if key and key in first:
                    row.errors.append(RowError(where, f"session '{row.name}' is listed twice",
                                               f"the first is at {first[key]}; names must be unique"))
                first.setdefault(key, where)
                rows.append(row)
        except csv.Error as exc:
            raise SessionsFileError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    if not rows:
        raise SessionsFileError(f"{path}: the file has a header but no sessions")
    return rows
