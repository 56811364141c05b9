"""Record writes (insert, update, upsert, delete) with the generic Salesforce checks.

Field existence and field-level security, createable/updateable, value types and sizes,
required fields and unique values are checked here; object-specific rules (Lead, Campaign
statuses, CampaignMember, ...) live in :mod:`.rules_data`. Every function returns a
:class:`Outcome` carrying per-record errors in the API's ``{statusCode, message, fields}`` shape.
Callers hold ``store.lock``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import rules_data
from .errors import error
from .schema import NUMERIC_TYPES, TEXT_TYPES, FieldDef, SObjectType
from .store import OrgStore

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass
class Outcome:
    """The result of one record write."""

    id: str | None = None
    created: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: HTTP status for single-record REST calls when it is not 400 (404 not found, 300 multiple)
    http_status: int = 400

    @property
    def success(self) -> bool:
        return not self.errors


def no_such_column(obj: SObjectType, name: str) -> dict[str, Any]:
    return error("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}", [name])


def coerce(store: OrgStore, f: FieldDef, value: Any) -> tuple[Any, dict[str, Any] | None]:
    """Convert a JSON/CSV value to the field's type, or explain why it cannot be stored."""
    if value is None or (isinstance(value, str) and value == "" and f.type not in TEXT_TYPES):
        return None, None
    label = f.label or f.name
    if f.type in TEXT_TYPES:
        if isinstance(value, (dict, list)):
            return None, error("JSON_PARSER_ERROR", f"Cannot deserialize instance of string from "
                                                    f"{type(value).__name__} value for {f.name}", [f.name])
        text = value if isinstance(value, str) else (str(value).lower() if isinstance(value, bool) else str(value))
        if text == "":
            return None, None
        if f.length and len(text) > f.length:
            return None, error("STRING_TOO_LONG", f"{label}: data value too large: {text[:40]} "
                                                  f"(max length={f.length})", [f.name])
        if f.type == "email" and not _EMAIL.match(text):
            return None, error("INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {text}", [f.name])
        return text, None
    if f.type == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1"), None
        return None, error("JSON_PARSER_ERROR", f"Cannot deserialize instance of boolean from value "
                                                f"{value} for {f.name}", [f.name])
    if f.type in NUMERIC_TYPES:
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            return None, error("JSON_PARSER_ERROR", f"Cannot deserialize instance of double from value "
                                                    f"{value} for {f.name}", [f.name])
        if f.type == "int":
            return int(number), None
        if f.precision:
            whole = len(str(int(abs(number)))) if abs(number) >= 1 else 0
            if whole > f.precision - f.scale:
                return None, error("NUMBER_OUTSIDE_VALID_RANGE",
                                   f"{label}: value outside of valid range on numeric field: {value}", [f.name])
            number = round(number, f.scale)
        return number, None
    if f.type == "date":
        text = str(value)
        if not _DATE.match(text):
            return None, error("JSON_PARSER_ERROR", f"Cannot deserialize instance of date from VALUE_STRING "
                                                    f"value {text} for {f.name}", [f.name])
        return text, None
    if f.type == "datetime":
        text = str(value)
        if not _DATETIME.match(text):
            return None, error("JSON_PARSER_ERROR", f"Cannot deserialize instance of datetime from "
                                                    f"VALUE_STRING value {text} for {f.name}", [f.name])
        return text, None
    if f.type in ("reference", "id"):
        text = str(value)
        if not _ID.match(text):
            return None, error("MALFORMED_ID", f"{label}: id value of incorrect type: {text}", [f.name])
        targets = [store.obj(t) for t in f.reference_to]
        target = next((t for t in targets if t and t.key_prefix == text[:3]), None)
        if target is None:
            return None, error("FIELD_INTEGRITY_EXCEPTION", f"{label}: id value of incorrect type: {text}",
                               [f.name])
        rec = store.get(target.name, text)
        if rec is None:
            return None, error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])
        return rec["Id"], None
    return value, None


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "attributes"}


