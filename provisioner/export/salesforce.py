"""Read a Salesforce org's live setup and write it as a `kind: Salesforce` manifest.

Live state is mapped to manifest terms by the provider's own normalisers (``live_field_attributes``,
``live_object_attributes``, the campaign and permission set kinds), so what is exported is exactly
what a plan compares: applied back, the manifest plans ``No changes.`` Anything the tool does not
manage (formula fields, managed-package fields, unsupported types or attributes) is left out
with a comment saying what, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..manifest.fieldtypes import NUMERIC_TYPES, SALESFORCE_TYPES
from ..manifest.model import STANDARD_OBJECTS
from ..manifest.schema_check import load_schema
from ..plan.resource import Desired
from ..providers.salesforce.connection import SalesforceConnection
from ..providers.salesforce.normalize import live_field_attributes, live_object_attributes
from ..providers.salesforce.resources.campaign import live_campaign
from ..providers.salesforce.resources.permission_set import KIND as PERMISSION_SET, PermissionSetKind
from .errors import ExportError
from .yaml_writer import MODELINE, Writer, flow

#: Field types the manifest schema accepts (Setup's names).
FIELD_TYPES = frozenset(SALESFORCE_TYPES)
#: CustomField metadata keys the manifest expresses; any other key with a value is reported as left out.
FIELD_KEYS = frozenset({"fullName", "label", "type", "description", "inlineHelpText", "required", "length",
                        "visibleLines", "precision", "scale", "unique", "externalId", "caseSensitive", "defaultValue",
                        "referenceTo", "relationshipName", "relationshipLabel", "deleteConstraint", "valueSet"})
#: CustomObject metadata keys the manifest expresses (fields are handled one by one).
OBJECT_KEYS = frozenset({"fullName", "label", "pluralLabel", "description", "nameField", "sharingModel",
                         "deploymentStatus", "fields"})
SHARING_MODELS = frozenset({"Private", "Read", "ReadWrite", "ControlledByParent"})
DELETE_CONSTRAINTS = frozenset({"SetNull", "Restrict", "Cascade"})


def _strip_c(name: str) -> str:
    return name[:-3] if name.endswith("__c") else name


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _set_keys(md: dict[str, Any], known: frozenset[str]) -> list[str]:
    """Keys of ``md`` outside ``known`` that carry a value (False, None and empty mean unset)."""
    return sorted(k for k, v in md.items() if k not in known and v not in (None, False, "", [], {}, "false"))


@dataclass
class ExportedObject:
    """One object as found in the org: its manifest name, API name and metadata."""

    name: str
    api_name: str
    custom: bool
    metadata: dict[str, Any]


@dataclass
class SalesforceExport:
    """What to export; :meth:`render` reads the org and returns the manifest text.

    Each permission set grants the fields of its own manifest document, so with permission sets
    the output has one document per permission set (holding the objects it grants) and one for
    the objects none grants: applied back, every permission set keeps exactly its grants.
    """

    objects: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)
    permission_sets: list[str] = field(default_factory=list)
    name: str = "exported-salesforce"

    def render(self, conn: SalesforceConnection) -> str:
        """The manifest for the named objects, campaigns and permission sets; ExportError if one is missing."""
        objects = find_objects(conn, self.objects)
        campaigns = conn.read_campaigns(list(self.campaigns))
        missing = [c for c in self.campaigns if campaigns.get(c) is None]
        if missing:
            raise ExportError(f"no campaign named {', '.join(repr(c) for c in missing)} in the org")
        sets = read_permission_sets(conn, self.permission_sets)
        custom_names = {o.name for o in objects if o.custom}
        blocks = [object_block(obj, custom_names) for obj in objects]
        owner: dict[int, str | None] = {}
        for i, (_, granted) in enumerate(blocks):
            if not granted:  # only required fields (never granted): any document will do, so the first
                owner[i] = self.permission_sets[0] if self.permission_sets else None
                continue
            owner[i] = next((n for n in self.permission_sets
                             if {p["field"] for p in sets[n]["fieldPermissions"]} & set(granted)), None)
        documents: list[tuple[str | None, list[int]]] = [(n, [i for i in owner if owner[i] == n])
                                                         for n in self.permission_sets]
        unowned = [i for i in owner if owner[i] is None]
        if unowned or not documents:
            documents.append((None, unowned))
        out: list[str] = []
        for number, (ps_name, members) in enumerate(documents):
            w = Writer()
            if number == 0:
                w.line(0, MODELINE)
                w.note(0, f"Exported from {conn.instance_url} by `provisioner export salesforce`.")
            else:
                w.line(0, "---")
            w.line(0, "apiVersion: provisioner/v1")
            w.line(0, "kind: Salesforce")
            w.line(0, "metadata:")
            w.key(2, "name", self.name if number == 0 else f"{self.name}-{slug(ps_name or 'objects')}"[:63].strip("-"))
            w.line(0, "spec:")
            if number == 0 and self.campaigns:
                w.line(2, "campaignMemberStatuses:")
                for name in self.campaigns:
                    _write_campaign(w, campaigns[name] or {})
            if members:
                w.line(2, "objects:")
                for i in members:
                    w.lines += blocks[i][0].lines
            if ps_name is not None:
                _write_permission_set(w, ps_name, sets[ps_name], [f for i in members for f in blocks[i][1]])
            if not (members or ps_name or (number == 0 and self.campaigns)):
                w.note(2, "nothing was asked for: name --object, --campaign or --permission-set")
                w.line(2, "objects: []")
            out.append(w.text())
        return "".join(out)


def slug(name: str) -> str:
    """``Kaltura_Events_Integration`` → ``kaltura-events-integration`` (a valid metadata.name part)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "x"


