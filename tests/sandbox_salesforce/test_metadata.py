"""Metadata API over SOAP, parsed by zeep with simple-salesforce's own WSDL: every operation, the
call limits, partial success, and the CustomObject / CustomField / PermissionSet rules."""

from __future__ import annotations

from typing import Any

import pytest
import zeep.exceptions
from simple_salesforce import Salesforce

from .conftest import soap, unique


def custom_object(md: Any, name: str, **overrides: Any) -> Any:
    values: dict[str, Any] = dict(fullName=name, label="Engagement", pluralLabel="Engagements",
                                  nameField=md.CustomField(label="Engagement Name", type="Text"),
                                  deploymentStatus="Deployed", sharingModel="ReadWrite")
    values.update(overrides)
    return md.CustomObject(**{k: v for k, v in values.items() if v is not None})


def text_field(md: Any, full_name: str, **overrides: Any) -> Any:
    values: dict[str, Any] = dict(fullName=full_name, label="Some text", type="Text", length=80)
    values.update(overrides)
    return md.CustomField(**{k: v for k, v in values.items() if v is not None})


def only_error(result: Any) -> tuple[str, str]:
    assert result.success is False, result
    assert len(result.errors) >= 1
    return result.errors[0].statusCode, result.errors[0].message


def test_create_read_update_delete_custom_object_through_mdapi(md: Any, sf: Salesforce) -> None:
    name = unique("Engagement") + "__c"
    md.CustomObject.create([custom_object(md, name, description="first")])
    read = md.CustomObject.read([name])
    assert (read.fullName, read.label, read.pluralLabel, read.description) == (name, "Engagement", "Engagements", "first")
    assert (read.nameField.type, read.deploymentStatus, read.sharingModel) == ("Text", "Deployed", "ReadWrite")
    # update is a full replace: the description not sent is cleared
    md.CustomObject.update([custom_object(md, name, label="Engagement 2")])
    read = md.CustomObject.read([name])
    assert read.label == "Engagement 2" and read.description is None
    # the object is a live sObject, and deleting it takes its data
    sf.restful(f"sobjects/{name}/", method="POST", json={"Name": "row"})
    assert sf.query(f"SELECT COUNT() FROM {name}")["totalSize"] == 1
    md.CustomObject.delete([name])
    assert md.CustomObject.read([name]).fullName is None
    r = sf.session.get(f"{sf.base_url}sobjects/{name}/describe", headers=sf.headers)
    assert r.status_code == 404


def test_read_of_missing_component_returns_empty_record_and_several_names_a_list(md: Any) -> None:
    missing = md.CustomObject.read(["Nothing_Here__c"])
    assert missing.fullName is None
    both = md.CustomObject.read(["Lead", "Nothing_Here__c"])
    assert [r.fullName for r in both] == ["Lead", None]


def test_mdapi_create_raises_on_failure(md: Any) -> None:
    with pytest.raises(Exception, match="FIELD_INTEGRITY_EXCEPTION"):
        md.CustomField.create([text_field(md, "Lead." + unique("TooLong") + "__c", length=256)])


def test_partial_success_in_one_call(md: Any) -> None:
    good, bad = "Lead." + unique("Good") + "__c", "Lead." + unique("Bad") + "__c"
    results = soap(md, "createMetadata", [text_field(md, good), text_field(md, bad, length=0)])
    assert [(r.fullName, r.success) for r in results] == [(good, True), (bad, False)]
    assert only_error(results[1])[0] == "FIELD_INTEGRITY_EXCEPTION"
    assert results[1].errors[0].fields == ["length"]
    assert md.CustomField.read([good]).length == 80


def test_update_of_missing_component_fails_and_upsert_creates(md: Any) -> None:
    name = unique("Upserted") + "__c"
    [result] = soap(md, "updateMetadata", [custom_object(md, name)])
    assert only_error(result)[0] == "INVALID_CROSS_REFERENCE_KEY"
    [created] = soap(md, "upsertMetadata", [custom_object(md, name)])
    assert (created.success, created.created) == (True, True)
    [updated] = soap(md, "upsertMetadata", [custom_object(md, name, label="Changed")])
    assert (updated.success, updated.created) == (True, False)
    assert md.CustomObject.read([name]).label == "Changed"


def test_duplicate_create_is_refused(md: Any) -> None:
    name = unique("Dup") + "__c"
    soap(md, "createMetadata", [custom_object(md, name)])
    [again] = soap(md, "createMetadata", [custom_object(md, name)])
    assert only_error(again)[0] == "DUPLICATE_DEVELOPER_NAME"


@pytest.mark.parametrize("base", ["1Starts_With_Digit", "Double__Underscore", "Trailing_", "Has Space",
                                  "A" * 41, "Bad-Dash"])
def test_custom_object_api_name_rules(md: Any, base: str) -> None:
    [result] = soap(md, "createMetadata", [custom_object(md, base + "__c")])
    assert only_error(result)[0] == "FIELD_INTEGRITY_EXCEPTION"


