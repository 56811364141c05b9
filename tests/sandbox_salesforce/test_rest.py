"""REST data API: describe, CRUD, upsert, collections, SOQL, limits, and the data rules."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.salesforce import soql

from .conftest import Rest, grant, unique


def lead(**extra: Any) -> dict[str, Any]:
    values = {"LastName": unique("Lead"), "Company": "Acme", "Email": f"{unique('p')}@example.com"}
    values.update(extra)
    return values


def test_versions_list_and_describe(rest: Rest, sandbox: Sandbox) -> None:
    versions = rest.http.get(sandbox.salesforce_url + "/services/data/").json()
    assert any(v["version"] == "59.0" for v in versions)
    d = rest("GET", "sobjects/Lead/describe").json()
    fields = {f["name"]: f for f in d["fields"]}
    assert fields["LastName"]["nillable"] is False and fields["LastName"]["length"] == 80
    assert fields["Email"]["type"] == "email" and fields["IsConverted"]["createable"] is False
    assert d["createable"] and d["updateable"] and d["deletable"]
    status = rest("GET", "sobjects/CampaignMemberStatus/describe").json()
    assert (status["createable"], status["updateable"], status["deletable"]) == (True, True, True)
    assert rest("GET", "sobjects/Nope__c/describe").status_code == 404
    assert rest("GET", "sobjects/Lead/describe".replace("Lead", "Lead")).headers["Sforce-Limit-Info"].startswith(
        "api-usage=")


def test_old_api_version_is_not_found(rest: Rest) -> None:
    rest.version = "49.0"
    assert rest("GET", "sobjects/Lead/describe").status_code == 404


def test_sobject_crud(sf: Salesforce, rest: Rest) -> None:
    created = sf.Lead.create(lead(FirstName="Ada"))
    record = sf.Lead.get(created["id"])
    assert record["FirstName"] == "Ada" and record["IsConverted"] is False and record["CreatedDate"]
    assert sf.Lead.update(created["id"], {"Title": "CTO"}) == 204
    assert sf.Lead.get(created["id"])["Title"] == "CTO"
    assert sf.Lead.delete(created["id"]) == 204
    assert rest("GET", f"sobjects/Lead/{created['id']}").status_code == 404


@pytest.mark.parametrize("obj, body, missing", [
    ("Lead", {"Company": "Acme"}, ["LastName"]),
    ("Lead", {"LastName": "Only"}, ["Company"]),
    ("Contact", {"FirstName": "No last name"}, ["LastName"]),
])
def test_required_fields(rest: Rest, obj: str, body: dict[str, Any], missing: list[str]) -> None:
    r = rest("POST", f"sobjects/{obj}", json=body)
    assert r.status_code == 400
    [err] = r.json()
    assert err["errorCode"] == "REQUIRED_FIELD_MISSING" and err["fields"] == missing
    assert err["message"] == f"Required fields are missing: [{', '.join(missing)}]"


def test_values_are_checked(rest: Rest) -> None:
    r = rest("POST", "sobjects/Lead", json=lead(Email="not-an-email"))
    assert r.json()[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    r = rest("POST", "sobjects/Campaign", json={"Name": "x" * 81})
    assert r.json()[0]["errorCode"] == "STRING_TOO_LONG"
    r = rest("POST", "sobjects/Lead", json=lead(Nope__c="x"))
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"
    assert r.json()[0]["message"] == "No such column 'Nope__c' on sobject of type Lead"
    r = rest("POST", "sobjects/Lead", json=lead(IsConverted=True))
    assert r.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_converted_lead_cannot_be_updated_or_added_to_a_campaign(sf: Salesforce, rest: Rest,
                                                                   sandbox: Sandbox) -> None:
    lead_id = sf.Lead.create(lead())["id"]
    r = rest.http.post(f"{sandbox.salesforce_url}/__sandbox/leads/{lead_id}/convert", json={})
    assert r.status_code == 200
    r = rest("PATCH", f"sobjects/Lead/{lead_id}", json={"Title": "x"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    campaign = sf.Campaign.create({"Name": unique("Conv")})["id"]
    r = rest("POST", "sobjects/CampaignMember", json={"CampaignId": campaign, "LeadId": lead_id})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    converted = sf.query(f"SELECT Id, IsConverted FROM Lead WHERE Id = '{lead_id}'")["records"][0]
    assert converted["IsConverted"] is True


def test_created_date_is_monotonic(sf: Salesforce) -> None:
    ids = [sf.Contact.create({"LastName": unique("Mono")})["id"] for _ in range(5)]
    id_list = ", ".join(f"'{i}'" for i in ids)
    rows = sf.query(f"SELECT Id, CreatedDate FROM Contact WHERE Id IN ({id_list}) ORDER BY CreatedDate ASC")["records"]
    assert [r["Id"] for r in rows] == ids
    assert len({r["CreatedDate"] for r in rows}) == 5


# -- SOQL ---------------------------------------------------------------------------------

def test_soql_escapes_and_operators(sf: Salesforce) -> None:
    tag = unique("soql")
    sf.Lead.create(lead(Email=f"o'brien.{tag}@example.com", LastName="O'Brien", Company=tag))
    sf.Lead.create(lead(LastName="back\\slash", Company=tag))
    sf.Lead.create(lead(LastName="Plain", Company=tag, Title="CEO"))
    esc = sf.query(f"SELECT LastName FROM Lead WHERE Email = 'o\\'brien.{tag}@example.com'")["records"]
    assert [r["LastName"] for r in esc] == ["O'Brien"]
    back = sf.query(f"SELECT LastName FROM Lead WHERE LastName = 'back\\\\slash' AND Company = '{tag}'")["records"]
    assert [r["LastName"] for r in back] == ["back\\slash"]
    q = (f"SELECT LastName FROM Lead WHERE Company = '{tag}' AND (Title = 'CEO' OR LastName IN ('O\\'Brien')) "
         f"ORDER BY LastName DESC LIMIT 5")
    assert [r["LastName"] for r in sf.query(q)["records"]] == ["Plain", "O'Brien"]
    assert sf.query(f"SELECT COUNT() FROM Lead WHERE Company = '{tag}' AND Title != null")["totalSize"] == 1
    assert sf.query(f"SELECT COUNT() FROM Lead WHERE Company = '{tag.upper()}'")["totalSize"] == 3  # case-insensitive


def test_lookups_by_email_follow_updates_case_and_or(sf: Salesforce) -> None:
    """Email = / IN go through an index in the emulator; what they return must not differ from a scan."""
    tag = unique("idx")
    first = sf.Lead.create(lead(Email=f"Moved.{tag}@Example.com", LastName="Moved", Company=tag))["id"]
    sf.Lead.create(lead(Email=f"stays.{tag}@example.com", LastName="Stays", Company=tag))
    sf.Lead.create(lead(LastName="NoEmail", Company=tag))

    def names(where: str) -> list[str]:
        return sorted(r["LastName"] for r in sf.query(f"SELECT LastName FROM Lead WHERE {where}")["records"])

    assert names(f"Email IN ('moved.{tag}@example.com', 'STAYS.{tag}@example.com')") == ["Moved", "Stays"]
    sf.Lead.update(first, {"Email": f"new.{tag}@example.com"})
    assert names(f"Email = 'moved.{tag}@example.com'") == []
    assert names(f"Email IN ('new.{tag}@example.com')") == ["Moved"]
    assert names(f"Email = 'new.{tag}@example.com' OR LastName = 'NoEmail'") == ["Moved", "NoEmail"]
    # SOQL, unlike SQL, counts a null as different from every value
    assert names(f"Company = '{tag}' AND Email NOT IN ('new.{tag}@example.com')") == ["NoEmail", "Stays"]
    assert names(f"Email IN ('stays.{tag}@example.com') AND IsConverted = false") == ["Stays"]


def test_soql_errors(rest: Rest) -> None:
    r = rest.query("SELECT Id, Nope__c FROM Lead")
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on entity 'Lead'" in r.json()[0]["message"]
    for bad in ("SELECT FROM Lead", "SELECT Id FROM Lead WHERE", "SELECT Id FROM Lead WHERE Email = 'open",
                "SELECT Id FROM Lead LIMIT x"):
        r = rest.query(bad)
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "MALFORMED_QUERY", bad
    r = rest.query("SELECT Id FROM Nope__c")
    assert r.json()[0]["errorCode"] == "INVALID_TYPE"
    fits = ", ".join(f"'{i:020d}@example.com'" for i in range(300))  # ~10,000 characters, ~15 KB encoded
    r = rest.query(f"SELECT Id FROM Lead WHERE Email IN ({fits})")
    assert r.status_code == 200 and r.json()["totalSize"] == 0
    too_long = ", ".join(f"'{i:020d}@example.com'" for i in range(400))  # > 16,384 bytes of URI
    r = rest.query(f"SELECT Id FROM Lead WHERE Email IN ({too_long})")
    assert r.status_code == 414
    r = rest("GET", "query", params={"q": f"SELECT Id FROM Lead WHERE Email IN ({fits})"},
             headers={"X-Padding": "x" * 8000})
    assert r.status_code == 431  # URI plus headers over 16,384 bytes


def test_query_longer_than_100000_characters_is_refused() -> None:
    # REST refuses such a URI first (414 above 16,384 bytes), so the SOQL parser's own limit is checked directly.
    long_in = ", ".join(f"'{i:020d}@example.com'" for i in range(3000))
    with pytest.raises(soql.SoqlError) as caught:
        soql.parse(f"SELECT Id FROM Lead WHERE Email IN ({long_in})")
    assert caught.value.code == "MALFORMED_QUERY" and "100000" in caught.value.message


def test_relationship_field_in_soql(sf: Salesforce) -> None:
    camp = sf.Campaign.create({"Name": unique("Rel")})["id"]
    rows = sf.query(f"SELECT Label, Campaign.Name FROM CampaignMemberStatus WHERE CampaignId = '{camp}' "
                    f"ORDER BY SortOrder")["records"]
    assert rows[0]["Campaign"]["Name"].startswith("Rel")


# -- limits ---------------------------------------------------------------------------------

def test_sforce_limit_info_and_daily_limit(rest: Rest, sandbox: Sandbox) -> None:
    first = rest("GET", "limits")
    used, limit = first.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    second = rest("GET", "limits")
    assert second.headers["Sforce-Limit-Info"] == f"api-usage={int(used) + 1}/{limit}"
    admin = sandbox.salesforce_url + "/__sandbox/limits"
    rest.http.post(admin, json={"api_daily_limit": int(used) + 1})
    try:
        r = rest("GET", "limits")
        assert r.status_code == 403
        assert r.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    finally:
        rest.http.post(admin, json={"api_daily_limit": 100_000})


# -- upsert and collections -------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyed(md: Any) -> str:
    """A custom object with a unique, case-insensitive external ID and a required field."""
    name = unique("Keyed") + "__c"
    md.CustomObject.create([md.CustomObject(
        fullName=name, label="Keyed", pluralLabel="Keyed", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Key__c", label="Key", type="Text", length=40, externalId=True,
                               unique=True, caseSensitive=False, required=True)])])
    return name


def test_upsert_by_external_id(rest: Rest, keyed: str) -> None:
    r = rest("PATCH", f"sobjects/{keyed}/Key__c/ABC-1", json={"Name": "first"})
    assert r.status_code == 201 and r.json()["created"] is True
    r2 = rest("PATCH", f"sobjects/{keyed}/Key__c/abc-1", json={"Name": "second"})  # case-insensitive match
    assert r2.status_code == 200 and r2.json()["created"] is False and r2.json()["id"] == r.json()["id"]
    r3 = rest("POST", f"sobjects/{keyed}", json={"Key__c": "Abc-1"})
    assert r3.status_code == 400 and r3.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    r4 = rest("PATCH", f"sobjects/{keyed}/Name/x", json={"Name": "x"})
    assert r4.status_code == 404


def test_case_sensitive_unique_field_lets_case_variants_coexist(md: Any, rest: Rest) -> None:
    name = unique("Cased") + "__c"
    md.CustomObject.create([md.CustomObject(
        fullName=name, label="Cased", pluralLabel="Cased", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Code__c", label="Code", type="Text", length=10, externalId=True,
                               unique=True, caseSensitive=True, required=True)])])
    assert rest("POST", f"sobjects/{name}", json={"Code__c": "ABC"}).status_code == 201
    created = rest("POST", f"sobjects/{name}", json={"Code__c": "abc"})
    assert created.status_code == 201
    assert rest("POST", f"sobjects/{name}", json={"Code__c": "abc"}).json()[0]["errorCode"] == "DUPLICATE_VALUE"
    record = rest("GET", f"sobjects/{name}/{created.json()['id']}").json()
    assert record["Name"] == created.json()["id"]  # a Text name not given defaults to the Id


def test_collections_limit_and_results(rest: Rest, keyed: str) -> None:
    too_many = [{"attributes": {"type": "Contact"}, "LastName": "x"}] * 201
    r = rest("POST", "composite/sobjects", json={"records": too_many})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    records = [{"attributes": {"type": "Contact"}, "LastName": unique("C")},
               {"attributes": {"type": "Contact"}, "FirstName": "missing last name"}]
    r = rest("POST", "composite/sobjects", json={"allOrNone": False, "records": records})
    ok, bad = r.json()
    assert ok["success"] is True and ok["id"].startswith("003") and ok["errors"] == []
    assert bad["success"] is False and bad["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert bad["errors"][0]["fields"] == ["LastName"]
    tag = unique("aon")
    records = [{"attributes": {"type": "Contact"}, "LastName": tag}, {"attributes": {"type": "Contact"}}]
    r = rest("POST", "composite/sobjects", json={"allOrNone": True, "records": records})
    first, second = r.json()
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert rest.query(f"SELECT COUNT() FROM Contact WHERE LastName = '{tag}'").json()["totalSize"] == 0
    upserts = [{"attributes": {"type": keyed}, "Key__c": "COLL-1", "Name": "a"},
               {"attributes": {"type": keyed}, "Key__c": "COLL-2", "Name": "b"}]
    r = rest("PATCH", f"composite/sobjects/{keyed}/Key__c", json={"allOrNone": False, "records": upserts})
    assert [x["created"] for x in r.json()] == [True, True]
    upserts[0]["Name"] = "changed"
    upserts.append({"attributes": {"type": keyed}, "Key__c": "coll-9", "Name": "c"})
    r = rest("PATCH", f"composite/sobjects/{keyed}/Key__c", json={"allOrNone": False, "records": upserts})
    assert [x["created"] for x in r.json()] == [False, False, True]
    ids = ",".join(x["id"] for x in r.json())
    r = rest("DELETE", "composite/sobjects", params={"ids": ids, "allOrNone": "false"})
    assert all(x["success"] for x in r.json())
    r = rest("PATCH", "composite/sobjects", json={"records": [{"attributes": {"type": "Contact"}, "Id": ok["id"],
                                                               "Title": "Updated"}]})
    assert r.json()[0]["success"] is True


# -- campaigns --------------------------------------------------------------------------------

def statuses(sf: Salesforce, campaign: str) -> list[dict[str, Any]]:
    return sf.query(f"SELECT Id, Label, SortOrder, IsDefault, HasResponded FROM CampaignMemberStatus "
                    f"WHERE CampaignId = '{campaign}' ORDER BY SortOrder")["records"]


def test_new_campaign_gets_sent_and_responded(sf: Salesforce) -> None:
    camp = sf.Campaign.create({"Name": unique("Webinar"), "Type": "Webinar", "IsActive": True})["id"]
    assert [(s["Label"], s["SortOrder"], s["IsDefault"], s["HasResponded"]) for s in statuses(sf, camp)] == [
        ("Sent", 1, True, False), ("Responded", 2, False, True)]


def test_campaign_member_status_rules(sf: Salesforce, rest: Rest) -> None:
    camp = sf.Campaign.create({"Name": unique("Rules")})["id"]
    sent, responded = statuses(sf, camp)
    r = rest("POST", "sobjects/CampaignMemberStatus", json={"CampaignId": camp, "Label": "sent", "SortOrder": 5})
    assert r.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    r = rest("POST", "sobjects/CampaignMemberStatus", json={"CampaignId": camp, "Label": "Other", "SortOrder": 2})
    assert r.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    attended = sf.CampaignMemberStatus.create({"CampaignId": camp, "Label": "Attended", "SortOrder": 3,
                                               "IsDefault": True, "HasResponded": True})["id"]
    now = {s["Label"]: s for s in statuses(sf, camp)}
    assert now["Attended"]["IsDefault"] is True and now["Sent"]["IsDefault"] is False  # one default per campaign
    r = rest("DELETE", f"sobjects/CampaignMemberStatus/{attended}")
    assert r.status_code == 400  # the default cannot be deleted
    r = rest("PATCH", f"sobjects/CampaignMemberStatus/{attended}", json={"IsDefault": False})
    assert r.status_code == 400  # ... nor left without a default
    person = sf.Contact.create({"LastName": unique("Member")})["id"]
    sf.CampaignMember.create({"CampaignId": camp, "ContactId": person, "Status": "Sent"})
    sf.CampaignMemberStatus.update(sent["Id"], {"IsDefault": True})
    r = rest("DELETE", f"sobjects/CampaignMemberStatus/{sent['Id']}")
    assert r.status_code == 400  # default and in use
    sf.CampaignMemberStatus.update(attended, {"IsDefault": True})
    r = rest("DELETE", f"sobjects/CampaignMemberStatus/{sent['Id']}")
    assert r.status_code == 400 and "in use" in r.json()[0]["message"]
    assert rest("DELETE", f"sobjects/CampaignMemberStatus/{responded['Id']}").status_code == 204


def test_campaign_member_rules(sf: Salesforce, rest: Rest) -> None:
    camp = sf.Campaign.create({"Name": unique("Members")})["id"]
    contact = sf.Contact.create({"LastName": unique("Person"), "Email": f"{unique('m')}@example.com"})["id"]
    r = rest("POST", "sobjects/CampaignMember", json={"CampaignId": camp, "ContactId": contact, "Status": "Attended"})
    assert r.status_code == 400 and r.json()[0]["fields"] == ["Status"]
    member = sf.CampaignMember.create({"CampaignId": camp, "ContactId": contact})["id"]
    assert sf.CampaignMember.get(member)["Status"] == "Sent"  # the campaign's default
    r = rest("POST", "sobjects/CampaignMember", json={"CampaignId": camp, "ContactId": contact, "Status": "Sent"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "DUPLICATE_VALUE" and r.json()[0]["message"] == "Already a campaign member."
    sf.CampaignMember.update(member, {"Status": "Responded"})
    assert sf.CampaignMember.get(member)["HasResponded"] is True
    with pytest.raises(SalesforceMalformedRequest):
        sf.CampaignMember.create({"CampaignId": camp})


# -- field-level security --------------------------------------------------------------------------

def test_new_field_is_invisible_until_a_permission_set_is_assigned(sf: Salesforce, md: Any, rest: Rest) -> None:
    hidden = unique("Hidden") + "__c"
    md.CustomField.create([md.CustomField(fullName=f"Contact.{hidden}", label="Hidden", type="Text", length=20)])
    names = {f["name"] for f in rest("GET", "sobjects/Contact/describe").json()["fields"]}
    assert hidden not in names
    r = rest.query(f"SELECT Id, {hidden} FROM Contact")
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    assert f"No such column '{hidden}'" in r.json()[0]["message"]
    r = rest("POST", "sobjects/Contact", json={"LastName": "x", hidden: "h"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    ps_name = unique("Grant")
    md.PermissionSet.create([md.PermissionSet(fullName=ps_name, label="Grant", fieldPermissions=[
        md.PermissionSetFieldPermissions(field=f"Contact.{hidden}", readable=True, editable=True)])])
    names = {f["name"] for f in rest("GET", "sobjects/Contact/describe").json()["fields"]}
    assert hidden not in names  # created, not yet assigned
    ps_id = sf.query(f"SELECT Id FROM PermissionSet WHERE Name = '{ps_name}'")["records"][0]["Id"]
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user_id, "PermissionSetId": ps_id})
    names = {f["name"] for f in rest("GET", "sobjects/Contact/describe").json()["fields"]}
    assert hidden in names
    created = sf.Contact.create({"LastName": "x", hidden: "visible now"})["id"]
    assert sf.query(f"SELECT {hidden} FROM Contact WHERE Id = '{created}'")["records"][0][hidden] == "visible now"


def test_required_field_is_visible_without_a_grant(md: Any, rest: Rest) -> None:
    obj = unique("Strict") + "__c"  # on its own object: a required field on Contact would break other tests
    md.CustomObject.create([md.CustomObject(
        fullName=obj, label="Strict", pluralLabel="Strict", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Needed__c", label="Needed", type="Text", length=20, required=True),
                md.CustomField(fullName="Optional__c", label="Optional", type="Text", length=20)])])
    names = {f["name"] for f in rest("GET", f"sobjects/{obj}/describe").json()["fields"]}
    assert "Needed__c" in names and "Optional__c" not in names
    r = rest("POST", f"sobjects/{obj}", json={"Name": "x"})
    assert r.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING" and r.json()[0]["fields"] == ["Needed__c"]
    assert rest("POST", f"sobjects/{obj}", json={"Needed__c": "y"}).status_code == 201


def test_concurrent_writes_are_all_kept(sandbox: Sandbox, token: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from provisioner.http import make_session

    tag = unique("conc")
    http = make_session(sandbox.ca_bundle, pool_size=8)
    rest = Rest(sandbox.salesforce_url, http, token)

    def create(i: int) -> str:
        r = rest("POST", "sobjects/Contact", json={"LastName": f"{tag}-{i}", "Title": tag})
        assert r.status_code == 201
        return str(r.json()["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(40)))
    assert len(set(ids)) == 40
    assert rest.query(f"SELECT COUNT() FROM Contact WHERE Title = '{tag}'").json()["totalSize"] == 40


def test_lookup_delete_constraints(md: Any, sf: Salesforce, rest: Rest) -> None:
    obj = unique("Session") + "__c"
    md.CustomObject.create([md.CustomObject(
        fullName=obj, label="Session", pluralLabel="Sessions", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Loose__c", label="Loose", type="Lookup", referenceTo="Contact",
                               relationshipName=unique("Loose"), deleteConstraint="SetNull"),
                md.CustomField(fullName="Held__c", label="Held", type="Lookup", referenceTo="Account",
                               relationshipName=unique("Held"), deleteConstraint="Restrict")])])
    grant(sf, [f"{obj}.Loose__c", f"{obj}.Held__c"])
    contact = rest("POST", "sobjects/Contact", json={"LastName": unique("Ref")}).json()["id"]
    account = rest("POST", "sobjects/Account", json={"Name": unique("Acct")}).json()["id"]
    row = rest("POST", f"sobjects/{obj}", json={"Loose__c": contact, "Held__c": account}).json()["id"]
    r = rest("DELETE", f"sobjects/Account/{account}")
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "DELETE_FAILED"
    assert rest("DELETE", f"sobjects/Contact/{contact}").status_code == 204
    assert rest("GET", f"sobjects/{obj}/{row}").json()["Loose__c"] is None


def test_unique_values_follow_updates_and_deletes(rest: Rest, keyed: str) -> None:
    first = rest("POST", f"sobjects/{keyed}", json={"Key__c": "MOVE-A"}).json()["id"]
    assert rest("PATCH", f"sobjects/{keyed}/{first}", json={"Key__c": "MOVE-B"}).status_code == 204
    assert rest("POST", f"sobjects/{keyed}", json={"Key__c": "move-a"}).status_code == 201  # A is free again
    assert rest("POST", f"sobjects/{keyed}", json={"Key__c": "move-b"}).json()[0]["errorCode"] == "DUPLICATE_VALUE"
    assert rest("DELETE", f"sobjects/{keyed}/{first}").status_code == 204
    assert rest("PATCH", f"sobjects/{keyed}/Key__c/MOVE-B", json={"Name": "new"}).status_code == 201


def test_query_columns_metadata_for_tooling(rest: Rest) -> None:
    """``query?q=...&columns=true`` (what Salesforce CLI's ``sf data query`` calls to lay out its table):
    column metadata, relationship fields nested in joinColumns, no records."""
    r = rest("GET", "query", params={"q": "SELECT Id, Name, Owner.Name, Owner.Email FROM Account", "columns": "true"})
    assert r.status_code == 200
    body = r.json()
    assert body["entityName"] == "Account" and body["idSelected"] is True and "records" not in body
    names = [c["columnName"] for c in body["columnMetadata"]]
    assert names == ["Id", "Name", "Owner"]
    owner = body["columnMetadata"][2]
    assert [c["columnName"] for c in owner["joinColumns"]] == ["Name", "Email"]
    assert body["columnMetadata"][0]["apexType"] == "Id" and body["columnMetadata"][1]["textType"] is True
    bad = rest("GET", "query", params={"q": "SELECT Nope FROM Account", "columns": "true"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_organization_is_queryable_and_read_only(rest: Rest) -> None:
    """Tooling reads the org's own row before a deploy (Salesforce CLI: SELECT ... FROM Organization)."""
    r = rest.query("SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType "
                   "FROM Organization")
    assert r.status_code == 200 and r.json()["totalSize"] == 1
    assert r.json()["records"][0]["IsSandbox"] is True
    assert rest("POST", "sobjects/Organization", json={"Name": "x"}).status_code == 400
