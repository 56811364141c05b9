"""Row checks before any call: required columns, e-mail form, and the types and sizes the manifests declare.

A ``Text(11)`` entry_id longer than 11 characters, a ``Number(16,2)`` with 17 integer digits, an
e-mail without a domain or a status the status map does not know are refused here, with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from ..manifest.fieldtypes import NUMERIC_TYPES, salesforce_type
from ..manifest.model import SalesforceField, SalesforceObject
from .config import STANDARD_LENGTHS, SyncConfig
from .sources import KINDS, REQUIRED, Row

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_POLLS = 10
REPLAY_LENGTH = 255  # the replay status field is Text(255)
POLL_PARTS = ("type", "question", "answer")


def check_field(f: SalesforceField, value: str) -> str | None:
    """Why ``value`` does not fit field ``f`` (``None`` when it fits)."""
    if value == "":
        return None
    row = salesforce_type(f.type)
    limit = f.length if row.length and f.length else row.value_length
    if limit and not row.numeric and len(value) > limit:
        size = f"({f.length})" if row.length and f.length else f" (at most {limit} characters)"
        return f"{f.name} is {len(value)} characters; the field is {f.type}{size}"
    if f.type == "Email" and not EMAIL.match(value):
        return f"{f.name} {value!r} is not an e-mail address"
    if f.type in NUMERIC_TYPES:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return f"{f.name} {value!r} is not a number"
        if not number.is_finite():
            return f"{f.name} {value!r} is not a finite number"
        digits = number.adjusted() + 1 if abs(number) >= 1 else 0  # no int(): 1E5000 has 5,001 digits
        if f.length is not None and digits > f.length:
            return f"{f.name} {value} has {digits} digits before the point; the field is " \
                   f"{f.type}({f.length},{f.decimal_places or 0})"
        if not f.decimal_places and number != number.to_integral_value():
            return f"{f.name} {value} has decimals; the field is {f.type}({f.length},0)"
    return None


#: A plain decimal number (ASCII digits, an optional sign and point): its digits can be counted as text.
_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]*))?")
Check = Callable[[str], "str | None"]


def field_check(f: SalesforceField) -> Check:
    """:func:`check_field` for one field, compiled: the type's limits are looked up once, and a value that
    plainly fits (the common case: text within the length, a plain number within the digits) passes
    without a ``Decimal``. Any other value is answered by :func:`check_field` itself, so the reasons are
    the same (tests/sync/test_checks_compiled.py compares the two)."""
    kind = salesforce_type(f.type)
    limit = f.length if kind.length and f.length else kind.value_length
    text_limit = limit if limit and not kind.numeric else 0
    email, numeric = f.type == "Email", f.type in NUMERIC_TYPES
    whole_digits, decimals = f.length, bool(f.decimal_places)

    def check(value: str) -> str | None:
        if value == "":
            return None
        if (text_limit and len(value) > text_limit) or (email and not EMAIL.match(value)):
            return check_field(f, value)
        if numeric:
            plain = _PLAIN_NUMBER.fullmatch(value)
            if plain is None or (whole_digits is not None and len(plain.group(1).lstrip("0")) > whole_digits) \
                    or (not decimals and (plain.group(2) or "").strip("0")):
                return check_field(f, value)
        return None

    return check


@dataclass
class _Compiled:
    """What :func:`check_row` needs of a configuration, worked out once per run instead of once per row."""

    salesforce: Any  # the SalesforceTarget this was compiled for
    mapped: tuple[tuple[str, str, int], ...]  # (target field, column, limit) of mappings to standard fields
    engagement: dict[str, Check | None]  # source column → its engagement field's check (None: no field)
    checks: dict[int, tuple[SalesforceField, Check]]  # id(field) → (field, check)


def _compiled(config: SyncConfig) -> _Compiled:
    compiled = config.compiled_checks
    if compiled is None or compiled.salesforce is not config.salesforce:
        sf = config.salesforce
        mapped = tuple((target, column, STANDARD_LENGTHS[target]) for mapping in (sf.mappings.values() if sf else ())
                       for target, column in mapping.items() if STANDARD_LENGTHS.get(target) is not None)
        compiled = config.compiled_checks = _Compiled(sf, mapped, {}, {})
    return compiled


def _check_of(compiled: _Compiled, f: SalesforceField) -> Check:
    known = compiled.checks.get(id(f))
    if known is None or known[0] is not f:
        known = compiled.checks[id(f)] = (f, field_check(f))
    return known[1]


def _engagement_check(config: SyncConfig, compiled: _Compiled, obj: SalesforceObject | None,
                      column: str) -> Check | None:
    """The check of the engagement field ``column`` lands in (``None`` when none), remembered per column."""
    if column in compiled.engagement:
        return compiled.engagement[column]
    f = config.salesforce_field(obj, column)
    check = compiled.engagement[column] = _check_of(compiled, f) if f else None
    return check


def _mapped_lengths(row: Row, config: SyncConfig) -> str | None:
    """Why a column a mapping writes to a standard field (or the replay field) is longer than that field."""
    sf = config.salesforce
    if sf is None:
        return None
    for target, column, limit in _compiled(config).mapped:
        if len(row.data.get(column, "")) > limit:
            return f"{column} is {len(row.data[column])} characters; {target} holds at most {limit}"
    if row.kind == "replay" and sf.replay_field and len(row.data.get("status", "")) > REPLAY_LENGTH:
        return f"status is {len(row.data['status'])} characters; the replay field holds at most {REPLAY_LENGTH}"
    return None


def check_row(row: Row, config: SyncConfig) -> str | None:
    """Why ``row`` cannot be synced (``None`` when it can)."""
    if row.data.get("_error"):
        return row.data["_error"]
    if row.kind not in KINDS:
        return f"unknown record kind {row.kind!r} (expected one of {', '.join(KINDS)})"
    missing = [c for c in REQUIRED[row.kind] if not row.data.get(c)]
    if missing:
        return f"missing {', '.join(missing)}"
    email = row.data["email"]
    if not EMAIL.match(email) or len(email) > STANDARD_LENGTHS["Email"]:
        return f"email {email!r} is not an e-mail address Salesforce accepts"
    for column, limit in (("first_name", 40), ("last_name", 80), ("company", 255), ("title", 128)):
        if len(row.data.get(column, "")) > limit:
            return f"{column} is longer than {limit} characters"
    if row.kind == "registration" and config.status_for("salesforce", row.data["status"]) is None \
            and config.status_for("marketo", row.data["status"]) is None:
        return f"status {row.data['status']!r} is not in the status map of {config.name} (case does not matter)"
    problem = _mapped_lengths(row, config)
    if problem:
        return problem
    sf = config.salesforce
    if row.kind == "engagement" and sf is not None:
        compiled = _compiled(config)
        for column, value in row.data.items():
            check = _engagement_check(config, compiled, sf.engagement, column)
            problem = check(value) if check else None
            if problem:
                return problem
    if row.kind == "poll":
        number = row.data["poll_number"]
        if not number.isdigit() or not 1 <= int(number) <= MAX_POLLS:
            return f"poll_number {number!r} is not 1..{MAX_POLLS}"
        for part in POLL_PARTS:
            if len(row.data.get(part, "")) > 255:
                return f"poll {part} is longer than 255 characters"
        if sf is not None:
            f = config.salesforce_field(sf.polls, "entry_id")
            problem = _check_of(_compiled(config), f)(row.data["entry_id"]) if f else None
            if problem:
                return problem
    if row.kind in ("engagement", "poll") and sf is not None and sf.engagement is not None:
        f = config.salesforce_field(sf.engagement, "entry_id")
        problem = _check_of(_compiled(config), f)(row.data["entry_id"]) if f else None
        if problem:
            return problem
    return None
