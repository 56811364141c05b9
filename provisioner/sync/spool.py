"""The run's spool: every work item of the whole input, read once, the latest row of each (target, key) kept.

Phase 1 of a sync streams the input into it (rows already checked); phase 2 walks it in windows of
input rows, sink by sink. It is a private SQLite file beside the ledger (0600: it holds the rows'
personal data), rebuilt by every run and deleted when the run ends, so the run never holds the whole
input as Python objects, yet a Bulk job or an import can span the whole input. It also keeps each row's
fate for the run's accounts (:mod:`.accounting`): rejected or unchanged before any write, else from the
states of its items, and how many of its items are still unsettled (progress).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Iterator

from ..privacy import private_file
from .accounting import fate
from .chunks import WINDOW_ROWS
from .sources import Row
from .work import Item

SCHEMA = """
CREATE TABLE rows (seq INTEGER PRIMARY KEY, fate TEXT, left INTEGER NOT NULL);
CREATE TABLE items (target TEXT NOT NULL, key TEXT NOT NULL, digest TEXT NOT NULL, at REAL, seq INTEGER NOT NULL,
                    kind TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL, data TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending', PRIMARY KEY (target, key));
"""


def supersedes(new: float | None, old: float | None) -> bool:
    """Whether a row read later (time ``new``) replaces one read earlier (``old``) of the same key: the latest
    time wins, and on a tie or without times the later row does."""
    return new is None or old is None or new >= old


class Spool:
    """Work items by (target, key) and row fates by input order (``seq``), in one private SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        for stale in (self.path, Path(f"{self.path}-journal")):  # a killed run's spool: rebuilt from the input
            stale.unlink(missing_ok=True)
        private_file(self.path)
        self.db = sqlite3.connect(str(self.path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")  # rebuilt by every run: nothing here needs to survive a crash
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.rows = 0
        self.done = 0  # rows with no item left to settle

    def close(self) -> None:
        """Drop the spool (its rows are in the targets, the ledger or the rejects file now)."""
        try:
            self.db.close()
        finally:
            self.path.unlink(missing_ok=True)

    # -- phase 1 ---------------------------------------------------------------------------
    def row(self, fate_: str | None = None) -> int:
        """Count one input row (``fate_`` when it is settled before any write); returns its ``seq``."""
        self.rows += 1
        self.db.execute("INSERT INTO rows (seq, fate, left) VALUES (?, ?, 0)", (self.rows, fate_))
        if fate_ is not None:
            self.done += 1
        return self.rows

    def put(self, seq: int, items: list[Item], row: Row) -> None:
        """The work items of row ``seq``; each replaces an earlier row's item of its (target, key) unless that
        one has a later time (then this one is dropped)."""
        kept = 0
        data = json.dumps(row.data, ensure_ascii=False, separators=(",", ":"))
        for item in items:
            earlier = self.db.execute("SELECT at, seq FROM items WHERE target=? AND key=?",
                                      (item.target, item.key)).fetchone()
            if earlier is not None:
                if not supersedes(item.at, earlier[0]):
                    continue
                self._settle_one(earlier[1])
            self.db.execute("INSERT OR REPLACE INTO items (target, key, digest, at, seq, kind, file, line, data) "
                            "VALUES (?,?,?,?,?,?,?,?,?)", (item.target, item.key, item.digest, item.at, seq,
                                                            row.kind, row.file, row.line, data))
            kept += 1
        if kept:
            self.db.execute("UPDATE rows SET left=? WHERE seq=?", (kept, seq))
        else:
            self.done += 1  # every item of it replaced by a later row already: unchanged

    def ready(self) -> None:
        """End of phase 1: index the items for the windows and the accounts."""
        self.db.execute("CREATE INDEX items_seq ON items (seq, target)")
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    # -- phase 2 ---------------------------------------------------------------------------
    def totals(self, prefix: str) -> dict[str, int]:
        """``target → pending items`` of the targets starting with ``prefix``."""
        return dict(self.db.execute("SELECT target, COUNT(*) FROM items WHERE target >= ? AND target < ? "
                                    "AND state='pending' GROUP BY target", (prefix, prefix + "\uffff")))

    def windows(self, prefix: str, size: int = WINDOW_ROWS) -> Iterator[list[Item]]:
        """The pending items of ``prefix``'s targets, ``size`` input rows at a time, in input order."""
        for start in range(0, self.rows, size):
            items = self._items("seq > ? AND seq <= ? AND target >= ? AND target < ? AND state='pending' "
                                "ORDER BY seq, target", (start, start + size, prefix, prefix + "\uffff"))
            if items:
                yield items

    def items(self, target: str, keys: list[str]) -> list[Item]:
        """The pending items of ``target`` with ``keys`` (to settle what a run-wide Bulk job or import did)."""
        found: list[Item] = []
        for at in range(0, len(keys), 500):
            chunk = keys[at:at + 500]
            found += self._items(f"target=? AND key IN ({','.join('?' * len(chunk))}) AND state='pending'",
                                 (target, *chunk))
        return found

    def _items(self, where: str, args: tuple[object, ...]) -> list[Item]:
        rows = self.db.execute(f"SELECT target, key, digest, at, seq, kind, file, line, data FROM items WHERE {where}",
                               args).fetchall()
        parsed: dict[tuple[int, str], Row] = {}  # one Row per input row, shared by its items
        out = []
        for target, key, digest, at, seq, kind, file, line, data in rows:
            row = parsed.get((seq, data))
            if row is None:
                row = parsed[(seq, data)] = Row(kind, json.loads(data), file, line)
            out.append(Item(target, key, digest, row, at=at, seq=seq))
        return out

    def settle(self, item: Item, state: str) -> None:
        """Record an item's end state (confirmed, rejected, or ``skipped``: the ledger already had it)."""
        self.db.execute("UPDATE items SET state=? WHERE target=? AND key=?", (state, item.target, item.key))
        self._settle_one(item.seq)

    def _settle_one(self, seq: int) -> None:
        left = self.db.execute("UPDATE rows SET left = left - 1 WHERE seq=? RETURNING left", (seq,)).fetchone()
        if left is not None and left[0] == 0:
            self.done += 1

    def fates(self) -> Iterator[str]:
        """Every row's fate, in input order (items the ledger already had count as nothing to do)."""
        cursor = self.db.execute(
            "SELECT r.fate, group_concat(i.state) FROM rows r LEFT JOIN items i ON i.seq = r.seq "
            "AND i.state != 'skipped' GROUP BY r.seq ORDER BY r.seq")
        for settled, states in cursor:
            yield settled or fate(states.split(",") if states else ())

    def __del__(self) -> None:  # a run that raised before close: never leave personal data behind
        try:
            if self.path.exists() and os.access(self.path, os.W_OK):
                self.close()
        except Exception:
            pass
