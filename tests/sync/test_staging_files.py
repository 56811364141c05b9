"""The CSV files a run-wide Bulk job or Marketo import uploads: every staged record once, in staging order, as
RFC 4180 CSV (LF), a header on each file, no file over the size limit unless one record alone is larger,
and a new file only when the next record would not fit (the fewest files, so the fewest jobs).

Expected bytes are written here with the csv module from the records themselves, record by record.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.sync.staging import Staging

COLUMNS = ["email", "name", "note"]


def line(values: list[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return out.getvalue().encode("utf-8")


def files_of(records: list[dict[str, Any]], max_bytes: int, other_bucket_every: int = 0
             ) -> list[tuple[bytes, list[str]]]:
    """Stage ``records`` (ext = their index) and return each file's bytes and the exts it covers."""
    staging = Staging()
    try:
        for i, record in enumerate(records):
            staging.add_many("b", [(str(i), record, [])])
            if other_bucket_every and i % other_bucket_every == 0:  # another bucket's rows between this one's
                staging.add_many("other", [(str(i), {"email": "x"}, [])])
        out = []
        for part in staging.csv_files("b", max_bytes, header=COLUMNS):
            exts = [e for chunk in staging.exts("b", part) for e in chunk]
            out.append((part.path.read_bytes(), exts))
        return out
    finally:
        staging.close()


def check(records: list[dict[str, Any]], max_bytes: int, other_bucket_every: int = 0) -> None:
    head = line(COLUMNS)
    lines = [line([r.get(c) for c in COLUMNS]) for r in records]
    files = files_of(records, max_bytes, other_bucket_every)
    assert [e for _, exts in files for e in exts] == [str(i) for i in range(len(records))]
    at = 0
    for n, (data, exts) in enumerate(files):
        mine = lines[at:at + len(exts)]
        assert data == head + b"".join(mine)
        assert len(data) <= max_bytes or len(mine) == 1  # only a record larger than the limit stands alone
        if n + 1 < len(files):  # closed only because the next record did not fit
            assert len(data) + len(lines[at + len(exts)]) > max_bytes
        at += len(exts)
    assert at == len(records)


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({"email": text}, optional={"name": text, "note": st.none() | text}),
                max_size=40), st.integers(min_value=10, max_value=400))
def test_files_hold_every_record_once_under_the_limit(records: list[dict[str, Any]], max_bytes: int) -> None:
    check(records, max_bytes)


def test_thousands_of_records_split_inside_a_page_of_staged_rows() -> None:
    # 12,000 records (pages of 5,000 are read from staging) with quotes, commas and newlines, in files of
    # about 1,500 records, so files end inside pages and at page edges; another bucket's rows in between.
    records = [{"email": f"p{i}@example.com", "name": f'Ann "A{i}", Lee' if i % 7 == 0 else f"N{i}",
                "note": "two\nlines" if i % 11 == 0 else None} for i in range(12_000)]
    check(records, 40_000, other_bucket_every=3)
    check(records, 10_000_000)  # one file
