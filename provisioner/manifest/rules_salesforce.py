"""Salesforce rules beyond the schema: API names, field sizes, lookups, campaign statuses.

Every rule that Salesforce documents is a row of :mod:`.vendor_rules`, and its findings name it.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from .dates import date_range_problems
from .findings import Finding
from .fieldtypes import LENGTH_TYPES, MAX_PRECISION, NUMERIC_TYPES, SALESFORCE_TYPES, salesforce_type
from .model import STANDARD_OBJECTS
from .vendor_rules import finding
from .yaml_loader import Document

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_NAME = 40  # characters before the __c suffix
LOOKUP_ONLY = ("referenceTo", "relationshipName", "relationshipLabel", "deleteConstraint")
#: Suffixes Salesforce gives API names itself (custom objects and fields, relationships, external objects,
#: platform events, custom metadata, big objects, share/history/feed tables, knowledge articles).
RESERVED_SUFFIX = re.compile(r"(?:__|_)(c|r|x|e|mdt|b|share|history|feed|kav)$", re.IGNORECASE)
DEVELOPER_NAME = "salesforce.developer-name"
RESERVED = "salesforce.reserved-suffix"
FIELD_TYPE = "salesforce.field-type"


def name_problems(name: str, what: str, suffix: str = "__c") -> Iterator[tuple[str, str, str]]:
    """(rule, message, hint) for each way ``name`` breaks Salesforce's developer-name rules.

    ``suffix`` is what Salesforce (or the tool) adds to the name; a name already ending in one of
    Salesforce's reserved suffixes gets a hint to leave it out.
    """
    reserved = RESERVED_SUFFIX.search(name)
    if reserved and (reserved.group(0).startswith("__") or reserved.group(1).lower() == suffix[2:].lower()):
        base = name[: reserved.start()]
        added = f"; Salesforce adds {suffix}" if suffix else ""
        yield (RESERVED, f"{what} '{name}' ends in the reserved suffix '{reserved.group(0)}'",
               f"write the name without the suffix: '{base}'{added}" if base else "choose another name")
        return
    if not _NAME.match(name):
        if name[:1].isdigit() or name[:1] == "_":
            yield DEVELOPER_NAME, f"{what} '{name}' must start with a letter", "rename it so it starts with a letter"
        else:
            bad = sorted({c for c in name if not (c.isalnum() or c == "_")})
            yield (DEVELOPER_NAME, f"{what} '{name}' has characters Salesforce does not allow: "
                   f"{' '.join(repr(c) for c in bad)}", "use letters, digits and underscores only")
        return
    if "__" in name:
        yield (DEVELOPER_NAME, f"{what} '{name}' contains a double underscore",
               "Salesforce reserves '__'; use a single underscore")
    if name.endswith("_"):
        yield DEVELOPER_NAME, f"{what} '{name}' ends with an underscore", "remove the trailing underscore"
    if len(name) > MAX_NAME:
        yield DEVELOPER_NAME, f"{what} '{name}' is {len(name)} characters; the limit is {MAX_NAME}", "shorten the name"


def custom_object_names(docs: list[Document]) -> set[str]:
    """Names of every custom object declared in any Salesforce document."""
    names = set()
    for doc in docs:
        for obj in doc.data["spec"].get("objects", []):
            if obj.get("custom", obj["name"] not in STANDARD_OBJECTS):
                names.add(obj["name"])
    return names


def check_salesforce(doc: Document, known_objects: set[str]) -> list[Finding]:
    """All Salesforce-specific findings of one schema-valid Salesforce document; ``known_objects`` are the
    standard objects and every custom object the documents declare (see :func:`custom_object_names`)."""
    findings: list[Finding] = []
    spec = doc.data["spec"]

    def add(path: tuple[Any, ...], message: str, hint: str = "", key: bool = False) -> None:
        findings.append(Finding(doc.location(path, key=key), message, hint, "salesforce"))

    def rule(path: tuple[Any, ...], rule_id: str, message: str, hint: str = "") -> None:
        findings.append(finding(doc.location(path), rule_id, message, hint))

    for i, obj in enumerate(spec.get("objects", [])):
        base = ("spec", "objects", i)
        custom = obj.get("custom", obj["name"] not in STANDARD_OBJECTS)
        if custom:
            for rule_id, message, hint in name_problems(obj["name"], "object name"):
                rule(base + ("name",), rule_id, message, hint)
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
        for rule_id, message, hint in name_problems(ps["name"], "permission set name", suffix=""):
            rule(("spec", "access", "permissionSet", "name"), rule_id, message, hint)
    return findings


def check_salesforce_set(docs: list[Document]) -> list[Finding]:
    """Findings across Salesforce documents: two lookups may not give the object they point to two child
    relationships of one name."""
    findings: list[Finding] = []
    seen: dict[tuple[str, str], Any] = {}
    for doc in docs:
        for i, obj in enumerate(doc.data["spec"].get("objects", [])):
            for j, field in enumerate(obj.get("fields", [])):
                if field["type"] != "Lookup" or not field.get("referenceTo") or field.get("ensure") == "absent":
                    continue
                key = (field["referenceTo"].lower(), field.get("relationshipName", field["name"]).lower())
                path = ("spec", "objects", i, "fields", j)
                if key in seen:
                    where = path + (("relationshipName",) if "relationshipName" in field else ("name",))
                    findings.append(finding(
                        doc.location(where), "salesforce.relationship-name",
                        f"relationshipName '{field.get('relationshipName', field['name'])}' is already a child "
                        f"relationship of {field['referenceTo']} (from {seen[key]})",
                        "give this lookup its own relationshipName"))
                else:
                    seen[key] = f"{obj['name']}.{field['name']} at {doc.location(path)}"
    return findings


def _check_field(doc: Document, path: tuple[Any, ...], field: dict[str, Any], known_objects: set[str]) -> list[Finding]:
    findings: list[Finding] = []

    def add(sub: tuple[Any, ...], message: str, hint: str = "", key: bool = False, rule_id: str = FIELD_TYPE) -> None:
        findings.append(finding(doc.location(path + sub, key=key), rule_id, message, hint))

    def tool(sub: tuple[Any, ...], message: str, hint: str = "", key: bool = False) -> None:
        """A finding of the manifest format itself (no vendor document behind it)."""
        findings.append(Finding(doc.location(path + sub, key=key), message, hint, "salesforce"))

    name, ftype = field["name"], field["type"]
    for rule_id, message, hint in name_problems(name, "field name"):
        add(("name",), message, hint, rule_id=rule_id)
    length, places = field.get("length"), field.get("decimalPlaces")
    if ftype in LENGTH_TYPES:
        low, high = LENGTH_TYPES[ftype]
        if length is None:
            add((), f"{ftype} field '{name}' needs a length", f"for example {ftype}({low if ftype != 'Text' else 255})"
                f" is 'length: {low if ftype != 'Text' else 255}'")
        elif not low <= length <= high:
            longer, shorter = ftype == "Text" and length > high, ftype == "LongTextArea" and length < low
            add(("length",), f"{ftype} length must be between {low} and {high}, got {length}",
                "use LongTextArea for longer text" if longer else
                f"use Text for up to {LENGTH_TYPES['Text'][1]} characters" if shorter else
                f"use a length from {low} to {high}")
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
            tool((), f"Lookup field '{name}' needs referenceTo", "for example 'referenceTo: Lead'")
        elif target.endswith("__c"):
            tool(("referenceTo",), f"referenceTo '{target}' ends in __c", f"write '{target[:-3]}'; the tool adds __c")
        elif target not in known_objects:
            tool(("referenceTo",), f"Lookup target '{target}' is not a standard object or a custom object of these "
                 "manifests", "declare the object, or check its spelling")
        if "relationshipName" in field:  # it defaults to the field name, which is checked above
            for rule_id, message, hint in name_problems(field["relationshipName"], "relationshipName", suffix="__r"):
                add(("relationshipName",), message, hint,
                    rule_id="salesforce.relationship-name" if rule_id == DEVELOPER_NAME else rule_id)
        if field.get("required") and field.get("deleteConstraint", "SetNull") == "SetNull":
            add(("deleteConstraint",) if "deleteConstraint" in field else ("required",),
                f"required Lookup field '{name}' cannot use deleteConstraint SetNull"
                + ("" if "deleteConstraint" in field else " (the default)"),
                "set 'deleteConstraint: Restrict' (parents with children cannot be deleted), or make the field "
                "optional", rule_id="salesforce.required-lookup-delete")
    else:
        for key in LOOKUP_ONLY:
            if key in field:
                tool((key,), f"'{key}' applies to Lookup fields only", "remove it", key=True)
    if ftype == "Picklist":
        values = field.get("values") or []
        if not values:
            tool((), f"Picklist field '{name}' needs values")
        lowered = [v.lower() for v in values]
        for dup in sorted({v for v in values if lowered.count(v.lower()) > 1}):
            tool(("values",), f"picklist value '{dup}' is listed twice")
    elif "values" in field or "restricted" in field:
        tool(("values",) if "values" in field else ("restricted",),
             "'values'/'restricted' apply to Picklist fields only", "remove them", key=True)
    for flag, allowed in (("unique", row.unique), ("externalId", row.external_id)):
        if field.get(flag) and not allowed:
            able = [n for n, t in SALESFORCE_TYPES.items() if (t.unique if flag == "unique" else t.external_id)]
            add((flag,), f"{flag} is only possible on {', '.join(able[:-1])} and {able[-1]} fields, not {ftype}",
                f"remove '{flag}', or keep the key in a {able[0]} field", key=True)
    if field.get("caseSensitive") and not field.get("unique"):
        add(("caseSensitive",), "caseSensitive only matters together with 'unique: true'", "add unique: true or remove it",
            key=True)
    if field.get("required") and not row.required:
        add(("required",), "Checkbox fields cannot be required; they are always true or false",
            "remove 'required'", key=True)
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
    status_rule = "salesforce.campaign-member-status"
    if not defaults:
        findings.append(finding(doc.location(base + ("statuses",), key=True), status_rule,
                                f"campaign '{name}' has no default status",
                                "mark exactly one status 'default: true' (the status new members get)"))
    for j in defaults[1:]:
        findings.append(finding(doc.location(base + ("statuses", j, "default"), key=True), status_rule,
                                f"campaign '{name}' has more than one default status",
                                f"only one status may be default; the first is '{statuses[defaults[0]]['label']}'"))
    if not any(s.get("responded") for s in statuses):
        findings.append(finding(doc.location(base + ("statuses",), key=True), status_rule,
                                f"campaign '{name}' has no responded status",
                                "Salesforce needs at least one status with 'responded: true'"))
    seen: dict[str, int] = {}
    for j, status in enumerate(statuses):
        key = status["label"].strip().lower()
        if key in seen:
            findings.append(finding(doc.location(base + ("statuses", j, "label")), status_rule,
                                    f"status '{status['label']}' is listed twice on campaign '{name}'",
                                    f"labels are unique per campaign (case-insensitive); the first is "
                                    f"statuses[{seen[key]}]"))
        seen.setdefault(key, j)
    return findings
