"""The tool's field-type table agrees with the JSON schema and with the sandbox's own rules, type by type.

The sandbox implements Salesforce's CustomField rules independently (it never imports the tool).
Each row of the tool's table is probed against the sandbox's Metadata API validator: the length
range's ends and one past them, precision 18 and 19, unique, externalId, required and the default.
A disagreement between the two readings of the vendor's rules fails here, before it fails an apply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioner.manifest.fieldtypes import MARKETO_TYPES, MAX_PRECISION, SALESFORCE_TYPES, SalesforceType
from provisioner.sandbox.marketo import activities as sandbox_activities
from provisioner.sandbox.marketo import customobjects as sandbox_customobjects
from provisioner.sandbox.salesforce.metadata_rules import check_custom_field
from provisioner.sandbox.salesforce.schema import FIELD_TYPES as SANDBOX_SALESFORCE_TYPES
from provisioner.sandbox.salesforce.store import OrgStore

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "manifest.schema.json").read_text("utf-8"))


def _enum(definition: str, prop: str) -> list[str]:
    return SCHEMA["$defs"][definition]["properties"][prop]["enum"]


def test_the_schema_offers_exactly_the_types_of_the_table() -> None:
    assert _enum("salesforceField", "type") == list(SALESFORCE_TYPES)
    assert set(_enum("marketoCustomObjectField", "dataType")) == {
        n for n, t in MARKETO_TYPES.items() if t.custom_object_field}
    assert set(_enum("marketoActivityAttribute", "dataType")) == {
        n for n, t in MARKETO_TYPES.items() if t.activity_attribute}


def test_the_schema_descriptions_quote_the_table() -> None:
    """The editor tooltips say the same ranges as the table (they are the schema's only copy of them)."""
    props = SCHEMA["$defs"]["salesforceField"]["properties"]
    for name, t in SALESFORCE_TYPES.items():
        if t.length:
            assert f"{name}: {t.length[0]}-{t.length[1]}" in props["length"]["description"], name
    assert f"must not exceed {MAX_PRECISION}" in props["decimalPlaces"]["description"]


def test_marketo_types_agree_with_the_sandbox() -> None:
    assert {n for n, t in MARKETO_TYPES.items() if t.custom_object_field} == set(sandbox_customobjects.FIELD_TYPES)
    assert {n for n, t in MARKETO_TYPES.items() if t.dedupe} == set(sandbox_customobjects.DEDUPE_TYPES)
    assert {n for n, t in MARKETO_TYPES.items() if t.activity_attribute} == set(sandbox_activities.ATTRIBUTE_TYPES)


def _base(t: SalesforceType) -> dict[str, Any]:
    """The smallest CustomField of type ``t`` the table says is valid."""
    md: dict[str, Any] = {"fullName": "Probe__c", "label": "Probe", "type": t.name}
    if t.length:
        md["length"] = t.length[0]
    if t.numeric:
        md["precision"], md["scale"] = 10, 2
    if t.default == "required":
        md["defaultValue"] = "false"
    if t.lookup:
        md.update(referenceTo="Account", relationshipName="Probes", deleteConstraint="Restrict")
    if t.picklist:
        md["valueSet"] = {"valueSetDefinition": {"value": [{"fullName": "A"}]}}
    return md


def _accepted(md: dict[str, Any]) -> bool:
    return not check_custom_field(OrgStore(), "Account", md)


@pytest.mark.parametrize("name", list(SALESFORCE_TYPES))
def test_salesforce_type_agrees_with_the_sandbox(name: str) -> None:
    t = SALESFORCE_TYPES[name]
    assert name in SANDBOX_SALESFORCE_TYPES, f"the sandbox does not know {name}"
    base = _base(t)
    assert _accepted(base), check_custom_field(OrgStore(), "Account", base)
    if t.length:
        low, high = t.length
        assert _accepted({**base, "length": high})
        assert not _accepted({**base, "length": high + 1})
        assert not _accepted({**base, "length": low - 1})
        assert not _accepted({k: v for k, v in base.items() if k != "length"}), "length is required"
    if t.numeric:
        assert _accepted({**base, "precision": MAX_PRECISION, "scale": 0})
        assert not _accepted({**base, "precision": MAX_PRECISION + 1, "scale": 0})
        assert not _accepted({**base, "precision": 4, "scale": 5})
    else:
        assert not _accepted({**base, "precision": 10, "scale": 0})
    assert _accepted({**base, "externalId": True}) == t.external_id
    assert _accepted({**base, "unique": True}) == t.unique
    assert _accepted({**base, "required": True}) == t.required
    if t.default == "required":
        assert not _accepted({k: v for k, v in base.items() if k != "defaultValue"})
    if t.unique:
        assert _accepted({**base, "unique": True, "caseSensitive": True})
    assert not _accepted({**base, "caseSensitive": True}), "caseSensitive without unique"
    if t.lookup:  # the pair the vendor forbids: a required lookup cannot clear itself when its parent goes
        assert _accepted({**base, "deleteConstraint": "SetNull"})
        assert not _accepted({**base, "deleteConstraint": "SetNull", "required": True})


def test_sync_row_checks_know_long_text_area() -> None:
    """A LongTextArea(300) value of 301 characters is refused before any call; 300 fit."""
    from provisioner.manifest.findings import Location
    from provisioner.manifest.model import SalesforceField
    from provisioner.sync.checks import check_field

    f = SalesforceField("UserSessionEngagement", "notes", "LongTextArea", Location("m.yaml", 1, 1), length=300)
    assert check_field(f, "x" * 300) is None
    assert "301 characters" in (check_field(f, "x" * 301) or "")
    email = SalesforceField("UserSessionEngagement", "contact", "Email", Location("m.yaml", 1, 1))
    assert "81 characters" in (check_field(email, "a" * 69 + "@example.com") or "")