def _apply_values(store: OrgStore, obj: SObjectType, values: dict[str, Any], creating: bool,
                  outcome: Outcome) -> dict[str, Any]:
    """Check and convert the sent values; errors go to ``outcome``."""
    grants = store.granted()
    converted: dict[str, Any] = {}
    for key, value in _clean(values).items():
        f = obj.field(key)
        if f is None or not store.visible(obj, f, grants):
            outcome.errors.append(no_such_column(obj, key))
            continue
        allowed = f.createable if creating else f.updateable
        if not allowed or not store.editable(obj, f, grants):
            outcome.errors.append(error(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {f.name}. Please check the security settings of this "
                f"field and verify that it is read/write for your profile or permission set.", [f.name]))
            continue
        new, problem = coerce(store, f, value)
        if problem:
            outcome.errors.append(problem)
        else:
            converted[f.name] = new
    return converted


def _valid(store: OrgStore, obj: SObjectType, candidate: dict[str, Any], current: dict[str, Any] | None,
           outcome: "Outcome") -> bool:
    """The checks every insert and update passes, in Salesforce's order: required fields, the
    object's data rules, then uniqueness. The first failing step's errors go on ``outcome``."""
    problem = _missing_required(obj, candidate)
    if problem:
        outcome.errors.append(problem)
        return False
    outcome.errors.extend(rules_data.before_write(store, obj, candidate, current))
    if outcome.errors:
        return False
    problem = _unique_violation(store, obj, candidate)
    if problem:
        outcome.errors.append(problem)
        return False
    return True


def _missing_required(obj: SObjectType, record: dict[str, Any]) -> dict[str, Any] | None:
    missing = [f.name for f in obj.fields.values()
               if not f.nillable and f.createable and not f.defaulted_on_create and record.get(f.name) in (None, "")]
    if missing:
        return error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
    return None


def value_key(f: FieldDef, value: Any) -> Any:
    """What a value of ``f`` is compared by for uniqueness and external-ID matching."""
    if value is None:
        return None
    if f.type in NUMERIC_TYPES and not isinstance(value, bool):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, str) and not f.case_sensitive:
        return value.lower()
    return value


def _matching(store: OrgStore, obj: SObjectType, f: FieldDef, value: Any) -> list[dict[str, Any]]:
    name = f"value:{f.name}:{f.case_sensitive}"
    return store.lookup(obj.name, name, lambda r: value_key(f, r.get(f.name)), value_key(f, value))


def _unique_violation(store: OrgStore, obj: SObjectType, record: dict[str, Any]) -> dict[str, Any] | None:
    for f in obj.fields.values():
        if not f.unique or record.get(f.name) is None:
            continue
        for other in _matching(store, obj, f, record[f.name]):
            if other["Id"] != record.get("Id"):
                return error("DUPLICATE_VALUE", f"duplicate value found: {f.name} duplicates value on record "
                                                f"with id: {other['Id']}", [f.name])
    return None


def insert(store: OrgStore, obj: SObjectType, values: dict[str, Any]) -> Outcome:
    """Create one record, or explain why Salesforce would refuse it."""
    outcome = Outcome()
    if not obj.createable:
        outcome.errors.append(error("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert"))
        return outcome
    converted = _apply_values(store, obj, values, creating=True, outcome=outcome)
    if outcome.errors:
        return outcome
    candidate = {f.name: None for f in obj.fields.values()}
    for f in obj.fields.values():
        if f.default_value is not None:
            candidate[f.name] = f.default_value
    candidate.update(converted)
    if not _valid(store, obj, candidate, None, outcome):
        return outcome
    record = store.insert_raw(obj.name, candidate)
    _fill_generated(obj, record)
    rules_data.after_write(store, obj, record, None)
    outcome.id, outcome.created = record["Id"], True
    return outcome


def auto_number(obj: SObjectType, display_format: str | None) -> str:
    """The next value of an AutoNumber field, e.g. ``E-{0000}`` -> ``E-0007``."""
    obj.auto_number += 1
    fmt = display_format or "{0}"
    m = re.search(r"\{(0+)\}", fmt)
    width = len(m.group(1)) if m else 1
    return re.sub(r"\{0+\}", str(obj.auto_number).zfill(width), fmt)


def _fill_generated(obj: SObjectType, record: dict[str, Any]) -> None:
    """Server-generated values: AutoNumber fields, and a custom object's Name defaulting to its Id."""
    for f in obj.fields.values():
        if f.auto_number and record.get(f.name) is None:
            if f.name_field:
                fmt = ((obj.metadata or {}).get("nameField") or {}).get("displayFormat")
            else:
                fmt = (f.metadata or {}).get("displayFormat")
            record[f.name] = auto_number(obj, fmt)
        elif f.name_field and obj.custom and record.get(f.name) is None:
            record[f.name] = record["Id"]


