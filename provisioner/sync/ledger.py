"""The durable ledger: one SQLite row per input key per target, with its state, reason and content hash.

States: ``pending`` (seen, not yet written), ``sent`` (a write-once call is in flight: reconcile by
reading back before sending again), ``confirmed`` (the target has it), ``rejected`` (with a reason).
WAL mode and a commit after every API call make a kill -9 lose at most the call in flight, which the
next run sends again (every write but Marketo activities is an idempotent upsert).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..privacy import private_file
from .in_lists import in_lists, marks

SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    target TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT, ref TEXT, payload TEXT, source TEXT, updated REAL NOT NULL, at REAL,
    PRIMARY KEY (target, key));
CREATE INDEX IF NOT EXISTS rows_state ON rows (target, state);
"""
#: ``at``: the row's own ``time`` (epoch seconds) — among rows of one key the latest time wins, across
#: runs too; added to ledgers made before it had the column.
Known = tuple[str, str, "str | None", "float | None"]  # (hash, state, ref, at)
DONE = ("confirmed", "rejected")


#: The encoder ``json.dumps(data, sort_keys=True, ensure_ascii=False)`` builds on every call, built once:
#: the same text (so the same digests as every earlier version), without a new encoder per row.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


#: The last text-only row hashed and its digest: the sync hashes one row's values once per target it goes
#: to (a registration for the campaign member and the program member), and an equal dict has an equal hash.
_last: tuple[dict[str, str] | None, str] = (None, "")


def content_hash(data: Any) -> str:
    """A stable hash of a row's values (key order does not matter): the first 32 hex digits of the SHA-256 of
    its sorted-key JSON. Ledgers keep these digests across versions, so the text hashed must never change
    (test_ledger pins digests of 0.1.0)."""
    global _last
    seen, digest = _last
    if seen is not None and seen == data:  # text equals only text: the same JSON, the same digest
        return digest
    digest = hashlib.sha256(_CANONICAL.encode(data).encode()).hexdigest()[:32]
    if isinstance(data, dict) and all(type(k) is str and type(v) is str for k, v in data.items()):
        _last = (dict(data), digest)
    return digest


class Ledger:
    """Per-target row states in one SQLite file (created 0600, with its folder 0700, when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = private_file(path)  # 0600 in a 0700 folder: it holds e-mails (SQLite's -wal/-shm follow it)
        self.db = sqlite3.connect(str(self.path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        if "at" not in {c[1] for c in self.db.execute("PRAGMA table_info(rows)")}:
            self.db.execute("ALTER TABLE rows ADD COLUMN at REAL")
        self.db.execute("BEGIN")

    def close(self) -> None:
        self.commit()
        self.db.close()

    def commit(self) -> None:
        """Make everything recorded so far durable (called after every API call's outcomes are recorded)."""
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def lookup(self, target: str, keys: Iterable[str]) -> dict[str, Known]:
        """``key → (hash, state, ref, at)`` for the keys the ledger knows."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, Known] = {}
        for chunk in in_lists(keys):
            for key, digest, state, ref, at in self.db.execute(
                    f"SELECT key, hash, state, ref, at FROM rows WHERE target=? AND key IN ({marks(chunk)})",
                    [target, *chunk]):
                found[key] = (digest, state, ref, at)
        return found

    def is_done(self, target: str, key: str, digest: str, known: dict[str, Known]) -> bool:
        entry = known.get(key)
        return entry is not None and entry[0] == digest and entry[1] in DONE

    @staticmethod
    def is_newer(known: dict[str, Known], key: str, at: float | None) -> bool:
        """Whether the ledger holds a row of ``key`` with a later ``time`` than ``at`` (not a rejected one):
        the row at ``at`` is then superseded and must not overwrite it."""
        entry = known.get(key)
        return (entry is not None and at is not None and entry[3] is not None and entry[3] > at
                and entry[1] != "rejected")

    def mark(self, target: str, key: str, digest: str, state: str, reason: str | None = None,
             ref: str | None = None, payload: Any = None, source: str | None = None, at: float | None = None) -> None:
        """Record the state of one key (keeps an earlier ``ref`` and ``at`` when none is given)."""
        self.mark_many([(target, key, digest, state, reason, ref, payload, source, at)])

    def mark_many(self, marks: list[tuple[str, str, str, str, str | None, str | None, Any, str | None,
                                          float | None]]) -> None:
        """:meth:`mark` for many keys in one statement: ``(target, key, digest, state, reason, ref, payload,
        source, at)`` each."""
        now = time.time()
        self.db.executemany(
            "INSERT INTO rows (target, key, hash, state, reason, ref, payload, source, updated, at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(target, key) DO UPDATE SET hash=excluded.hash, "
            "state=excluded.state, reason=excluded.reason, ref=COALESCE(excluded.ref, rows.ref), "
            "payload=COALESCE(excluded.payload, rows.payload), source=COALESCE(excluded.source, rows.source), "
            "updated=excluded.updated, at=COALESCE(excluded.at, rows.at)",
            [(target, key, digest, state, reason, ref, None if payload is None else json.dumps(payload), source,
              now, at) for target, key, digest, state, reason, ref, payload, source, at in marks])

    def in_state(self, target: str, state: str) -> Iterator[tuple[str, str, Any, float]]:
        """``(key, hash, payload, updated)`` of every key of ``target`` in ``state``."""
        for key, digest, payload, updated in self.db.execute(
                "SELECT key, hash, payload, updated FROM rows WHERE target=? AND state=?", (target, state)).fetchall():
            yield key, digest, json.loads(payload) if payload else None, updated

    def counts(self) -> dict[str, dict[str, int]]:
        """``target → state → rows``."""
        out: dict[str, dict[str, int]] = {}
        for target, state, n in self.db.execute("SELECT target, state, COUNT(*) FROM rows GROUP BY target, state"):
            out.setdefault(target, {})[state] = n
        return out