def read_permission_sets(conn: SalesforceConnection, names: list[str]) -> dict[str, dict[str, Any]]:
    """Live permission sets, read through the provider's own kind so their terms match a plan's."""
    if not names:
        return {}
    desired = [Desired(f"{PERMISSION_SET}.{n}", PERMISSION_SET, {"name": n}) for n in names]
    live = PermissionSetKind().read(conn, desired)
    missing = [d.attributes["name"] for d in desired if live[d.address].attributes is None]
    if missing:
        raise ExportError(f"no permission set named {', '.join(repr(m) for m in missing)} in the org")
    return {d.attributes["name"]: live[d.address].attributes for d in desired}


def find_objects(conn: SalesforceConnection, names: list[str]) -> list[ExportedObject]:
    """Each named object, in one metadata read: ``Foo`` is ``Foo__c`` unless it is a standard object."""
    candidates: dict[str, list[str]] = {}
    for name in names:
        if name.endswith("__c"):
            candidates[name] = [name]
        elif name in STANDARD_OBJECTS:
            candidates[name] = [name]
        else:
            candidates[name] = [f"{name}__c", name]
    found = conn.read_objects([api for apis in candidates.values() for api in apis])
    out: list[ExportedObject] = []
    missing: list[str] = []
    for name, apis in candidates.items():
        api = next((a for a in apis if found.get(a) is not None), None)
        if api is None:
            missing.append(name)
            continue
        out.append(ExportedObject(_strip_c(api), api, api.endswith("__c"), found[api] or {}))
    if missing:
        raise ExportError(f"no object {', '.join(repr(m) for m in missing)} in the org "
                          "(custom objects may be named with or without __c)")
    return out