def test_forty_character_name_is_fine(md: Any) -> None:
    name = "B" * 36 + f"{unique('')}".zfill(4)[-4:]
    [result] = soap(md, "createMetadata", [custom_object(md, name + "__c")])
    assert result.success, result


@pytest.mark.parametrize("missing", ["label", "pluralLabel", "nameField", "deploymentStatus", "sharingModel"])
def test_custom_object_required_attributes(md: Any, missing: str) -> None:
    [result] = soap(md, "createMetadata", [custom_object(md, unique("Req") + "__c", **{missing: None})])
    assert only_error(result)[0] == "REQUIRED_FIELD_MISSING"
    assert missing in result.errors[0].fields[0]


def test_autonumber_name_field_needs_display_format(md: Any, sf: Salesforce) -> None:
    without = custom_object(md, unique("Auto") + "__c", nameField=md.CustomField(label="No", type="AutoNumber"))
    name = unique("Auto") + "__c"
    ok = custom_object(md, name, nameField=md.CustomField(label="No", type="AutoNumber", displayFormat="E-{0000}"))
    results = soap(md, "createMetadata", [without, ok])
    assert only_error(results[0])[0] == "REQUIRED_FIELD_MISSING"
    assert results[1].success
    describe = sf.restful(f"sobjects/{name}/describe")
    name_field = next(f for f in describe["fields"] if f["name"] == "Name")
    assert name_field["autoNumber"] and not name_field["createable"]
    for _ in range(2):
        sf.restful(f"sobjects/{name}/", method="POST", json={})
    rows = sf.query(f"SELECT Name FROM {name} ORDER BY CreatedDate")["records"]
    assert [r["Name"] for r in rows] == ["E-0001", "E-0002"]


def test_more_than_ten_components_is_a_fault(md: Any) -> None:
    fields = [text_field(md, f"Lead.{unique('Many')}__c") for _ in range(11)]
    with pytest.raises(zeep.exceptions.Fault) as caught:
        soap(md, "createMetadata", fields)
    assert caught.value.code == "sf:EXCEEDED_ID_LIMIT"
    with pytest.raises(zeep.exceptions.Fault):
        md.CustomObject.read([f"X{i}__c" for i in range(11)])


def test_components_of_mixed_types_are_a_fault(md: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault):
        soap(md, "createMetadata", [custom_object(md, unique("Mixed") + "__c"), text_field(md, "Lead.Mixed__c")])


def test_list_metadata(md: Any) -> None:
    field = "Lead." + unique("Listed") + "__c"
    md.CustomField.create([text_field(md, field)])
    listed = md.list_metadata([md.ListMetadataQuery(type="CustomField"), md.ListMetadataQuery(type="CustomObject")])
    by_name = {(p.type, p.fullName): p for p in listed}
    assert ("CustomObject", "Lead") in by_name and ("CustomObject", "Campaign") in by_name
    prop = by_name[("CustomField", field)]
    assert prop.fileName == "objects/Lead.object" and prop.id.startswith("00N") and prop.createdDate is not None
    with pytest.raises(zeep.exceptions.Fault) as caught:
        md.list_metadata([md.ListMetadataQuery(type="CustomObject")] * 4)
    assert "LIMIT_EXCEEDED" in caught.value.code


def test_describe_metadata(md: Any) -> None:
    result = md.describe_metadata()
    names = {o.xmlName for o in result.metadataObjects}
    assert {"CustomObject", "PermissionSet"} <= names
    assert result.partialSaveAllowed is True


@pytest.mark.parametrize("overrides, code, field", [
    ({"length": 0}, "FIELD_INTEGRITY_EXCEPTION", "length"),
    ({"length": 256}, "FIELD_INTEGRITY_EXCEPTION", "length"),
    ({"length": None}, "REQUIRED_FIELD_MISSING", "length"),
    ({"type": "Number", "length": None, "precision": 19, "scale": 2}, "FIELD_INTEGRITY_EXCEPTION", "precision"),
    ({"type": "Number", "length": None, "precision": 5, "scale": 6}, "FIELD_INTEGRITY_EXCEPTION", "scale"),
    ({"type": "Email", "length": 80}, "FIELD_INTEGRITY_EXCEPTION", "length"),
    ({"type": "Lookup", "length": None, "relationshipName": "Things", "deleteConstraint": "SetNull"},
     "REQUIRED_FIELD_MISSING", "referenceTo"),
    ({"type": "Lookup", "length": None, "referenceTo": "Nope__c", "relationshipName": "Things",
      "deleteConstraint": "SetNull"}, "FIELD_INTEGRITY_EXCEPTION", "referenceTo"),
    ({"type": "Lookup", "length": None, "referenceTo": "Campaign", "deleteConstraint": "SetNull"},
     "REQUIRED_FIELD_MISSING", "relationshipName"),
    ({"type": "Lookup", "length": None, "referenceTo": "Campaign", "relationshipName": "Things"},
     "REQUIRED_FIELD_MISSING", "deleteConstraint"),
    ({"type": "Checkbox", "length": None}, "REQUIRED_FIELD_MISSING", "defaultValue"),
    ({"type": "Date", "length": None, "externalId": True}, "FIELD_INTEGRITY_EXCEPTION", "externalId"),
])
def test_custom_field_rules(md: Any, overrides: dict[str, Any], code: str, field: str) -> None:
    [result] = soap(md, "createMetadata", [text_field(md, "Lead." + unique("Rule") + "__c", **overrides)])
    assert only_error(result)[0] == code
    assert field in result.errors[0].fields


