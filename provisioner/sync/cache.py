"""What one sync run learned per e-mail (a person's Id, a Marketo lead id), kept for the rest of the run
without growing with the input: the latest entries in memory, older ones in a temporary SQLite file; and the
keys a run has met so far (:class:`SeenKeys`), on disk only."""

from __future__ import annotations

import json
import sqlite3
import threading
from itertools import islice
from typing import Any, Generic, Iterable, TypeVar

V = TypeVar("V")
_MISSING = object()


class RunCache(Generic[V]):
    """A string-keyed cache for one run: up to ``limit`` entries in memory, the rest spilled to a private
    temporary SQLite database (deleted when the run ends), so a 1,000,000-row input neither asks the API
    again for people it already found nor holds them all in memory.

    :meth:`trim` moves the oldest entries out between batches, never inside one. Values must be JSON
    values (tuples come back as tuples).
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._recent: dict[str, Any] = {}
        self._db: sqlite3.Connection | None = None  # opened at the first spill
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        return key in self._recent or self._load(key) is not _MISSING

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._recent:
            return self._recent[key]
        value = self._load(key)
        return default if value is _MISSING else value

    def __setitem__(self, key: str, value: Any) -> None:
        self._recent[key] = value

    def setdefault(self, key: str, value: Any) -> Any:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            self._recent[key] = value
            return value
        return found

    def trim(self) -> None:
        """Spill the oldest in-memory entries beyond ``limit`` to the temporary database."""
        excess = len(self._recent) - self.limit
        if excess <= 0:
            return
        rows = [(k, json.dumps(self._recent.pop(k))) for k in list(islice(self._recent, excess))]
        with self._lock:
            db = self._open()
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO spill (key, value) VALUES (?, ?)", rows)
            db.execute("COMMIT")

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = _temporary("CREATE TABLE spill (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return self._db

    def _load(self, key: str) -> Any:
        if self._db is None:
            return _MISSING
        with self._lock:
            row = self._db.execute("SELECT value FROM spill WHERE key = ?", (key,)).fetchone()
        if row is None:
            return _MISSING
        value = json.loads(row[0])
        value = tuple(value) if isinstance(value, list) else value
        self._recent[key] = value  # used again soon, most likely in this batch
        return value


class SeenKeys:
    """The keys a run has met so far (every e-mail of a 1,000,000-row input: too many to hold as Python strings),
    in a private temporary SQLite database: :meth:`first` answers which keys of a batch are new."""

    def __init__(self) -> None:
        self._db = _temporary("CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID")

    def first(self, keys: Iterable[str]) -> list[str]:
        """The keys not met before (once each, in order), now met."""
        batch = list(dict.fromkeys(keys))
        known: set[str] = set()
        for at in range(0, len(batch), 500):
            chunk = batch[at:at + 500]
            known.update(k for (k,) in self._db.execute(
                f"SELECT key FROM seen WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        new = [k for k in batch if k not in known]
        self._db.executemany("INSERT INTO seen (key) VALUES (?)", [(k,) for k in new])
        return new


def _temporary(schema: str) -> sqlite3.Connection:
    """A connection to SQLite's private temporary database ("": a file only it sees, removed on close) with
    ``schema``, without a journal (nothing in it needs to survive the run)."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(schema)
    return db
