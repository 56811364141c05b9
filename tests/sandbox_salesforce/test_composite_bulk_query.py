"""Composite subrequests and Bulk API 2.0 query jobs, driven by simple-salesforce's own methods
(``sf.restful``, ``sf.bulk2.<Object>.query``) and raw REST for the exact shapes.

Vendor rules: REST API Developer Guide "Composite" (25 subrequests, ``@{ref.path}`` references,
``allOrNone`` rolls the whole request back, dependants of a failed subrequest are not run);
Bulk API 2.0 Developer Guide "Get Results for a Query Job" (``locator``/``maxRecords`` paging,
``Sforce-Locator: null`` on the last page, ``Sforce-NumberOfRecords``).
"""

from __future__ import annotations

import csv
import io

from simple_salesforce import Salesforce

from .conftest import Rest, unique

ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."


def test_composite_references_and_location(sf: Salesforce) -> None:
    name = unique("Acct")
    reply = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "newAccount",
         "body": {"Name": name}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "newContact",
         "body": {"LastName": "Ref", "AccountId": "@{newAccount.id}"}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Contact/@{newContact.id}?fields=AccountId,LastName",
         "referenceId": "readBack"},
        {"method": "GET", "url": f"/services/data/v59.0/query?q=SELECT+Id+FROM+Account+WHERE+Name='{name}'",
         "referenceId": "found"},
        {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Account/@{found.records[0].Id}",
         "referenceId": "renamed", "body": {"Name": "@{newAccount.id}"}},
    ]})
    account, contact, read_back, found, renamed = reply["compositeResponse"]
    assert renamed["httpStatusCode"] == 204 and renamed["body"] is None
    assert sf.Account.get(account["body"]["id"])["Name"] == account["body"]["id"]  # array index and whole-value refs
    assert account["httpStatusCode"] == 201 and account["referenceId"] == "newAccount"
    assert account["httpHeaders"]["Location"] == f"/services/data/v59.0/sobjects/Account/{account['body']['id']}"
    assert contact["httpStatusCode"] == 201
    assert read_back["body"]["AccountId"] == account["body"]["id"] and read_back["body"]["LastName"] == "Ref"
    assert found["body"]["records"][0]["Id"] == account["body"]["id"]
    assert sf.Contact.get(contact["body"]["id"])["AccountId"] == account["body"]["id"]  # really stored


def test_composite_all_or_none_rolls_everything_back(sf: Salesforce) -> None:
    tag = unique("Roll")
    reply = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "ok",
         "body": {"LastName": tag}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "bad",
         "body": {"FirstName": "no last name"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "after",
         "body": {"LastName": tag}},
    ]})
    ok, bad, after = reply["compositeResponse"]
    assert bad["httpStatusCode"] == 400 and bad["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    for halted in (ok, after):
        assert halted["httpStatusCode"] == 400
        assert halted["body"] == [{"errorCode": "PROCESSING_HALTED", "message": ROLLED_BACK}]
    assert sf.query(f"SELECT Id FROM Contact WHERE LastName = '{tag}'")["totalSize"] == 0


def test_composite_without_all_or_none_halts_only_dependants(sf: Salesforce) -> None:
    tag = unique("Part")
    reply = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "bad", "body": {}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "child",
         "body": {"LastName": tag, "AccountId": "@{bad.id}"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "free",
         "body": {"LastName": tag}},
    ]})
    bad, child, free = reply["compositeResponse"]
    assert bad["httpStatusCode"] == 400
    assert child["httpStatusCode"] == 400 and child["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert "bad.id" in child["body"][0]["message"]
    assert free["httpStatusCode"] == 201
    assert sf.query(f"SELECT Id FROM Contact WHERE LastName = '{tag}'")["totalSize"] == 1


def test_composite_request_level_errors(rest: Rest) -> None:
    sub = {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "r"}
    too_many = [dict(sub, referenceId=f"r{i}") for i in range(26)]
    r = rest("POST", "composite", json={"compositeRequest": too_many})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    r = rest("POST", "composite", json={"compositeRequest": [sub, sub]})
    assert r.status_code == 400 and "Duplicate referenceId" in r.json()[0]["message"]
    r = rest("POST", "composite", json={"compositeRequest": [{"method": "GET", "url": "/services/data/v59.0/limits"}]})
    assert r.status_code == 400 and "referenceId" in r.json()[0]["message"]
    queries = [{"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead", "referenceId": f"q{i}"}
               for i in range(6)]
    r = rest("POST", "composite", json={"compositeRequest": queries})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert rest("PUT", "composite", json={}).status_code == 405


def test_composite_collection_subrequest_follows_outer_all_or_none(sf: Salesforce) -> None:
    tag = unique("Coll")
    records = [{"attributes": {"type": "Contact"}, "LastName": tag}, {"attributes": {"type": "Contact"}}]
    reply = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/composite/sobjects", "referenceId": "coll",
         "body": {"allOrNone": False, "records": records}}]})
    (coll,) = reply["compositeResponse"]
    assert [r["success"] for r in coll["body"]] == [False, False]
    assert sf.query(f"SELECT Id FROM Contact WHERE LastName = '{tag}'")["totalSize"] == 0


