"""A private temporary SQLite database for one run: what the run keeps off the heap (staged records, spilled
cache entries, the keys it has met) without holding it as Python objects.

SQLite's "" database is a file only this connection sees, removed when it closes. Nothing in it needs to
survive the run, so it has no journal, no syncs, and one transaction open for its whole life: a statement
that commits on its own (autocommit) writes its dirty pages back each time, which was a third of the CPU of
staging a record.
"""

from __future__ import annotations

import sqlite3


def temporary_db(schema: str) -> sqlite3.Connection:
    """A connection to a new private temporary database holding ``schema`` (one or more statements), inside a
    transaction that is never committed (the data goes when the connection closes)."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(schema)
    db.execute("BEGIN")
    return db
