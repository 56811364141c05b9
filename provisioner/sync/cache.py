"""What one sync run learned per e-mail (a person's Id, a Marketo lead id), kept for the rest of the run
without growing with the input: the latest entries in memory, older ones in a temporary SQLite file; and the
keys a run has met so far (:class:`SeenKeys`), on disk only."""

from __future__ import annotations

import marshal
import sqlite3
import threading
from itertools import islice
from typing import Any, Generic, Iterable, TypeVar

from .in_lists import in_lists, marks
from .tempdb import temporary_db

V = TypeVar("V")
_MISSING = object()


class RunCache(Generic[V]):
    """A string-keyed cache for one run: up to ``limit`` entries in memory, the rest spilled to a private
    temporary SQLite database (deleted when the run ends), so a 1,000,000-row input neither asks the API
    again for people it already found nor holds them all in memory.

    :meth:`trim` moves the oldest entries out between batches, never inside one; an entry brought back from disk
    and not changed since is dropped, not written again. :meth:`load` brings a batch's keys back in one query per
    500 (a look-up of one spilled key is a query of its own). Values are stored with :mod:`marshal` (the
    database lives for one run): strings, numbers, ``None``, booleans and tuples of them.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._recent: dict[str, Any] = {}
        self._clean: set[str] = set()  # in memory as on disk
        self._absent: set[str] = set()  # asked by :meth:`load` and not on disk (forgotten at the next trim)
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
        self._clean.discard(key)
        self._absent.discard(key)

    def setdefault(self, key: str, value: Any) -> Any:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            self[key] = value
            return value
        return found

    def load(self, keys: Iterable[str]) -> None:
        """Bring the spilled entries of ``keys`` back into memory at once (the keys a batch will look up)."""
        if self._db is None:
            return
        wanted = [k for k in dict.fromkeys(keys) if k not in self._recent and k not in self._absent]
        with self._lock:
            for chunk in in_lists(wanted):
                found = dict(self._db.execute(f"SELECT key, value FROM spill WHERE key IN ({marks(chunk)})", chunk))
                for key in chunk:
                    if key in found:
                        self._recent[key] = marshal.loads(found[key])
                        self._clean.add(key)
                    else:
                        self._absent.add(key)

    def trim(self) -> None:
        """Spill the oldest in-memory entries beyond ``limit`` to the temporary database."""
        self._absent.clear()
        excess = len(self._recent) - self.limit
        if excess <= 0:
            return
        rows = []
        for key in list(islice(self._recent, excess)):
            value = self._recent.pop(key)
            if key in self._clean:
                self._clean.discard(key)
            else:
                rows.append((key, marshal.dumps(value)))
        with self._lock:
            self._open().executemany("INSERT OR REPLACE INTO spill (key, value) VALUES (?, ?)", rows)

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = temporary_db("CREATE TABLE spill (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        return self._db

    def _load(self, key: str) -> Any:
        if self._db is None or key in self._absent:
            return _MISSING
        with self._lock:
            row = self._db.execute("SELECT value FROM spill WHERE key = ?", (key,)).fetchone()
        if row is None:
            return _MISSING
        value = marshal.loads(row[0])
        self._recent[key] = value  # used again soon, most likely in this batch
        self._clean.add(key)
        return value


class SeenKeys:
    """The keys a run has met so far (every e-mail of a 1,000,000-row input: too many to hold as Python strings),
    in a private temporary SQLite database: :meth:`first` answers which keys of a batch are new."""

    def __init__(self) -> None:
        self._db = temporary_db("CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID")

    def first(self, keys: Iterable[str]) -> list[str]:
        """The keys not met before (once each, in order), now met."""
        batch = list(dict.fromkeys(keys))
        known: set[str] = set()
        for chunk in in_lists(batch):
            known.update(k for (k,) in self._db.execute(f"SELECT key FROM seen WHERE key IN ({marks(chunk)})", chunk))
        new = [k for k in batch if k not in known]
        self._db.executemany("INSERT INTO seen (key) VALUES (?)", [(k,) for k in new])
        return new
