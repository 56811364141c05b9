"""Salesforce rules beyond the schema: API names, field sizes, lookups, campaign statuses."""

from __future__ import annotations

import re
from typing import Any, Iterator

from .dates import date_range_problems
from .findings import Finding
from .fieldtypes import LENGTH_TYPES, MAX_PRECISION, NUMERIC_TYPES, SALESFORCE_TYPES, salesforce_type
from .model import STANDARD_OBJECTS
from .yaml_loader import Document

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_NAME = 40  # characters before the __c suffix
LOOKUP_ONLY = ("referenceTo", "relationshipName", "relationshipLabel", "deleteConstraint")


def name_problems(name: str, what: str) -> Iterator[tuple[str, str]]:
    """(message, hint) for each way ``name`` breaks Salesforce's API-name rules."""
    if name.endswith("_c"):
        base = re.sub(r"_+c$", "", name)
        yield (f"{what} '{name}' ends in a custom suffix",
               f"write the name without the suffix: '{base}'; the tool adds __c")
        return
    if not _NAME.match(name):
        if name[:1].isdigit() or name[:1] == "_":
            yield f"{what} '{name}' must start with a letter", "rename it so it starts with a letter"
        else:
            bad = sorted({c for c in name if not (c.isalnum() or c == "_")})
            yield (f"{what} '{name}' has characters Salesforce does not allow: {' '.join(repr(c) for c in bad)}",
                   "use letters, digits and underscores only")
        return
    if "__" in name:
        yield f"{what} '{name}' contains a double underscore", "Salesforce reserves '__'; use a single underscore"
    if name.endswith("_"):
        yield f"{what} '{name}' ends with an underscore", "remove the trailing underscore"
    if len(name) > MAX_NAME:
        yield f"{what} '{name}' is {len(name)} characters; the limit is {MAX_NAME}", "shorten the name"


def custom_object_names(docs: list[Document]) -> set[str]:
    """Names of every custom object declared in any Salesforce document."""
    names = set()
    for doc in docs:
        for obj in doc.data["spec"].get("objects", []):
            if obj.get("custom", obj["name"] not in STANDARD_OBJECTS):
                names.add(obj["name"])
    return names


def check_salesforce(doc: Document, all_sf_docs: list[Document]) -> list[Finding]:
    """All Salesforce-specific findings of one schema-valid Salesforce document."""
    findings: list[Finding] = []
    spec = doc.data["spec"]

    def add(path: tuple[Any, ...], message: str, hint: str = "", key: bool = False) -> None:
        findings.append(Finding(doc.location(path, key=key), message, hint, "salesforce"))

    known_objects = STANDARD_OBJECTS | custom_object_names(all_sf_docs)
    for i, obj in enumerate(spec.get("objects", [])):
        base = ("spec", "objects", i)
        custom = obj.get("custom", obj["name"] not in STANDARD_OBJECTS)
        if custom:
            for message, hint in name_problems(obj["name"], "object name"):
                add(base + ("name",), message, hint)
            for key in ("label", "pluralLabel", "nameField"):
                if key not in obj and obj.get("ensure", "present") == "present":
                    add(base, f"custom object '{obj['name']}' needs '{key}'",
                        "if this is a standard object, set 'custom: false'" if key == "label" else
                        "custom objects need label, pluralLabel and nameField", key=False)
            nf = obj.get("nameField") or {}
            if nf.get("type") == "AutoNumber" and not re.search(r"\{0+\}", nf.get("displayFormat", "")):
                add(base + ("nameField",), "an AutoNumber name field needs a displayFormat with {0...}",
                    "for example displayFormat: 'ENG-{00000000}'")
            if nf.get("type") == "Text" and ("displayFormat" in nf or "startingNumber" in nf):
                add(base + ("nameField",), "displayFormat and startingNumber apply to AutoNumber name fields only")
        else:
            for key in ("label", "pluralLabel", "nameField", "sharingModel"):
                if key in obj:
                    add(base + (key,), f"'{key}' applies to custom objects only; {obj['name']} is a standard object",
                        "remove it; only the custom fields of standard objects are managed", key=True)
        seen: dict[str, int] = {}
        for j, field in enumerate(obj.get("fields", [])):
            fpath = base + ("fields", j)
            lowered = field["name"].lower()
            if lowered in seen:
                add(fpath + ("name",), f"field '{field['name']}' is declared twice on {obj['name']}",
                    f"the first is fields[{seen[lowered]}]")
            seen.setdefault(lowered, j)
            findings.extend(_check_field(doc, fpath, field, known_objects))
    for i, campaign in enumerate(spec.get("campaignMemberStatuses", [])):
        findings.extend(_check_statuses(doc, ("spec", "campaignMemberStatuses", i), campaign))
    ps = (spec.get("access") or {}).get("permissionSet")
    if ps:
        for message, hint in name_problems(ps["name"], "permission set name"):
            if "custom suffix" not in message:
                findings.append(Finding(doc.location(("spec", "access", "permissionSet", "name")), message, hint,
                                        "salesforce"))
    return findings


