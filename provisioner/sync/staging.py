"""Records gathered over the windows of a pass for one run-wide Bulk job or import, kept off the heap.

A sink adds each record under a bucket (an object, a program member group) with the work items it
settles; at the end of the pass it writes the bucket as CSV files of at most the API's size limit and
sends each as one job. Records of one bucket sharing a key are merged (one row per key in a job).
Records are stored as :mod:`marshal` bytes (the database lives for one run of one Python) and staged a batch
at a time (:meth:`Staging.add_many`). Everything lives in a private temporary database (:mod:`.tempdb`: gone
when the run ends) and in 0600 temporary CSV files removed after their upload.
"""

from __future__ import annotations

import csv
import io
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from .in_lists import in_lists, marks
from .tempdb import temporary_db
from .work import Item

#: ``records`` is stored in (bucket, seq) order, seq being staging order: a bucket's files and their keys are
#: range reads, where a rowid table ordered by (bucket, ext) sorted the whole bucket again for every page.
SCHEMA = """
CREATE TABLE records (bucket TEXT NOT NULL, seq INTEGER NOT NULL, ext TEXT NOT NULL, record BLOB NOT NULL,
                      PRIMARY KEY (bucket, seq)) WITHOUT ROWID;
CREATE UNIQUE INDEX records_ext ON records (bucket, ext);
CREATE TABLE owners (bucket TEXT NOT NULL, ext TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX owners_ext ON owners (bucket, ext);
"""