def _write_campaign(w: Writer, record: dict[str, Any]) -> None:
    """A template campaign and every status it has, in SortOrder (a new campaign's defaults included)."""
    live = live_campaign(record)
    w.key(4, "- campaign", live["name"])
    if live["type"]:
        w.key(6, "type", live["type"])
    else:
        w.note(6, "left out: the campaign has no Type in Salesforce (a manifest's default, Webinar, would set it)")
    if live["description"]:
        w.key(6, "description", live["description"])
    known = load_schema()["$defs"]["campaignStatuses"]["properties"]["status"]["enum"]
    if live["status"] in known:
        w.key(6, "status", live["status"])
    elif live["status"]:
        w.note(6, f"left out: status {live['status']!r} (a custom Campaign Status value; the manifest knows "
                  f"{', '.join(known)})")
    for key in ("startDate", "endDate", "parent"):
        if live[key]:
            w.key(6, key, live[key])
    if live["isActive"] is not None:
        w.key(6, "isActive", bool(live["isActive"]))
    w.line(6, "statuses:")
    for row in sorted(record.get("statuses") or [], key=lambda r: r["SortOrder"]):
        entry: dict[str, Any] = {"label": row["Label"]}
        if row.get("IsDefault"):
            entry["default"] = True
        if row.get("HasResponded"):
            entry["responded"] = True
        w.line(8, f"- {flow(entry)}")


def object_block(obj: ExportedObject, custom_names: set[str]) -> tuple[Writer, list[str]]:
    """One object entry, and the ``Object.field__c`` names of its exported non-required fields."""
    md = obj.metadata
    w = Writer()
    w.key(4, "- name", obj.name)
    if obj.custom:
        live = live_object_attributes(md)
        for key in ("label", "pluralLabel", "description"):
            if live[key]:
                w.key(6, key, live[key])
        name_field = {k: v for k, v in live["nameField"].items() if v is not None}
        if name_field.get("type") in ("Text", "AutoNumber") and name_field.get("label"):
            w.key(6, "nameField", name_field)
        else:
            w.note(6, f"left out: nameField {flow(md.get('nameField'))} (not a Text or AutoNumber name field)")
        if live["sharingModel"] in SHARING_MODELS:
            w.key(6, "sharingModel", live["sharingModel"])
        else:
            w.note(6, f"left out: sharingModel {live['sharingModel']!r} (not one the manifest expresses)")
        unmanaged = _set_keys(md, OBJECT_KEYS)
        if unmanaged:
            w.note(6, f"left out (not managed by provisioner): {', '.join(unmanaged)}")
    elif obj.name not in STANDARD_OBJECTS:
        w.key(6, "custom", False)
    entries: list[tuple[dict[str, Any] | None, list[str]]] = []
    granted: list[str] = []
    for fmd in _as_list(md.get("fields")):
        entry, notes = field_entry(fmd, custom_names)
        if entry is None and not notes:
            continue  # a standard field: standard objects export their custom fields only
        entries.append((entry, notes))
        if entry is not None and not entry.get("required"):
            granted.append(f"{obj.api_name}.{entry['name']}__c")
    w.line(6, "fields:" if any(e for e, _ in entries) else "fields: []")
    for entry, notes in entries:
        for note in notes:
            w.note(8, note)
        if entry is not None:
            w.line(8, f"- {flow(entry)}")
    return w, granted


