"""The reader's fast path (a line without quotes split on the delimiter with ``str.split``) gives exactly what the
csv module gives, and a file mixing good rows with every kind of damage still loses only the damaged lines,
each rejected at its own line with its reason. Expected rows are computed here from what was written."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.sync.sources import Reader, _split, _split_csv

#: Characters that matter to a CSV reader, and a few that do not.
SPECIAL = st.sampled_from(['"', ",", ";", "\t", "\r", "\n", "\x00", "\x01", "\x7f", "\x85", " ", "é", "\u2028", "a",
                           "1", "@", "'", "\\"])
TEXT = st.text(st.one_of(SPECIAL, st.characters(codec="utf-8")), max_size=40)


@settings(max_examples=120, deadline=None)
@given(text=TEXT, delimiter=st.sampled_from([",", ";", "\t"]))
def test_the_fast_split_is_the_csv_modules_split(text: str, delimiter: str) -> None:
    assert _split(text, delimiter) == _split_csv(text, delimiter)


def test_the_fast_split_on_the_lines_that_take_it() -> None:
    assert _split("a, b ,,c", ",") == ["a", " b ", "", "c"] == _split_csv("a, b ,,c", ",")
    assert _split('a,"b,c"', ",") == ["a", "b,c"]  # a quoted delimiter goes through the csv module
    assert _split("a,b\rc", ",") is None  # a bare CR inside a line: not one record, as before


HEADER = ["email", "session", "status", "first_name"]
GOOD = st.builds(lambda n, first: [f"p{n}@example.com", "S", "Registered", first],
                 st.integers(0, 10**6), st.text(st.characters(categories=("L", "N", "Zs")), max_size=12))
DAMAGE = st.sampled_from(["nul", "control", "stray quote", "columns", "c1 byte", "quoted"])


def _line(kind: str, n: int) -> tuple[bytes, str | None, dict[str, str] | None]:
    """One physical line of damage ``kind``: its bytes, the reason it must be rejected with (``None``: it is
    good), and the row it must give when good."""
    email = f"d{n}@example.com"
    if kind == "nul":
        return f"{email},S,Registered,A\x00nn".encode(), "control character U+0000", None
    if kind == "control":
        return f"{email},S,Regis\x07tered,Ann".encode(), "control character U+0007", None
    if kind == "stray quote":
        return f'{email},S,Registered,"Ann'.encode(), "unbalanced double quote", None
    if kind == "columns":
        return f"{email},S,Registered".encode(), "3 columns where the header (line 1) has 4", None
    if kind == "c1 byte":  # 0x81 is no cp1252 character: read as latin-1, a C1 control, rejected
        return f"{email},S,Registered,A".encode() + b"\x81nn", "control character U+0081", None
    # a quoted field holding the delimiter and a doubled quote: good, through the csv module
    return f'{email},S,Registered,"A, ""B"""'.encode(), None, {"email": email, "session": "S", "status": "Registered",
                                                                 "first_name": 'A, "B"'}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(GOOD.map(lambda g: ("good", g)), DAMAGE.map(lambda d: ("damage", d))),
                      min_size=1, max_size=30))
def test_damage_costs_its_own_line_only_whatever_surrounds_it(tmp_path: Path, lines: list[tuple[str, object]]) -> None:
    body, expected = [",".join(HEADER).encode()], []
    for n, (what, value) in enumerate(lines, start=2):
        if what == "good":
            fields = list(value)  # type: ignore[call-overload]
            body.append(",".join(fields).encode())
            expected.append((n, None, {k: v.strip() for k, v in zip(HEADER, fields)}))
        else:
            raw, reason, row = _line(str(value), n)
            body.append(raw)
            expected.append((n, reason, row))
    data = tmp_path / "fast-registrations.csv"
    data.write_bytes(b"\n".join(body) + b"\n")
    reader = Reader(lambda kind: {"email", "session", "status", "first_name"})
    rows = list(reader.rows([data]))
    assert [r.line for r in rows] == [n for n, _, _ in expected]  # every line once, none swallowed
    for row, (n, reason, good) in zip(rows, expected):
        if reason is None:
            assert row.data == good and row.kind == "registration"
        else:
            assert row.data["_error"].startswith(f"line {n}: ") and reason in row.data["_error"], row.data
    report = reader.reports[0]
    assert report.damaged == sum(1 for _, reason, _ in expected if reason)
    assert report.records == len(expected) and report.lines == len(body)