def rows(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text)))


def test_bulk2_query_pages_with_simple_salesforce(sf: Salesforce) -> None:
    tag = unique("Bulkq")
    ids = [sf.Contact.create({"LastName": tag, "FirstName": f"n{i}", "Email": f"{tag}{i}@example.com".lower()})["id"]
           for i in range(5)]
    pages = list(sf.bulk2.Contact.query(f"SELECT Id, FirstName, Email, Account.Name FROM Contact "
                                        f"WHERE LastName = '{tag}' ORDER BY FirstName", max_records=2, wait=0))
    assert len(pages) == 3  # 2 + 2 + 1: paged by maxRecords and Sforce-Locator
    got = [row for page in pages for row in rows(page)]
    assert [r["Id"] for r in got] == ids
    assert list(got[0]) == ["Id", "FirstName", "Email", "Account.Name"] and got[0]["Account.Name"] == ""
    assert [r["FirstName"] for r in got] == [f"n{i}" for i in range(5)]


def test_bulk2_query_job_shapes(rest: Rest) -> None:
    r = rest("POST", "jobs/query", json={"operation": "query", "query": "SELECT Id, IsDeleted FROM User"})
    assert r.status_code == 200 and r.json()["state"] == "UploadComplete" and r.json()["object"] == "User"
    job = r.json()["id"]
    info = rest("GET", f"jobs/query/{job}").json()
    assert info["state"] == "JobComplete" and info["jobType"] == "V2Query" and info["numberRecordsProcessed"] >= 1
    page = rest("GET", f"jobs/query/{job}/results", params={"maxRecords": 1})
    assert page.headers["Sforce-NumberOfRecords"] == "1" and page.headers["Content-Type"].startswith("text/csv")
    assert rows(page.text)[0]["IsDeleted"] == "false"
    last = page
    while last.headers["Sforce-Locator"] != "null":
        last = rest("GET", f"jobs/query/{job}/results", params={"maxRecords": 1,
                                                                  "locator": last.headers["Sforce-Locator"]})
        assert last.status_code == 200
    assert rest("PATCH", f"jobs/query/{job}", json={"state": "Aborted"}).json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert job in [j["id"] for j in rest("GET", "jobs/query").json()["records"]]
    assert rest("DELETE", f"jobs/query/{job}").status_code == 204
    assert rest("GET", f"jobs/query/{job}").status_code == 404


def test_bulk2_query_refusals(rest: Rest) -> None:
    for soql, code in [("SELECT COUNT() FROM Lead", "API_ERROR"), ("SELECT Id FROM Lead OFFSET 5", "API_ERROR"),
                       ("SELECT Nope__c FROM Lead", "INVALID_FIELD"), ("SELECT Id FROM Nope__c", "INVALID_TYPE")]:
        r = rest("POST", "jobs/query", json={"operation": "query", "query": soql})
        assert r.status_code == 400 and r.json()[0]["errorCode"] == code, (soql, r.text)
    r = rest("POST", "jobs/query", json={"operation": "delete", "query": "SELECT Id FROM Lead"})
    assert r.json()[0]["errorCode"] == "INVALIDJOB"
    r = rest("GET", "jobs/query/750000000000000AAA/results")
    assert r.status_code == 404