class Staging:
    """Buckets of records (by key) and the (target, key) of the items each record settles."""

    def __init__(self) -> None:
        self.db = temporary_db(SCHEMA)
        self.columns: dict[str, dict[str, None]] = {}
        self.sizes: dict[str, int] = {}
        self.seq = 0  # staging order; a record merged into an earlier one moves to the end, as it is staged again

    def add_many(self, bucket: str, entries: Iterable[tuple[str, dict[str, Any], list[Item]]]) -> None:
        """Stage each ``(ext, record, owners)``: ``record`` (merged into an earlier one of the same ``ext``) for the
        items ``owners``; a statement per batch, not per record."""
        merged: dict[str, dict[str, Any]] = {}
        owned: list[tuple[str, str, str, str]] = []
        for ext, record, owners in entries:
            merged[ext] = {**merged[ext], **record} if ext in merged else record
            owned += [(bucket, ext, i.target, i.key) for i in owners]
        if not merged:
            return
        exts = list(merged)
        earlier: dict[str, dict[str, Any]] = {}
        for chunk in in_lists(exts):
            for ext, text in self.db.execute(f"SELECT ext, record FROM records INDEXED BY records_ext WHERE bucket=? "
                                             f"AND ext IN ({marks(chunk)})", (bucket, *chunk)):
                earlier[ext] = marshal.loads(text)
        self.sizes[bucket] = self.sizes.get(bucket, 0) + len(merged) - len(earlier)
        columns = self.columns.setdefault(bucket, {})
        rows = []
        for ext, record in merged.items():
            if ext in earlier:
                record = {**earlier[ext], **record}
            columns.update(dict.fromkeys(record))
            self.seq += 1
            rows.append((bucket, self.seq, ext, marshal.dumps(record)))
        self.db.executemany("INSERT OR REPLACE INTO records (bucket, seq, ext, record) VALUES (?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO owners (bucket, ext, target, key) VALUES (?, ?, ?, ?)", owned)

    def buckets(self) -> list[str]:
        return list(self.sizes)

    def owners(self, bucket: str, exts: list[str]) -> dict[str, list[tuple[str, str]]]:
        """``ext → [(target, key), ...]`` of the items each staged record settles."""
        out: dict[str, list[tuple[str, str]]] = {}
        for chunk in in_lists(exts):
            for ext, target, key in self.db.execute(
                    f"SELECT ext, target, key FROM owners WHERE bucket=? AND ext IN ({marks(chunk)})",
                    (bucket, *chunk)):
                out.setdefault(ext, []).append((target, key))
        return out

    def records(self, bucket: str, exts: list[str] | None = None, part: Part | None = None
                ) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(ext, record)`` of a bucket in staging order: all, those of ``exts``, or those of one file."""
        if exts is None:
            lo, hi = (part.first, part.last) if part else (0, 1 << 62)
            for ext, record in self.db.execute("SELECT ext, record FROM records WHERE bucket=? AND seq BETWEEN ? "
                                               "AND ? ORDER BY seq", (bucket, lo, hi)).fetchall():
                yield ext, marshal.loads(record)
            return
        for chunk in in_lists(exts):
            for ext, record in self.db.execute(
                    f"SELECT ext, record FROM records INDEXED BY records_ext WHERE bucket=? "
                    f"AND ext IN ({marks(chunk)})", (bucket, *chunk)).fetchall():
                yield ext, marshal.loads(record)

    def exts(self, bucket: str, part: Part, size: int = 5_000) -> Iterator[list[str]]:
        """The keys of one file's records, ``size`` at a time."""
        last = part.first - 1
        while True:
            rows = self.db.execute("SELECT seq, ext FROM records WHERE bucket=? AND seq > ? AND seq <= ? "
                                   "ORDER BY seq LIMIT ?", (bucket, last, part.last, size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [ext for _, ext in rows]

    def csv_files(self, bucket: str, max_bytes: int, header: list[str] | None = None) -> Iterator[Part]:
        """The bucket as CSV files (LF, a header row, at most ``max_bytes`` each), written one at a time to a
        0600 temporary file that is removed when the next is asked for (or the iteration ends)."""
        columns = header or list(self.columns.get(bucket, {}))
        encode = _Lines()
        head = encode(columns)
        part: Part | None = None
        last = 0
        try:
            while True:
                page = self.db.execute("SELECT seq, record FROM records WHERE bucket=? AND seq > ? ORDER BY seq "
                                       "LIMIT 5000", (bucket, last)).fetchall()
                if not page:
                    break
                last = page[-1][0]
                rows = [list(map(record.get, columns)) for record in map(marshal.loads, [t for _, t in page])]
                block = encode.many(rows)  # csv writes None as ""
                if len(block) <= max_bytes - (part.size if part is not None else len(head)):
                    if part is None:  # the whole page fits the file being written: one write, no line sizes
                        part = Part.open(head, page[0][0])
                    part.write(block, last, len(page))
                    continue
                for (seq, _), row in zip(page, rows):
                    line = encode(row)
                    if part is not None and part.size + len(line) > max_bytes:
                        full, part = part.done(), None
                        try:
                            yield full
                        finally:
                            full.remove()
                    if part is None:
                        part = Part.open(head, seq)
                    part.write(line, seq)
            if part is not None:
                full, part = part.done(), None
                try:
                    yield full
                finally:
                    full.remove()
        finally:
            if part is not None:
                part.remove()

    def close(self) -> None:
        self.db.close()


class _Lines:
    """CSV lines (LF) as UTF-8 bytes, from one writer (making a writer per line cost more than the line)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")

    def __call__(self, values: list[Any]) -> bytes:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(values)
        return self.buffer.getvalue().encode("utf-8")

    def many(self, rows: list[list[Any]]) -> bytes:
        """Several lines at once: the bytes of calling this object on each row, in one pass of the C writer."""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(rows)
        return self.buffer.getvalue().encode("utf-8")


class Part:
    """One CSV file of a bucket: its path, size, rows and the span of staging order (seq) it covers."""

    def __init__(self, path: Path, handle: Any, size: int) -> None:
        self.path, self.handle, self.size = path, handle, size
        self.rows, self.first, self.last = 0, 0, 0

    @classmethod
    def open(cls, head: bytes, first: int) -> "Part":
        fd, name = tempfile.mkstemp(prefix="provisioner-job-", suffix=".csv")  # 0600
        handle = os.fdopen(fd, "wb")
        handle.write(head)
        part = cls(Path(name), handle, len(head))
        part.first = first
        return part

    def write(self, lines: bytes, last_seq: int, count: int = 1) -> None:
        """Append ``count`` CSV lines, the last of them staging record ``last_seq``."""
        self.handle.write(lines)
        self.size += len(lines)
        self.rows += count
        self.last = last_seq

    def done(self) -> "Part":
        self.handle.close()
        return self

    def remove(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.path.unlink(missing_ok=True)
