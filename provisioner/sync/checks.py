"""Row checks before any call: required columns, e-mail form, and the types and sizes the manifests declare.

A ``Text(11)`` entry_id longer than 11 characters, a ``Number(16,2)`` with 17 integer digits, an
e-mail without a domain or a status the status map does not know are refused here, with a reason.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..manifest.fieldtypes import NUMERIC_TYPES, salesforce_type
from ..manifest.model import SalesforceField
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
        digits = len(str(abs(int(number)))) if int(number) else 0
        if f.length is not None and digits > f.length:
            return f"{f.name} {value} has {digits} digits before the point; the field is " \
                   f"{f.type}({f.length},{f.decimal_places or 0})"
        if not f.decimal_places and number != number.to_integral_value():
            return f"{f.name} {value} has decimals; the field is {f.type}({f.length},0)"
    return None


def _mapped_lengths(row: Row, config: SyncConfig) -> str | None:
    """Why a column a mapping writes to a standard field (or the replay field) is longer than that field."""
    sf = config.salesforce
    if sf is None:
        return None
    for mapping in sf.mappings.values():
        for target, column in mapping.items():
            limit = STANDARD_LENGTHS.get(target)
            if limit is not None and len(row.data.get(column, "")) > limit:
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
        for column, value in row.data.items():
            f = config.salesforce_field(sf.engagement, column)
            problem = check_field(f, value) if f else None
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
            problem = check_field(f, row.data["entry_id"]) if f else None
            if problem:
                return problem
    if row.kind in ("engagement", "poll") and sf is not None and sf.engagement is not None:
        f = config.salesforce_field(sf.engagement, "entry_id")
        problem = check_field(f, row.data["entry_id"]) if f else None
        if problem:
            return problem
    return None