def test_custom_field_kinds_that_are_valid(md: Any, sf: Salesforce) -> None:
    obj = unique("Kinds") + "__c"
    md.CustomObject.create([custom_object(md, obj)])
    fields = [
        text_field(md, f"{obj}.Key__c", length=255, externalId=True, unique=True, caseSensitive=False),
        text_field(md, f"{obj}.Code__c", length=11, required=True),
        md.CustomField(fullName=f"{obj}.Score__c", label="Score", type="Number", precision=18, scale=2),
        md.CustomField(fullName=f"{obj}.Mail__c", label="Mail", type="Email"),
        md.CustomField(fullName=f"{obj}.Camp__c", label="Campaign", type="Lookup", referenceTo="Campaign",
                       relationshipName="Engagements", relationshipLabel="Engagements", deleteConstraint="SetNull"),
        md.CustomField(fullName=f"{obj}.Flag__c", label="Flag", type="Checkbox", defaultValue="false"),
    ]
    assert all(r.success for r in soap(md, "createMetadata", fields))
    key, code, score, camp = md.CustomField.read([f"{obj}.Key__c", f"{obj}.Code__c", f"{obj}.Score__c",
                                                  f"{obj}.Camp__c"])
    assert (key.externalId, key.unique, key.caseSensitive, key.length) == (True, True, False, 255)
    assert code.required is True
    assert (score.precision, score.scale) == (18, 2)
    assert (camp.referenceTo, camp.relationshipName, camp.deleteConstraint) == ("Campaign", "Engagements", "SetNull")
    read = md.CustomObject.read([obj])
    assert {f.fullName for f in read.fields} >= {"Key__c", "Code__c", "Score__c", "Mail__c", "Camp__c", "Flag__c"}


def test_delete_field_and_missing_component(md: Any) -> None:
    field = "Lead." + unique("Gone") + "__c"
    md.CustomField.create([text_field(md, field)])
    results = soap(md, "deleteMetadata", "CustomField", [field, "Lead.Never_There__c"])
    assert results[0].success is True
    assert only_error(results[1])[0] == "INVALID_CROSS_REFERENCE_KEY"
    assert md.CustomField.read([field]).fullName is None


def test_permission_set_create_read_and_required_field_refusal(md: Any) -> None:
    obj = unique("Access") + "__c"  # a required field on Lead would break every other test's Leads
    md.CustomObject.create([custom_object(md, obj)])
    optional, required = f"{obj}.Opt__c", f"{obj}.Must__c"
    md.CustomField.create([text_field(md, optional), text_field(md, required, required=True)])
    name = unique("Webinar_Access")
    ok = md.PermissionSet(fullName=name, label="Webinar access", fieldPermissions=[
        md.PermissionSetFieldPermissions(field=optional, readable=True, editable=True)])
    md.PermissionSet.create([ok])
    read = md.PermissionSet.read([name])
    assert read.label == "Webinar access"
    assert [(p.field, p.readable, p.editable) for p in read.fieldPermissions] == [(optional, True, True)]
    bad = md.PermissionSet(fullName=unique("Bad_Access"), label="Bad", fieldPermissions=[
        md.PermissionSetFieldPermissions(field=required, readable=True, editable=True)])
    [result] = soap(md, "createMetadata", [bad])
    code, message = only_error(result)
    assert "You cannot deploy to a required field" in message


def test_picklist_values_show_in_describe(md: Any, sf: Salesforce) -> None:
    field = unique("Source") + "__c"
    values = [md.CustomValue(fullName=v, label=v, default=(v == "Web")) for v in ("Web", "Event")]
    md.CustomField.create([md.CustomField(
        fullName=f"Campaign.{field}", label="Source", type="Picklist",
        valueSet=md.ValueSet(valueSetDefinition=md.ValueSetValuesDefinition(value=values, sorted=False)))])
    read = md.CustomField.read([f"Campaign.{field}"])
    assert [v.fullName for v in read.valueSet.valueSetDefinition.value] == ["Web", "Event"]
    md.PermissionSet.create([md.PermissionSet(fullName=unique("See_Source"), label="See source", fieldPermissions=[
        md.PermissionSetFieldPermissions(field=f"Campaign.{field}", readable=True, editable=False)])])
    ps_id = sf.query("SELECT Id FROM PermissionSet ORDER BY CreatedDate DESC LIMIT 1")["records"][0]["Id"]
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user_id, "PermissionSetId": ps_id})
    described = next(f for f in sf.Campaign.describe()["fields"] if f["name"] == field)
    assert [(p["value"], p["defaultValue"]) for p in described["picklistValues"]] == [("Web", True), ("Event", False)]
    assert described["updateable"] is False  # readable, not editable
