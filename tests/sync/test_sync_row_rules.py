"""What decides which of several rows of one key is written, and how rows are grouped into batches: the
latest ``time`` wins (ISO 8601, UTC when no zone is given, file order when there is no readable time), and
e-mail keys ignore case. Expected values are written out from those rules."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from provisioner.sync.engine import _key, row_time
from provisioner.sync.sources import Row
from provisioner.sync.spool import Spool
from provisioner.sync.spool import supersedes as _supersedes
from provisioner.sync.work import Item


def _row(**data: str) -> Row:
    return Row("registration", dict(data), "regs.csv", 2)


@pytest.mark.parametrize("text, expected", [
    ("2026-12-01T10:00:00Z", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
    ("2026-12-01T10:00:00z", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
    ("2026-12-01T10:00:00", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),  # no zone: UTC
    ("2026-12-01T12:00:00+02:00", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
    ("  2026-12-01T10:00:00Z  ", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
])
def test_row_time_reads_iso_8601_in_utc(text: str, expected: datetime) -> None:
    assert row_time(_row(time=text)) == expected.timestamp()


def test_a_time_without_a_zone_is_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/Chicago")  # the machine's zone, not the tool: UTC must not depend on it
    time.tzset()
    try:
        assert row_time(_row(time="2026-12-01T10:00:00")) == datetime(2026, 12, 1, 10, tzinfo=timezone.utc).timestamp()
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["", "   ", "yesterday", "2026-13-45T99:00:00Z"])
def test_a_missing_or_unreadable_time_falls_back_to_file_order(text: str) -> None:
    assert row_time(_row(time=text)) is None
    assert row_time(_row()) is None


def test_the_latest_time_wins_and_a_tie_or_no_time_goes_to_the_later_row() -> None:
    assert _supersedes(200.0, 100.0) is True
    assert _supersedes(100.0, 200.0) is False  # an older row read later does not replace a newer one
    assert _supersedes(100.0, 100.0) is True  # a tie: the later row in the file
    assert _supersedes(None, 100.0) is True and _supersedes(100.0, None) is True and _supersedes(None, None)


def test_keys_join_the_fields_and_ignore_the_case_of_the_email_only() -> None:
    row = _row(session="Webinar A", email="Ann@Example.COM", entry_id="1_AbC")
    assert _key(row, ["session", "email"]) == "Webinar A|ann@example.com"
    assert _key(row, ["session", "email", "entry_id"]) == "Webinar A|ann@example.com|1_AbC"
    assert _key(row, ["session", "missing"]) == "Webinar A|"


@pytest.mark.parametrize("rows, size, sizes", [(0, 3, []), (2, 3, [2]), (3, 3, [3]), (7, 3, [3, 3, 1]),
                                               (5, 1, [1, 1, 1, 1, 1])])
def test_windows_hold_size_rows_in_order_and_the_last_holds_the_rest(rows: int, size: int, sizes: list[int],
                                                                     tmp_path: Path) -> None:
    spool = Spool(tmp_path / "run.spool")
    try:
        for i in range(rows):
            row = _row(n=str(i))
            spool.put(spool.row(), [Item("sf.member", f"k{i}", "d", row)], row)
        spool.ready()
        windows = list(spool.windows("sf.", size))
        assert [len(w) for w in windows] == sizes
        assert [i.row.data["n"] for w in windows for i in w] == [str(i) for i in range(rows)]
    finally:
        spool.close()
    assert not (tmp_path / "run.spool").exists()  # it holds personal data: gone with the run
