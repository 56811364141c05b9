"""Input files: CSV and JSON Lines are read row by row with their line numbers; bad rows get a reason."""

from __future__ import annotations

from pathlib import Path

from provisioner.manifest import load
from provisioner.sync.checks import check_row
from provisioner.sync.config import build_config
from provisioner.sync.sources import read_rows
from synchelp import MANIFESTS


def config():  # type: ignore[no-untyped-def]
    return build_config(load(MANIFESTS).manifests)


def test_jsonl_rows_keep_their_line_and_a_broken_line_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    data = tmp_path / "export.jsonl"
    data.write_text(
        '{"kind": "registration", "email": "a@example.com", "session": "S", "status": "Confirmed email"}\n'
        "\n"
        '{"kind": "registration", "email": "b@example.com", "session": "S", \n'
        '{"kind": "engagement", "email": "c@example.com", "session": "S", "entry_id": "1_abcdefghij",'
        ' "plays": 3}\n', encoding="utf-8")
    rows = list(read_rows([data]))
    assert [r.line for r in rows] == [1, 3, 4]
    cfg = config()
    assert check_row(rows[0], cfg) is None
    assert "not JSON" in (check_row(rows[1], cfg) or "")
    assert "Text(11)" in (check_row(rows[2], cfg) or "")  # 12 characters


def test_csv_kind_column_and_checks_against_manifest_types(tmp_path: Path) -> None:
    data = tmp_path / "mixed.csv"
    data.write_text("kind,email,session,status,entry_id,plays,live_minutes_viewed,poll_number\n"
                    "registration,o'brien@example.com,S,During-event visit,,,,\n"
                    "engagement,x@example.com,S,,1_00000001,2.5,,\n"
                    "engagement,x@example.com,S,,1_00000001,2,12345678901234567,\n"
                    "poll,x@example.com,S,,1_00000001,,,11\n"
                    "registration,y@example.com,S,Teleported,,,,\n", encoding="utf-8")
    cfg = config()
    reasons = [check_row(r, cfg) for r in read_rows([data])]
    assert reasons[0] is None  # an apostrophe is a valid address
    assert "decimals" in (reasons[1] or "")  # plays is Number(18,0)
    assert "Number(16,2)" in (reasons[2] or "")
    assert "poll_number" in (reasons[3] or "")
    assert "status map" in (reasons[4] or "")


def _read(path: Path) -> tuple[list, object]:  # type: ignore[type-arg]
    from provisioner.sync.sources import Reader
    reader = Reader(config().columns)
    rows = list(reader.rows([path]))
    return rows, reader.reports[0]


def test_two_stray_quotes_never_join_the_lines_between_them(tmp_path: Path) -> None:
    """The second stray quote balances the first, but the joined text is not one record of the header's width:
    each stray line is rejected alone and the three lines between them are rows of their own."""
    data = tmp_path / "r-registrations.csv"
    good = [f"p{i}@example.com,S,Registered" for i in range(5)]
    data.write_text("\n".join(["email,session,status", 'a@example.com,"S,Registered', *good[:3],
                               'b@example.com,S",Registered', *good[3:]]) + "\n", "utf-8")
    rows, report = _read(data)
    assert [(r.line, bool(r.data.get("_error"))) for r in rows] == [
        (2, True), (3, False), (4, False), (5, False), (6, True), (7, False), (8, False)]
    assert report.lines == 8 and report.records == 7 and report.damaged == 2  # type: ignore[attr-defined]


def test_tab_delimited_utf16_without_bom(tmp_path: Path) -> None:
    data = tmp_path / "t-registrations.csv"
    data.write_bytes("email\tsession\tstatus\nzoë@example.com\tS\tRegistered\n".encode("utf-16-le"))
    rows, report = _read(data)
    assert [r.data for r in rows] == [{"email": "zoë@example.com", "session": "S", "status": "Registered"}]
    assert (report.encoding, report.delimiter) == ("utf-16-le", "\t")  # type: ignore[attr-defined]


def test_a_semicolon_line_in_a_comma_file_is_named(tmp_path: Path) -> None:
    data = tmp_path / "s-registrations.csv"
    data.write_text("email,session,status\na@example.com;S;Registered\n", "utf-8")
    rows, _ = _read(data)
    assert "looks semicolon-delimited" in rows[0].data["_error"] and "line 2" in rows[0].data["_error"]


def test_jsonl_nested_values_reject_only_when_the_sync_uses_them(tmp_path: Path) -> None:
    data = tmp_path / "n.jsonl"
    data.write_text('{"kind": "registration", "email": "a@example.com", "session": "S", "status": "Registered", '
                    '"answers": [1, 2]}\n'
                    '{"kind": "registration", "email": {"work": "b@example.com"}, "session": "S", "status": "x"}\n',
                    "utf-8")
    rows, _ = _read(data)
    assert rows[0].data == {"email": "a@example.com", "session": "S", "status": "Registered"}
    assert "email is a JSON object" in rows[1].data["_error"]
