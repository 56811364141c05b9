"""Metadata components between SOAP XML and plain dicts (the form the store keeps them in).

Elements that the WSDL declares ``maxOccurs="unbounded"`` become lists; booleans and integers
get their Python types; ``xsi:nil`` elements are dropped. Serialisation writes ``fullName``
first and the rest alphabetically, which is the WSDL's sequence order for these types.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .soap import XSI, local, text

#: child elements that are arrays in the WSDL (for the types the sandbox handles)
LIST_ELEMENTS = {
    "fields", "fieldPermissions", "objectPermissions", "userPermissions", "classAccesses", "tabSettings",
    "recordTypeVisibilities", "applicationVisibilities", "pageAccesses", "customPermissions", "listViews",
    "validationRules", "fieldSets", "recordTypes", "webLinks", "actionOverrides", "compactLayouts",
    "sharingReasons", "indexes", "businessProcesses", "summaryFilterItems", "value", "valueSettings",
    "controllingFieldValue", "customMetadataTypeAccesses", "customSettingAccesses", "flowAccesses",
    "externalDataSourceAccesses", "filterItems", "columns", "searchResultsAdditionalFields",
}
INT_ELEMENTS = {"length", "precision", "scale", "startingNumber", "visibleLines", "relationshipOrder"}


def element_to_dict(el: etree._Element) -> dict[str, Any]:
    """A metadata element (e.g. ``<metadata xsi:type="CustomField">``) as a dict."""
    out: dict[str, Any] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = local(child)
        if child.get(f"{{{XSI}}}nil") == "true":
            continue
        value: Any
        if len(child):
            value = element_to_dict(child)
        else:
            raw = child.text or ""
            if raw in ("true", "false"):
                value = raw == "true"
            elif name in INT_ELEMENTS:
                try:
                    value = int(float(raw))
                except ValueError:
                    value = raw
            else:
                value = raw
        if name in LIST_ELEMENTS:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def xsi_type(el: etree._Element) -> str | None:
    """The local part of an element's ``xsi:type`` (``ns0:CustomObject`` -> ``CustomObject``)."""
    value = el.get(f"{{{XSI}}}type")
    return value.split(":")[-1] if value else None


def dict_to_xml(tag: str, data: dict[str, Any], type_name: str | None = None) -> str:
    """``data`` as ``<tag>`` (with ``xsi:type`` when given), fullName first, then alphabetical."""
    attrs = f' xsi:type="{type_name}"' if type_name else ""
    parts = [f"<{tag}{attrs}>"]
    keys = sorted(k for k in data if k != "fullName")
    if "fullName" in data:
        keys.insert(0, "fullName")
    for key in keys:
        value = data[key]
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                parts.append(dict_to_xml(key, item))
            else:
                parts.append(f"<{key}>{text(item)}</{key}>")
    parts.append(f"</{tag}>")
    return "".join(parts)
