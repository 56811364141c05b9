"""The rejects file: CSV of every row that could not be written (original row, target, reason, when); created
0600 since its rows hold attendees' e-mails and names."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from ..privacy import private_file
from .sources import Row

COLUMNS = ("file", "line", "kind", "target", "reason", "when", "row")


class Rejects:
    """Appends to the rejects CSV, opening it (with a header when new) at the first reject."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self._handle: TextIO | None = None
        self._writer: csv.writer | None = None  # type: ignore[valid-type]

    def add(self, row: Row, target: str, reason: str) -> None:
        """Record one rejected row for one target."""
        if self._writer is None:
            new = not self.path.exists() or self.path.stat().st_size == 0
            private_file(self.path)  # 0600 in a 0700 folder: rows hold e-mails and names
            self._handle = self.path.open("a", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            if new:
                self._writer.writerow(COLUMNS)
        self._writer.writerow((row.file, row.line, row.kind, target, reason,
                               datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               json.dumps(row.data, ensure_ascii=False)))
        self.count += 1

    def flush(self) -> None:
        if self._handle:
            self._handle.flush()

    def close(self) -> None:
        if self._handle:
            self._handle.close()
            self._handle = None
            self._writer = None
