"""Bulk API 2.0 ingest: job lifecycle, per-row results as CSV, the same data rules as REST,
and query paging over the rows it loads."""

from __future__ import annotations

import csv
import io
from typing import Any

from simple_salesforce import Salesforce

from .conftest import Rest, unique


def run_job(rest: Rest, job: dict[str, Any], data: str) -> tuple[str, dict[str, Any]]:
    created = rest("POST", "jobs/ingest", json=dict(contentType="CSV", lineEnding="LF", **job))
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    assert created.json()["state"] == "Open"
    put = rest("PUT", f"jobs/ingest/{job_id}/batches", data=data.encode(), headers={"Content-Type": "text/csv"})
    assert put.status_code == 201
    closed = rest("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    return job_id, rest("GET", f"jobs/ingest/{job_id}").json()


def rows(rest: Rest, job_id: str, part: str) -> list[dict[str, str]]:
    r = rest("GET", f"jobs/ingest/{job_id}/{part}/")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def test_insert_job_reports_successes_and_failures(rest: Rest) -> None:
    tag = unique("bulk")
    data = ("LastName,Company,Email\n"
            f"Ok,{tag},ok.{tag}@example.com\n"
            f",{tag},no.lastname@example.com\n"
            f"BadMail,{tag},not-an-email\n")
    job_id, info = run_job(rest, {"object": "Lead", "operation": "insert"}, data)
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 2)
    ok = rows(rest, job_id, "successfulResults")
    assert [(r["sf__Created"], r["LastName"]) for r in ok] == [("true", "Ok")]
    assert ok[0]["sf__Id"].startswith("00Q")
    failed = rows(rest, job_id, "failedResults")
    assert [r["sf__Error"].split(":")[0] for r in failed] == ["REQUIRED_FIELD_MISSING", "INVALID_EMAIL_ADDRESS"]
    assert rest.query(f"SELECT COUNT() FROM Lead WHERE Company = '{tag}'").json()["totalSize"] == 1


def test_upsert_job_and_converted_lead_rule(rest: Rest, sandbox: Any, md: Any) -> None:
    obj = unique("BulkKeyed") + "__c"
    md.CustomObject.create([md.CustomObject(
        fullName=obj, label="Bulk keyed", pluralLabel="Bulk keyed", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Ext__c", label="Ext", type="Text", length=20, externalId=True, unique=True,
                               required=True)])])
    job_id, info = run_job(rest, {"object": obj, "operation": "upsert", "externalIdFieldName": "Ext__c"},
                           "Ext__c,Name\nA1,first\nA2,second\n")
    assert info["numberRecordsFailed"] == 0
    job_id, info = run_job(rest, {"object": obj, "operation": "upsert", "externalIdFieldName": "Ext__c"},
                           "Ext__c,Name\na1,changed\nA3,third\n")
    assert [r["sf__Created"] for r in rows(rest, job_id, "successfulResults")] == ["false", "true"]
    lead_id = rest("POST", "sobjects/Lead", json={"LastName": "Conv", "Company": "X"}).json()["id"]
    rest.http.post(f"{rest.base}/__sandbox/leads/{lead_id}/convert", json={})
    job_id, info = run_job(rest, {"object": "Lead", "operation": "update"}, f"Id,Title\n{lead_id},CEO\n")
    [failed] = rows(rest, job_id, "failedResults")
    assert failed["sf__Error"].startswith("CANNOT_UPDATE_CONVERTED_LEAD")


def test_abort_leaves_rows_unprocessed_and_bad_column_fails_the_job(rest: Rest) -> None:
    created = rest("POST", "jobs/ingest", json={"object": "Contact", "operation": "insert", "contentType": "CSV"})
    job_id = created.json()["id"]
    rest("PUT", f"jobs/ingest/{job_id}/batches", data=b"LastName\nA\nB\n", headers={"Content-Type": "text/csv"})
    aborted = rest("PATCH", f"jobs/ingest/{job_id}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    assert [r["LastName"] for r in rows(rest, job_id, "unprocessedrecords")] == ["A", "B"]
    _, info = run_job(rest, {"object": "Contact", "operation": "insert"}, "LastName,Nope__c\nA,x\n")
    assert info["state"] == "Failed" and "Nope__c" in info["errorMessage"]
    bad = rest("POST", "jobs/ingest", json={"object": "Lead", "operation": "upsert", "contentType": "CSV"})
    assert bad.status_code == 400


def test_simple_salesforce_bulk2_and_query_paging(sf: Salesforce, rest: Rest) -> None:
    tag = unique("page")
    records = [{"LastName": f"{tag}-{i:04d}", "Title": tag} for i in range(2100)]
    [result] = sf.bulk2.Contact.insert(records=records, wait=0.01)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2100, 0)
    first = rest.query(f"SELECT Id, LastName FROM Contact WHERE Title = '{tag}' ORDER BY LastName").json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (2100, False, 2000)
    more = rest.http.get(rest.base + first["nextRecordsUrl"], headers={"Authorization": f"Bearer {rest.token}"}).json()
    assert (more["done"], len(more["records"])) == (True, 100)
    assert more["records"][-1]["LastName"] == f"{tag}-2099"
    everything = sf.query_all(f"SELECT Id FROM Contact WHERE Title = '{tag}'")
    assert len(everything["records"]) == 2100