def update(store: OrgStore, obj: SObjectType, record_id: str, values: dict[str, Any]) -> Outcome:
    """Change one record, or explain why Salesforce would refuse it."""
    outcome = Outcome(id=record_id)
    current = store.get(obj.name, record_id) if record_id else None
    if current is None:
        outcome.errors.append(error("ENTITY_IS_DELETED" if record_id and record_id[:3] == obj.key_prefix
                                    else "INVALID_CROSS_REFERENCE_KEY",
                                    "entity is deleted" if record_id and record_id[:3] == obj.key_prefix
                                    else "invalid cross reference id"))
        outcome.http_status = 404
        return outcome
    outcome.id = current["Id"]
    if not obj.updateable:
        outcome.errors.append(error("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support update"))
        return outcome
    values = {k: v for k, v in _clean(values).items() if k.lower() != "id"}
    converted = _apply_values(store, obj, values, creating=False, outcome=outcome)
    if outcome.errors:
        return outcome
    candidate = dict(current)
    candidate.update(converted)
    if not _valid(store, obj, candidate, current, outcome):
        return outcome
    old = dict(current)
    store.unindex(obj.name, current)
    current.update(candidate)
    store.reindex(obj.name, current)
    current["LastModifiedDate"] = current["SystemModstamp"] = store.now()
    rules_data.after_write(store, obj, current, old)
    return outcome


def find_by_external_id(store: OrgStore, obj: SObjectType, f: FieldDef, value: Any) -> list[dict[str, Any]]:
    """Records whose external ID equals ``value`` (Id matching ignores the 15/18 suffix)."""
    if f.type == "id":
        rec = store.get(obj.name, str(value))
        return [rec] if rec else []
    return _matching(store, obj, f, value) if value not in (None, "") else []


def external_id_field(store: OrgStore, obj: SObjectType, name: str) -> FieldDef | None:
    """The field usable for upsert: Id or a visible external ID field."""
    f = obj.field(name)
    if f is None or not store.visible(obj, f, store.granted()):
        return None
    if f.type == "id" or f.external_id:
        return f
    return None


def upsert(store: OrgStore, obj: SObjectType, f: FieldDef, key: Any, values: dict[str, Any]) -> Outcome:
    """Insert or update the record whose external ID ``f`` equals ``key``."""
    matches = find_by_external_id(store, obj, f, key)
    if len(matches) > 1:
        ids = ", ".join(r["Id"] for r in matches)
        outcome = Outcome(http_status=300)
        outcome.errors.append(error("DUPLICATE_EXTERNAL_ID",
                                    f"{f.name}: more than one record found for external id field: [{ids}]",
                                    [f.name]))
        return outcome
    body = {k: v for k, v in _clean(values).items() if k.lower() != f.name.lower()}
    if matches:
        result = update(store, obj, matches[0]["Id"], body)
        result.created = False
        return result
    if f.type != "id":
        body[f.name] = key
    elif key:
        outcome = Outcome(http_status=404)
        outcome.errors.append(error("NOT_FOUND", "The requested resource does not exist"))
        return outcome
    return insert(store, obj, body)


def delete(store: OrgStore, record_id: str) -> Outcome:
    """Delete one record (and what Salesforce deletes with it)."""
    outcome = Outcome(id=record_id)
    found = store.find(record_id) if record_id else None
    if found is None:
        outcome.errors.append(error("ENTITY_IS_DELETED", "entity is deleted") if record_id and store.object_for_id(
            record_id) else error("MALFORMED_ID", f"malformed id {record_id}"))
        outcome.http_status = 404
        return outcome
    obj, rec = found
    outcome.id = rec["Id"]
    if not obj.deletable:
        outcome.errors.append(error("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support delete"))
        return outcome
    outcome.errors.extend(rules_data.before_delete(store, obj, rec))
    if outcome.errors:
        return outcome
    store.delete_raw(obj.name, rec["Id"])
    rules_data.after_delete(store, obj, rec)
    return outcome
