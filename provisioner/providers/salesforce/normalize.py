"""Translate between manifest terms and Metadata API terms, both ways.

Manifest: ``Number(16,2)`` is ``length: 16, decimalPlaces: 2``. API: precision 18, scale 2.
Desired and live attributes use the same keys and defaults, so a diff shows only real changes.
"""

from __future__ import annotations

from typing import Any

from ...manifest.fieldtypes import NUMERIC_TYPES, UNIQUE_OR_EXTERNAL_ID_TYPES, salesforce_type
from ...manifest.model import SalesforceField, SalesforceObject, object_api_name


def field_attributes(f: SalesforceField, plural_label: str | None = None) -> dict[str, Any]:
    """Desired attributes of a field, with every default filled in."""
    attrs: dict[str, Any] = {
        "label": f.label or f.name,
        "type": f.type,
        "description": f.description or None,
        "helpText": f.help_text or None,
    }
    row = salesforce_type(f.type)
    if row.required:
        attrs["required"] = f.required
    if row.length:
        attrs["length"] = f.length
    if row.visible_lines:
        attrs["visibleLines"] = f.visible_lines or 3
    if f.type in NUMERIC_TYPES:
        attrs["length"] = f.length
        attrs["decimalPlaces"] = f.decimal_places or 0
    if f.type in UNIQUE_OR_EXTERNAL_ID_TYPES:
        attrs["unique"] = f.unique
        attrs["externalId"] = f.external_id
        if row.case_sensitive:
            attrs["caseSensitive"] = bool(f.unique and f.case_sensitive)
    if row.default == "required":
        attrs["defaultValue"] = bool(f.default_value)
    if row.lookup:
        attrs["referenceTo"] = object_api_name(f.reference_to or "")
        attrs["relationshipName"] = f.relationship_name or f.name
        attrs["relationshipLabel"] = f.relationship_label or plural_label or f.object_name
        attrs["deleteConstraint"] = f.delete_constraint or "SetNull"
    if row.picklist:
        attrs["values"] = list(f.values)
        attrs["restricted"] = f.restricted
    return attrs


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def live_field_attributes(md: dict[str, Any]) -> dict[str, Any]:
    """Live attributes of a field from its CustomField metadata, in manifest terms."""
    ftype = md.get("type") or "Text"
    attrs: dict[str, Any] = {
        "label": md.get("label"),
        "type": ftype,
        "description": md.get("description") or None,
        "helpText": md.get("inlineHelpText") or None,
    }
    row = salesforce_type(ftype)
    if row.required:
        attrs["required"] = _bool(md.get("required"))
    if row.length:
        attrs["length"] = _int(md.get("length"))
    if row.visible_lines:
        attrs["visibleLines"] = _int(md.get("visibleLines"))
    if ftype in NUMERIC_TYPES:
        precision, scale = _int(md.get("precision")) or 0, _int(md.get("scale")) or 0
        attrs["length"] = precision - scale
        attrs["decimalPlaces"] = scale
    if ftype in UNIQUE_OR_EXTERNAL_ID_TYPES:
        attrs["unique"] = _bool(md.get("unique"))
        attrs["externalId"] = _bool(md.get("externalId"))
        if row.case_sensitive:
            attrs["caseSensitive"] = _bool(md.get("caseSensitive")) and attrs["unique"]
    if row.default == "required":
        attrs["defaultValue"] = _bool(md.get("defaultValue"))
    if row.lookup:
        attrs["referenceTo"] = md.get("referenceTo")
        attrs["relationshipName"] = md.get("relationshipName")
        attrs["relationshipLabel"] = md.get("relationshipLabel")
        attrs["deleteConstraint"] = md.get("deleteConstraint") or "SetNull"
    if row.picklist:
        value_set = md.get("valueSet") or {}
        definition = value_set.get("valueSetDefinition") or {}
        values = definition.get("value") or []
        attrs["values"] = [v.get("fullName") for v in (values if isinstance(values, list) else [values])]
        attrs["restricted"] = _bool(value_set.get("restricted"))
    return attrs


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def field_metadata(full_name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """CustomField metadata (keyword arguments for the zeep type) from desired attributes.

    Every attribute is sent, because a Metadata API update replaces the whole component.
    """
    ftype = attrs["type"]
    md: dict[str, Any] = {"fullName": full_name, "label": attrs["label"], "type": ftype}
    if attrs.get("description"):
        md["description"] = attrs["description"]
    if attrs.get("helpText"):
        md["inlineHelpText"] = attrs["helpText"]
    row = salesforce_type(ftype)
    if "required" in attrs:
        md["required"] = attrs["required"]
    if row.length:
        md["length"] = attrs["length"]
    if row.visible_lines:
        md["visibleLines"] = attrs["visibleLines"]
    if ftype in NUMERIC_TYPES:
        md["precision"] = attrs["length"] + attrs["decimalPlaces"]
        md["scale"] = attrs["decimalPlaces"]
    if ftype in UNIQUE_OR_EXTERNAL_ID_TYPES:
        md["unique"] = attrs["unique"]
        md["externalId"] = attrs["externalId"]
        if row.case_sensitive:
            md["caseSensitive"] = attrs["caseSensitive"]
    if row.default == "required":
        md["defaultValue"] = "true" if attrs["defaultValue"] else "false"
    if row.lookup:
        for key in ("referenceTo", "relationshipName", "relationshipLabel", "deleteConstraint"):
            md[key] = attrs[key]
    if row.picklist:
        md["valueSet"] = {"restricted": attrs["restricted"],
                          "valueSetDefinition": {"sorted": False, "value": [
                              {"fullName": v, "default": False, "label": v} for v in attrs["values"]]}}
    return md


def object_attributes(obj: SalesforceObject) -> dict[str, Any]:
    """Desired attributes of a custom object (fields are resources of their own)."""
    name_field: dict[str, Any] = {"label": obj.name_field.label, "type": obj.name_field.type} if obj.name_field else {}
    if obj.name_field and obj.name_field.type == "AutoNumber":
        name_field["displayFormat"] = obj.name_field.display_format
    return {
        "label": obj.label,
        "pluralLabel": obj.plural_label,
        "description": obj.description or None,
        "nameField": name_field,
        "sharingModel": obj.sharing_model,
    }


def live_object_attributes(md: dict[str, Any]) -> dict[str, Any]:
    name_field = md.get("nameField") or {}
    nf: dict[str, Any] = {"label": name_field.get("label"), "type": name_field.get("type")}
    if nf["type"] == "AutoNumber":
        nf["displayFormat"] = name_field.get("displayFormat")
    return {
        "label": md.get("label"),
        "pluralLabel": md.get("pluralLabel"),
        "description": md.get("description") or None,
        "nameField": nf,
        "sharingModel": md.get("sharingModel"),
    }


def object_metadata(api_name: str, attrs: dict[str, Any], starting_number: int | None = None) -> dict[str, Any]:
    """CustomObject metadata from desired attributes (full replace: every attribute is sent)."""
    name_field = dict(attrs["nameField"])
    if name_field.get("type") == "AutoNumber" and starting_number is not None:
        name_field["startingNumber"] = starting_number
    md = {"fullName": api_name, "label": attrs["label"], "pluralLabel": attrs["pluralLabel"],
          "nameField": name_field, "sharingModel": attrs["sharingModel"], "deploymentStatus": "Deployed"}
    if attrs.get("description"):
        md["description"] = attrs["description"]
    return md
