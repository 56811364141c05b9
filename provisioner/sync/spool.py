"""The run's spool: every work item of the whole input, read once, the latest row of each (target, key) kept.

Phase 1 of a sync streams the input into it (rows already checked); phase 2 walks it in windows of
input rows, sink by sink. It is a private SQLite file beside the ledger (0600: it holds the rows'
personal data), rebuilt by every run and deleted when the run ends, so the run never holds the whole
input as Python objects, yet a Bulk job or an import can span the whole input. It also keeps each row's
fate for the run's accounts (:mod:`.accounting`): rejected or unchanged before any write, else from the
states of its items, and how many of its items are still unsettled (progress).

Each row's values are stored once (the items of a row name it by ``seq``), as :mod:`marshal` bytes: the
file lives for one run of one Python, so the fastest codec of a ``dict[str, str]`` is the right one.
Phase 1 writes ``FLUSH_ROWS`` rows at a time (``executemany``), and settling writes a call's items at once:
a statement per row and item was most of the client's CPU.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

from ..privacy import private_file
from .accounting import fate
from .in_lists import in_lists, marks
from .chunks import WINDOW_ROWS
from .sources import Row
from .work import Item

SCHEMA = """
CREATE TABLE rows (seq INTEGER PRIMARY KEY, fate TEXT, left INTEGER NOT NULL DEFAULT 0, kind TEXT, file TEXT,
                   line INTEGER, data BLOB);
