"""The row checks compiled once per run answer every value exactly as the per-value check does (same reason,
or none), and the serialisers that replaced per-character and per-row work write the same bytes."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from urllib.parse import quote as url_quote

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.manifest.findings import Location
from provisioner.manifest.model import SalesforceField
from provisioner.providers.marketo.bulk_import import csv_files
from provisioner.providers.salesforce.bulk2 import _csv
from provisioner.providers.salesforce.soql import _encoded, quote
from provisioner.sync.checks import check_field, field_check

HERE = Location("m.yaml", 1, 1)
FIELDS = [SalesforceField("E", "plays", "Number", HERE, length=18, decimal_places=0),
          SalesforceField("E", "ratio", "Number", HERE, length=16, decimal_places=2),
          SalesforceField("E", "pct", "Percent", HERE, length=3, decimal_places=1),
          SalesforceField("E", "cost", "Currency", HERE, length=2),
          SalesforceField("E", "entry_id", "Text", HERE, length=11),
          SalesforceField("E", "mail", "Email", HERE),
          SalesforceField("E", "notes", "LongTextArea", HERE, length=300),
          SalesforceField("E", "when", "DateTime", HERE)]
NUMBERISH = st.text(st.sampled_from("0123456789.+-eE_ x٣"), max_size=22)
VALUES = st.one_of(NUMBERISH, st.text(max_size=20), st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,4})?", fullmatch=True),
                   st.decimals(allow_nan=True, allow_infinity=True).map(str), st.just("a@b.co"), st.just("x" * 301))


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, len(FIELDS) - 1), value=VALUES)
def test_a_compiled_check_gives_the_per_value_reason(index: int, value: str) -> None:
    f = FIELDS[index]
    assert field_check(f)(value) == check_field(f, value)


def test_compiled_number_checks_by_the_field_s_digits() -> None:
    ratio = field_check(FIELDS[1])  # Number(16,2)
    assert ratio("1234567890123456.25") is None and ratio("0001.5") is None
    assert "17 digits before the point" in (ratio("12345678901234567") or "")
    plays = field_check(FIELDS[0])  # Number(18,0)
    assert plays("42") is None and plays("42.000") is None and "has decimals" in (plays("2.5") or "")
    assert "not a number" in (plays("2,5") or "") and "not a finite number" in (plays("Infinity") or "")


def _old_quote(value: str) -> str:
    """SOQL quoting as 0.1.0 wrote it, one character at a time."""
    escapes = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", '"': '\\"'}
    return "'" + "".join(escapes.get(c, c) for c in value) + "'"


@settings(max_examples=150, deadline=None)
@given(value=st.text(st.one_of(st.sampled_from("\\'\n\r\t\b\f\"%+ ~._-"), st.characters(codec="utf-8"))))
def test_soql_literals_and_their_encoded_length_are_unchanged(value: str) -> None:
    assert quote(value) == _old_quote(value)
    assert _encoded(value) == len(url_quote(value, safe=""))


def test_bulk_csv_and_import_files_write_none_as_empty_and_quote_as_before() -> None:
    records = [{"a": "x", "b": None, "c": 'say "hi", then\nleave'}, {"a": Decimal("1.50"), "c": 3}, {}]
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    for r in records:
        writer.writerow(["" if r.get(c) is None else r.get(c) for c in ("a", "b", "c")])
    assert _csv(["a", "b", "c"], records) == body.getvalue().encode("utf-8")
    files = list(csv_files(["a", "b", "c"], records, max_bytes=40))
    assert b"".join(f[len(b"a,b,c\n"):] for f, _ in files) == body.getvalue().encode("utf-8")[len(b"a,b,c\n"):]
    assert sum(n for _, n in files) == 3 and all(f.startswith(b"a,b,c\n") and len(f) <= 40 for f, _ in files)