def _check_field(doc: Document, path: tuple[Any, ...], field: dict[str, Any], known_objects: set[str]) -> list[Finding]:
    findings: list[Finding] = []

    def add(sub: tuple[Any, ...], message: str, hint: str = "", key: bool = False) -> None:
        findings.append(Finding(doc.location(path + sub, key=key), message, hint, "salesforce"))

    name, ftype = field["name"], field["type"]
    for message, hint in name_problems(name, "field name"):
        add(("name",), message, hint)
    length, places = field.get("length"), field.get("decimalPlaces")
    if ftype in LENGTH_TYPES:
        low, high = LENGTH_TYPES[ftype]
        if length is None:
            add((), f"{ftype} field '{name}' needs a length", f"for example {ftype}({low if ftype != 'Text' else 255})"
                f" is 'length: {low if ftype != 'Text' else 255}'")
        elif not low <= length <= high:
            add(("length",), f"{ftype} length must be between {low} and {high}, got {length}",
                "use LongTextArea for longer text" if ftype == "Text" and length > high else "")
    elif ftype in NUMERIC_TYPES:
        if length is None:
            add((), f"{ftype} field '{name}' needs a length (digits before the decimal point)",
                "Setup's Number(16,2) is 'length: 16, decimalPlaces: 2'")
        else:
            total = length + (places or 0)
            if total > MAX_PRECISION:
                add(("length",), f"length {length} + decimalPlaces {places or 0} = {total} digits; Salesforce allows "
                    f"at most {MAX_PRECISION}", "Setup's Number(16,2) is 'length: 16, decimalPlaces: 2' (precision 18)")
    elif length is not None:
        add(("length",), f"{ftype} fields have no length", "remove 'length'", key=True)
    if places is not None and ftype not in NUMERIC_TYPES:
        add(("decimalPlaces",), f"decimalPlaces applies to Number, Currency and Percent, not {ftype}", "remove it", key=True)
    row = salesforce_type(ftype)
    if "visibleLines" in field and not row.visible_lines:
        add(("visibleLines",), "visibleLines applies to LongTextArea only", "remove it", key=True)
    if ftype == "Lookup":
        target = field.get("referenceTo")
        if not target:
            add((), f"Lookup field '{name}' needs referenceTo", "for example 'referenceTo: Lead'")
        elif target.endswith("__c"):
            add(("referenceTo",), f"referenceTo '{target}' ends in __c", f"write '{target[:-3]}'; the tool adds __c")
        elif target not in known_objects:
            add(("referenceTo",), f"Lookup target '{target}' is not a standard object or a custom object of these "
                "manifests", "declare the object, or check its spelling")
    else:
        for key in LOOKUP_ONLY:
            if key in field:
                add((key,), f"'{key}' applies to Lookup fields only", "remove it", key=True)
    if ftype == "Picklist":
        values = field.get("values") or []
        if not values:
            add((), f"Picklist field '{name}' needs values")
        lowered = [v.lower() for v in values]
        for dup in sorted({v for v in values if lowered.count(v.lower()) > 1}):
            add(("values",), f"picklist value '{dup}' is listed twice")
    elif "values" in field or "restricted" in field:
        add(("values",) if "values" in field else ("restricted",), "'values'/'restricted' apply to Picklist fields only",
            "remove them", key=True)
    for flag, allowed in (("unique", row.unique), ("externalId", row.external_id)):
        if field.get(flag) and not allowed:
            able = [n for n, t in SALESFORCE_TYPES.items() if (t.unique if flag == "unique" else t.external_id)]
            add((flag,), f"{flag} is only possible on {', '.join(able[:-1])} and {able[-1]} fields, not {ftype}",
                key=True)
    if field.get("caseSensitive") and not field.get("unique"):
        add(("caseSensitive",), "caseSensitive only matters together with 'unique: true'", "add unique: true or remove it",
            key=True)
    if field.get("required") and not row.required:
        add(("required",), "Checkbox fields cannot be required; they are always true or false", key=True)
    return findings


def _check_statuses(doc: Document, base: tuple[Any, ...], campaign: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = [Finding(doc.location(base + (key,)), message, hint, "salesforce")
                               for key, message, hint in date_range_problems(campaign)]
    if campaign.get("parent") == campaign["campaign"]:
        findings.append(Finding(doc.location(base + ("parent",)), f"campaign '{campaign['campaign']}' is its own parent",
                                "name another campaign, or leave parent out", "salesforce"))
    statuses = campaign["statuses"]
    defaults = [j for j, s in enumerate(statuses) if s.get("default")]
    name = campaign["campaign"]
    if not defaults:
        findings.append(Finding(doc.location(base + ("statuses",), key=True),
                                f"campaign '{name}' has no default status",
                                "mark exactly one status 'default: true' (the status new members get)", "salesforce"))
    for j in defaults[1:]:
        findings.append(Finding(doc.location(base + ("statuses", j, "default"), key=True),
                                f"campaign '{name}' has more than one default status",
                                f"only one status may be default; the first is '{statuses[defaults[0]]['label']}'",
                                "salesforce"))
    if not any(s.get("responded") for s in statuses):
        findings.append(Finding(doc.location(base + ("statuses",), key=True),
                                f"campaign '{name}' has no responded status",
                                "Salesforce needs at least one status with 'responded: true'", "salesforce"))
    seen: dict[str, int] = {}
    for j, status in enumerate(statuses):
        key = status["label"].strip().lower()
        if key in seen:
            findings.append(Finding(doc.location(base + ("statuses", j, "label")),
                                    f"status '{status['label']}' is listed twice on campaign '{name}'",
                                    f"labels are unique per campaign (case-insensitive); the first is statuses[{seen[key]}]",
                                    "salesforce"))
        seen.setdefault(key, j)
    return findings