CREATE TABLE items (target TEXT NOT NULL, key TEXT NOT NULL, digest TEXT NOT NULL, at REAL, seq INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending', PRIMARY KEY (target, key));
"""
#: An item replaces the spooled one of its (target, key) when :func:`supersedes` says so (SQLite asks it).
PUT = ("INSERT INTO items (target, key, digest, at, seq) VALUES (?,?,?,?,?) ON CONFLICT (target, key) DO UPDATE "
       "SET digest=excluded.digest, at=excluded.at, seq=excluded.seq WHERE supersedes(excluded.at, items.at)")
FLUSH_ROWS = 2_000  # input rows buffered in phase 1 before one executemany writes them


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
        self.db.create_function("supersedes", 2, supersedes, deterministic=True)
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.rows = 0
        self.done = 0  # rows with no item left to settle
        self._rows: list[tuple[object, ...]] = []  # phase 1: rows not written yet
        self._items: list[tuple[object, ...]] = []
        self._pending: Counter[str] = Counter()  # target → items not settled yet (from ready() on)

    def close(self) -> None:
        """Drop the spool (its rows are in the targets, the ledger or the rejects file now)."""
        try:
            self.db.close()
        finally:
            self.path.unlink(missing_ok=True)

    # -- phase 1 ---------------------------------------------------------------------------
    def row(self, fate_: str | None = None) -> int:
        """Count one input row (``fate_`` when it is settled before any write); returns its ``seq``."""
        if len(self._rows) >= FLUSH_ROWS:
            self._flush()
        self.rows += 1
        self._rows.append((self.rows, fate_, None, None, None, None))
        return self.rows

    def put(self, seq: int, items: list[Item], row: Row) -> None:
        """The work items of row ``seq`` (just counted by :meth:`row`); each replaces an earlier row's item of
        its (target, key) unless that one has a later time (then this one is dropped)."""
        data = marshal.dumps(row.data)
        entry = (seq, None, row.kind, row.file, row.line, data)
        if self._rows and self._rows[-1][0] == seq:
            self._rows[-1] = entry
        else:
            self.db.execute("UPDATE rows SET kind=?, file=?, line=?, data=? WHERE seq=?",
                            (row.kind, row.file, row.line, data, seq))
        self._items += [(i.target, i.key, i.digest, i.at, seq) for i in items]

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO rows (seq, fate, kind, file, line, data) VALUES (?,?,?,?,?,?)", self._rows)
        self.db.executemany(PUT, self._items)  # in input order: a later row meets the earlier one it replaces
        self._rows, self._items = [], []

    def ready(self) -> None:
        """End of phase 1: index the items for the windows, count each row's items (progress, accounts)."""
        self._flush()
        self.db.execute("CREATE INDEX items_seq ON items (seq, target)")
        self.db.execute("UPDATE rows SET left = counted.n FROM (SELECT seq, COUNT(*) AS n FROM items GROUP BY seq) "
                        "AS counted WHERE rows.seq = counted.seq")
        self.done = self.db.execute("SELECT COUNT(*) FROM rows WHERE left = 0").fetchone()[0]
        self._pending = Counter(dict(self.db.execute("SELECT target, COUNT(*) FROM items GROUP BY target")))
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    # -- phase 2 ---------------------------------------------------------------------------
    def totals(self, prefix: str) -> dict[str, int]:
        """``target → pending items`` of the targets starting with ``prefix`` (counted at :meth:`ready`, less
        what :meth:`settle` has settled since: no scan of the items)."""
        return {t: n for t, n in sorted(self._pending.items()) if t.startswith(prefix) and n > 0}

    def windows(self, prefix: str, size: int = WINDOW_ROWS) -> Iterator[list[Item]]:
        """The pending items of ``prefix``'s targets, ``size`` input rows at a time, in input order."""
        for start in range(0, self.rows, size):
            items = self._items_where("i.seq > ? AND i.seq <= ? AND i.target >= ? AND i.target < ? "
                                      "AND i.state='pending' ORDER BY i.seq, i.target",
                                      (start, start + size, prefix, prefix + "\uffff"))
            if items:
                yield items

    def items(self, target: str, keys: list[str]) -> list[Item]:
        """The pending items of ``target`` with ``keys`` (to settle what a run-wide Bulk job or import did)."""
        found: list[Item] = []
        for chunk in in_lists(keys):
            found += self._items_where(f"i.target=? AND i.key IN ({marks(chunk)}) AND i.state='pending'",
                                       (target, *chunk))
        return found

    def _items_where(self, where: str, args: tuple[object, ...]) -> list[Item]:
        rows = self.db.execute("SELECT i.target, i.key, i.digest, i.at, i.seq, r.kind, r.file, r.line, r.data "
                               f"FROM items i JOIN rows r ON r.seq = i.seq WHERE {where}", args).fetchall()
        parsed: dict[int, Row] = {}  # one Row per input row, shared by its items
        out = []
        for target, key, digest, at, seq, kind, file, line, data in rows:
            row = parsed.get(seq)
            if row is None:
                row = parsed[seq] = Row(kind, marshal.loads(data), file, line)
            out.append(Item(target, key, digest, row, at=at, seq=seq))
        return out

    def settle(self, items: Iterable[Item], state: str | None = None) -> None:
        """Record items' end states (each its own, or ``state``: ``skipped`` when the ledger already had it):
        a statement per state and target and per ``IN_LIST`` keys (not one per item), the same for the rows'
        counts of items left."""
        items = list(items)
        if not items:
            return
        keys: dict[tuple[str, str], list[str]] = {}
        for i in items:
            keys.setdefault((state or i.state, i.target), []).append(i.key)
        for (state_, target), its in keys.items():
            for chunk in in_lists(its):
                self.db.execute(f"UPDATE items SET state=? WHERE target=? AND key IN ({marks(chunk)})",
                                (state_, target, *chunk))
        self._pending.subtract(i.target for i in items)  # each item settles once, from pending
        settled = Counter(i.seq for i in items)  # a row's items settled by this call (one, mostly)
        by_count: dict[int, list[int]] = {}
        for seq, n in settled.items():
            by_count.setdefault(n, []).append(seq)
        for n, seqs in by_count.items():
            for chunk in in_lists(seqs):
                self.db.execute(f"UPDATE rows SET left = left - ? WHERE seq IN ({marks(chunk)})", (n, *chunk))
        for chunk in in_lists(list(settled)):
            self.done += self.db.execute(f"SELECT COUNT(*) FROM rows WHERE seq IN ({marks(chunk)}) AND left = 0",
                                         chunk).fetchone()[0]

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
