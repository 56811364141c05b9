"""Keys sent to SQLite ``IN (...)`` lists a bounded number at a time (the spool, staging, the run caches and
the ledger all look many keys up at once: one query per ``IN_LIST`` keys, never one per key, and no statement
past SQLite's limit on bound parameters)."""

from __future__ import annotations

from typing import Iterator, Sequence, TypeVar

T = TypeVar("T")

#: Keys in one IN list (SQLite allows 32,766 bound parameters since 3.32; older builds 999).
IN_LIST = 500


def in_lists(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` ``IN_LIST`` at a time, in order."""
    for at in range(0, len(values), IN_LIST):
        yield values[at:at + IN_LIST]


def marks(chunk: Sequence[object]) -> str:
    """The ``?,?,...`` placeholders of one IN list."""
    return ",".join("?" * len(chunk))
