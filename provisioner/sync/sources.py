"""Streaming readers for event-data exports: CSV (one file per record kind) and JSON Lines (a ``kind`` per line).

Rows are yielded one at a time with their file and line, so a file of any size is never held in memory.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

KINDS = ("registration", "engagement", "poll", "replay")


class SourceError(Exception):
    """An input file that cannot be read at all (unknown kind, unreadable format)."""


@dataclass(frozen=True)
class Row:
    """One input record: its kind, its values as read, and where it came from."""

    kind: str
    data: dict[str, str]
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def kind_from_name(path: Path) -> str | None:
    """The record kind a CSV file name announces (``kaltura-export-registrations.csv`` → registration)."""
    name = path.name.lower()
    return next((k for k in KINDS if k in name), None)


def _csv_rows(path: Path) -> Iterator[Row]:
    default_kind = kind_from_name(path)
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return
        if default_kind is None and "kind" not in reader.fieldnames:
            raise SourceError(f"{path}: no 'kind' column and the file name names no record kind "
                              f"({', '.join(KINDS)})")
        for record in reader:
            data = {k: (v or "").strip() for k, v in record.items() if k is not None}
            kind = data.pop("kind", "") or default_kind or ""
            yield Row(kind, data, str(path), reader.line_num)


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open("r", encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                yield Row("", {"_raw": text.rstrip("\n"), "_error": f"not JSON: {exc}"}, str(path), number)
                continue
            if not isinstance(record, dict):
                yield Row("", {"_raw": text.rstrip("\n"), "_error": "a line must be a JSON object"}, str(path), number)
                continue
            data = {str(k): ("" if v is None else str(v)).strip() for k, v in record.items()}
            yield Row(data.pop("kind", ""), data, str(path), number)


def read_rows(paths: Iterable[str | Path]) -> Iterator[Row]:
    """Every row of every file, in order; files ending ``.jsonl``/``.ndjson`` are JSON Lines, others CSV."""
    for raw in paths:
        path = Path(raw)
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            yield from _jsonl_rows(path)
        else:
            yield from _csv_rows(path)
