"""Contract: simple-salesforce's own public methods (a client no one here wrote) against the sandbox,
one test per method family, each asserting what the vendor documents the call returns.

Vendor rules: REST API Developer Guide ("sObject Rows", "sObject Rows by External ID": 201 created /
200 updated / 204 no content; "Query": 2,000 records a page, ``nextRecordsUrl`` until ``done``);
Bulk API 2.0 Developer Guide (ingest results CSV ``sf__Id``/``sf__Created``; query results paged by
locator); Metadata API Developer Guide (CRUD calls' SaveResult, listMetadata's FileProperties,
describeMetadata's DescribeMetadataObject).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from .conftest import grant, unique

PAGE = 2000  # REST query page size


@pytest.fixture(scope="module")
def lead_key(sf: Salesforce, md: Any) -> str:
    """An external id on Lead (upsert and get_by_custom_id need one), readable by the API user."""
    name = unique("ContractKey") + "__c"
    md.CustomField.create([md.CustomField(fullName=f"Lead.{name}", label="Contract Key", type="Text", length=40,
                                          externalId=True, unique=True)])
    grant(sf, [f"Lead.{name}"])
    return name


def test_sobject_create_get_update_delete(sf: Salesforce) -> None:
    created = sf.Lead.create({"LastName": "Contract", "Company": "Acme", "Email": "contract@example.com"})
    assert created["success"] is True and created["id"].startswith("00Q") and len(created["id"]) == 18
    assert sf.Lead.get(created["id"])["Email"] == "contract@example.com"
    assert sf.Lead.update(created["id"], {"Title": "Buyer"}) == 204
    assert sf.Lead.get(created["id"])["Title"] == "Buyer"
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(created["id"])


def test_sobject_upsert_and_get_by_custom_id(sf: Salesforce, lead_key: str) -> None:
    key = unique("K-")
    assert sf.Lead.upsert(f"{lead_key}/{key}", {"LastName": "Up", "Company": "Acme"}) == 201  # created
    # an update answers 200 with {id, success, created: false} (API 46.0 and later; 204 before)
    assert sf.Lead.upsert(f"{lead_key}/{key}", {"LastName": "Up", "Company": "Changed"}) == 200
    got = sf.Lead.get_by_custom_id(lead_key, key)
    assert got["Company"] == "Changed" and got[lead_key] == key
    raw = sf.Lead.upsert(f"{lead_key}/{key}", {"Title": "T"}, raw_response=True)
    assert raw.status_code == 200 and raw.json() == {"id": got["Id"], "success": True, "errors": [], "created": False}
    with pytest.raises(SalesforceResourceNotFound):  # updateOnly: update a match, never create
        sf.Lead.upsert(f"{lead_key}/{unique('none-')}?updateOnly=true", {"Title": "T"})


def test_describe_metadata_limits_and_is_sandbox(sf: Salesforce) -> None:
    assert "Lead" in [o["name"] for o in sf.describe()["sobjects"]]
    assert sf.Lead.metadata()["objectDescribe"]["keyPrefix"] == "00Q"
    assert {f["name"] for f in sf.Lead.describe()["fields"]} >= {"Id", "LastName", "Company", "Email"}
    assert sf.limits()["DailyApiRequests"]["Max"] > 0
    assert sf.is_sandbox() is True
    assert sf.restful("limits")["DailyApiRequests"]["Remaining"] >= 0


def test_query_and_query_all_page_by_next_records_url(sf: Salesforce) -> None:
    tag = unique("Paging")
    total = PAGE + 150
    rows = [{"LastName": tag, "FirstName": f"{i:05d}"} for i in range(total)]
    results = sf.bulk2.Contact.insert(records=rows, wait=0)
    assert sum(r["numberRecordsProcessed"] for r in results) == total
    assert sum(r["numberRecordsFailed"] for r in results) == 0
    soql = f"SELECT Id, FirstName FROM Contact WHERE LastName = '{tag}' ORDER BY FirstName"
    first = sf.query(soql)
    assert first["totalSize"] == total and first["done"] is False and len(first["records"]) == PAGE
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["done"] is True and len(second["records"]) == total - PAGE
    everything = sf.query_all(soql)
    assert everything["totalSize"] == total and len(everything["records"]) == total
    assert [r["FirstName"] for r in everything["records"]] == [f"{i:05d}" for i in range(total)]
    assert sum(1 for _ in sf.query_all_iter(soql)) == total


def test_bulk2_insert_upsert_query(sf: Salesforce, lead_key: str) -> None:
    keys = [unique("B-") for _ in range(3)]
    company = unique("Contract-Bulk2-")  # tests share one org: a company no other test's leads have
    inserted = sf.bulk2.Lead.insert(records=[{"LastName": k, "Company": "Bulk", lead_key: k} for k in keys[:2]],
                                    wait=0)
    assert inserted[0]["numberRecordsProcessed"] == 2 and inserted[0]["numberRecordsFailed"] == 0
    upserted = sf.bulk2.Lead.upsert(records=[{lead_key: k, "LastName": k, "Company": company} for k in keys],
                                    external_id_field=lead_key, wait=0)
    assert upserted[0]["numberRecordsProcessed"] == 3 and upserted[0]["numberRecordsFailed"] == 0
    job_id = upserted[0]["job_id"]
    results = list(csv.DictReader(io.StringIO(sf.bulk2.Lead.get_successful_records(job_id))))
    assert sorted(r["sf__Created"] for r in results) == ["false", "false", "true"]
    pages = list(sf.bulk2.Lead.query(f"SELECT {lead_key}, Company FROM Lead WHERE Company = '{company}'",
                                     max_records=2, wait=0))
    got = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert sorted(r[lead_key] for r in got) == sorted(keys) and len(pages) == 2


def test_restful_composite_sobjects_collection(sf: Salesforce) -> None:
    tag = unique("Rest")
    body = {"allOrNone": False, "records": [{"attributes": {"type": "Contact"}, "LastName": tag},
                                            {"attributes": {"type": "Contact"}, "LastName": tag}]}
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert [r["success"] for r in results] == [True, True]
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE LastName = '{tag}'")["totalSize"] == 2


def test_mdapi_own_methods(sf: Salesforce, md: Any) -> None:
    name = unique("Contract") + "__c"
    obj = md.CustomObject(fullName=name, label="Contract Thing", pluralLabel="Contract Things",
                          nameField=md.CustomField(label="Name", type="Text"), deploymentStatus="Deployed",
                          sharingModel="ReadWrite")
    md.CustomObject.create([obj])
    assert md.CustomObject.read([name]).label == "Contract Thing"
    obj.label = "Renamed Label"
    md.CustomObject.update([obj])
    assert md.CustomObject.read([name]).label == "Renamed Label"
    obj.description = "upserted"
    md.CustomObject.upsert([obj])
    assert md.CustomObject.read([name]).description == "upserted"
    listed = md.list_metadata([md.ListMetadataQuery(type="CustomObject")])
    assert name in [p.fullName for p in listed]
    described = md.describe_metadata()
    assert {"CustomObject", "PermissionSet"} <= {o.xmlName for o in described.metadataObjects}
    md.CustomObject.delete([name])
    assert md.CustomObject.read([name]).fullName is None