def field_entry(md: dict[str, Any], custom_names: set[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """A custom field as a manifest entry plus comments; ``(None, notes)`` when it is left out.

    ``(None, [])`` means a standard field, which a manifest never names.
    """
    full = str(md.get("fullName") or "").rsplit(".", 1)[-1]
    if not full.endswith("__c"):
        return None, []
    name, ftype = full[:-3], md.get("type")
    if "__" in name:
        return None, [f"left out: {full} (a managed-package field; its package owns it)"]
    if md.get("formula"):
        return None, [f"left out: {full} (a {ftype} formula field; provisioner does not manage formulas)"]
    if ftype not in FIELD_TYPES:
        return None, [f"left out: {full} (type {ftype}; provisioner does not manage this type)"]
    if ftype == "Picklist" and (md.get("valueSet") or {}).get("valueSetName"):
        return None, [f"left out: {full} (a picklist on a global value set; provisioner does not manage those)"]
    live = live_field_attributes(md)
    notes: list[str] = []
    entry: dict[str, Any] = {"name": name}
    if live["label"] and live["label"] != name:
        entry["label"] = live["label"]
    entry["type"] = ftype
    if live.get("length") is not None:
        entry["length"] = live["length"]
    if ftype in NUMERIC_TYPES:
        entry["decimalPlaces"] = live["decimalPlaces"]
    if live.get("visibleLines") is not None:
        entry["visibleLines"] = live["visibleLines"]
    for key in ("required", "unique", "caseSensitive", "externalId", "restricted"):
        if live.get(key):
            entry[key] = True
    if ftype == "Checkbox" and live["defaultValue"]:
        entry["defaultValue"] = True
    if ftype == "Lookup":
        target = str(live["referenceTo"] or "")
        if target.endswith("__c") and _strip_c(target) not in custom_names:
            return None, [f"left out: {full} (a lookup to {target}; add --object {_strip_c(target)} to export it)"]
        if not target.endswith("__c") and target not in STANDARD_OBJECTS:
            return None, [f"left out: {full} (a lookup to {target or 'an unknown object'}, "
                          "a standard object provisioner does not know)"]
        entry["referenceTo"] = _strip_c(target)
        entry["relationshipName"] = live["relationshipName"]
        if live["relationshipLabel"]:
            entry["relationshipLabel"] = live["relationshipLabel"]
        else:
            notes.append(f"{full}: relationshipLabel is empty in Salesforce; a manifest cannot say so "
                         "(applied, it gets the object's plural label)")
        if live["deleteConstraint"] in DELETE_CONSTRAINTS:
            entry["deleteConstraint"] = live["deleteConstraint"]
        else:
            notes.append(f"{full}: left out deleteConstraint {live['deleteConstraint']!r}")
    if ftype == "Picklist":
        entry["values"] = live["values"]
        definition = ((md.get("valueSet") or {}).get("valueSetDefinition") or {})
        odd = [str(v.get("fullName")) for v in _as_list(definition.get("value"))
               if (v.get("label") not in (None, v.get("fullName"))) or v.get("default") in (True, "true")]
        if odd:
            notes.append(f"{full}: left out the labels and default flags of values {', '.join(odd)} "
                         "(a manifest lists value names only)")
    if live["description"]:
        entry["description"] = live["description"]
    if live["helpText"]:
        entry["helpText"] = live["helpText"]
    unmanaged = _set_keys(md, FIELD_KEYS)
    if ftype != "Checkbox" and md.get("defaultValue") not in (None, ""):
        unmanaged.append("defaultValue")
    if unmanaged:
        notes.append(f"{full}: left out (not managed by provisioner): {', '.join(sorted(unmanaged))}")
    return entry, notes


def _write_permission_set(w: Writer, name: str, live: dict[str, Any], granted: list[str]) -> None:
    """The permission set's access section, with comments where its grants and the fields differ."""
    w.line(2, "access:")
    grants = live["fieldPermissions"]
    exported = set(granted)
    extra = sorted(p["field"] for p in grants if p["field"] not in exported)
    if extra:
        w.note(4, f"The permission set also grants fields this export does not include: {', '.join(extra)}. "
                  "Applied as is, the manifest revokes them; export their objects too to keep them.")
    ungranted = sorted(exported - {p["field"] for p in grants})
    if ungranted:
        w.note(4, f"Not granted yet (applying the manifest grants them): {', '.join(ungranted)}.")
    w.line(4, "permissionSet:")
    w.key(6, "name", name)
    w.key(6, "label", live["label"] or name)
    if live["description"]:
        w.key(6, "description", live["description"])
    if not live["assignedToApiUser"]:
        w.key(6, "assignToApiUser", False)
    editable = {p["editable"] for p in grants if p["field"] in exported}
    if editable == {False}:
        w.key(6, "editable", False)
    elif editable == {True, False}:
        w.note(6, "left out: editable (some fields are read-only, some editable; the manifest grants all one way)")
