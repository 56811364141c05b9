"""Race mode: concurrent upserts of one external id collide the way Salesforce's do.

Salesforce runs concurrent requests in parallel transactions. Two upserts of a key that does not
exist both insert, and the unique index refuses the second: ``DUPLICATE_VALUE`` "duplicate value
found: <field> duplicates value on record with id: <id>". Two upserts of an existing record
contend for its row lock: ``UNABLE_TO_LOCK_ROW`` "unable to obtain exclusive access to this
record or 1 records: <id>" (Salesforce Developer Limits, "Record locking"; REST API Developer
Guide, "Status Codes and Error Responses"). The sandbox only does this when asked (``race=True``).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from provisioner.http import make_session
from provisioner.sandbox.runtime import Sandbox

from .conftest import Rest, client_credentials_token, grant, salesforce_client, unique

@pytest.fixture(scope="module")
def racing_client(racing_sandbox: Sandbox) -> tuple[str, Any]:
    """A token and a simple-salesforce client of the module's racing org (one client: building its
    metadata client parses the whole Metadata WSDL, ~0.4 s of CPU)."""
    token = client_credentials_token(racing_sandbox, make_session(racing_sandbox.ca_bundle))
    return token, salesforce_client(racing_sandbox, token)


@pytest.fixture
def keyed_in(racing_sandbox: Sandbox, racing_client: tuple[str, Any]) -> tuple[Sandbox, str, str]:
    """A custom object of its own (unique name) with a unique external id, in the module's racing org."""
    racing = racing_sandbox
    token, sf = racing_client
    md = sf.mdapi
    name = unique("Race") + "__c"
    md.CustomObject.create([md.CustomObject(
        fullName=name, label="Race", pluralLabel="Race", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Key__c", label="Key", type="Text", length=40, externalId=True,
                               unique=True, caseSensitive=False)])])
    grant(sf, [f"{name}.Key__c"])
    return racing, token, name


def concurrently(box: Sandbox, token: str, calls: list[tuple[str, str, dict[str, Any]]]) -> list[requests.Response]:
    """Send the calls at once, each on its own connection (as parallel workers do)."""
    start = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int, method: str, path: str, body: dict[str, Any]) -> None:
        rest = Rest(box.salesforce_url, make_session(box.ca_bundle), token)
        start.wait()
        out[i] = rest(method, path, json=body)

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def count(box: Sandbox, token: str, obj: str, key: str) -> list[dict[str, Any]]:
    rest = Rest(box.salesforce_url, make_session(box.ca_bundle), token)
    return rest.query(f"SELECT Id, Name FROM {obj} WHERE Key__c = '{key}'").json()["records"]


def test_concurrent_inserts_of_one_key_one_gets_duplicate_value(keyed_in: tuple[Sandbox, str, str]) -> None:
    box, token, obj = keyed_in
    a, b = concurrently(box, token, [("PATCH", f"sobjects/{obj}/Key__c/R-1", {"Name": "a"}),
                                     ("PATCH", f"sobjects/{obj}/Key__c/R-1", {"Name": "b"})])
    winner, loser = (a, b) if a.status_code == 201 else (b, a)
    assert winner.status_code == 201 and winner.json()["created"] is True
    assert loser.status_code == 400
    assert loser.json() == [{"errorCode": "DUPLICATE_VALUE", "fields": ["Key__c"],
                             "message": f"duplicate value found: Key__c duplicates value on record with id: "
                                        f"{winner.json()['id']}"}]
    rows = count(box, token, obj, "R-1")
    assert [r["Id"] for r in rows] == [winner.json()["id"]]  # nothing invented: one record


def test_concurrent_updates_of_one_record_one_gets_unable_to_lock_row(keyed_in: tuple[Sandbox, str, str]) -> None:
    box, token, obj = keyed_in
    rest = Rest(box.salesforce_url, make_session(box.ca_bundle), token)
    first = rest("POST", f"sobjects/{obj}", json={"Key__c": "R-2", "Name": "start"}).json()["id"]
    a, b = concurrently(box, token, [("PATCH", f"sobjects/{obj}/Key__c/r-2", {"Name": "a"}),
                                     ("PATCH", f"sobjects/{obj}/Key__c/R-2", {"Name": "b"})])
    winner, loser = (a, b) if a.status_code == 200 else (b, a)
    assert winner.status_code == 200 and winner.json() == {"id": first, "success": True, "errors": [],
                                                           "created": False}
    assert loser.status_code == 400 and loser.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert loser.json()[0]["message"] == f"unable to obtain exclusive access to this record or 1 records: {first}"
    rows = count(box, token, obj, "R-2")
    assert len(rows) == 1 and rows[0]["Name"] == ("a" if winner is a else "b")  # the loser wrote nothing


def test_collections_only_the_shared_key_fails(keyed_in: tuple[Sandbox, str, str]) -> None:
    box, token, obj = keyed_in
    path = f"composite/sobjects/{obj}/Key__c"

    def batch(*keys: str) -> dict[str, Any]:
        return {"allOrNone": False, "records": [{"attributes": {"type": obj}, "Key__c": k, "Name": k} for k in keys]}

    a, b = concurrently(box, token, [("PATCH", path, batch("C-1", "C-shared")), ("PATCH", path, batch("C-2", "c-SHARED"))])
    results = {"a": a.json(), "b": b.json()}
    assert a.status_code == b.status_code == 200
    assert results["a"][0]["success"] and results["b"][0]["success"]  # own keys: no contention
    shared = [results["a"][1], results["b"][1]]
    ok = [r for r in shared if r["success"]]
    failed = [r for r in shared if not r["success"]]
    assert len(ok) == 1 and len(failed) == 1
    assert failed[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE" and failed[0]["id"] is None
    assert ok[0]["id"] in failed[0]["errors"][0]["message"]
    assert len(count(box, token, obj, "C-shared")) == 1


def test_the_loser_retrying_succeeds(keyed_in: tuple[Sandbox, str, str]) -> None:
    """What a client does with UNABLE_TO_LOCK_ROW / DUPLICATE_VALUE: retry; then it is an update."""
    box, token, obj = keyed_in
    a, b = concurrently(box, token, [("PATCH", f"sobjects/{obj}/Key__c/R-3", {"Name": "a"}),
                                     ("PATCH", f"sobjects/{obj}/Key__c/R-3", {"Name": "b"})])
    loser_body = {"Name": "b"} if a.status_code == 201 else {"Name": "a"}
    locks = box.salesforce_app.race
    assert locks is not None
    locks.hold_seconds = 0.0  # a lone retry meets no rival: no need to hold its row lock for one
    try:
        retry = concurrently(box, token, [("PATCH", f"sobjects/{obj}/Key__c/R-3", loser_body)])[0]
    finally:
        locks.hold_seconds = box.race_hold_seconds
    assert retry.status_code == 200 and retry.json()["created"] is False
    assert count(box, token, obj, "R-3")[0]["Name"] == loser_body["Name"]


def test_without_race_mode_concurrent_upserts_are_serialised(sandbox: Sandbox, token: str, sf: Any, md: Any) -> None:
    name = unique("Calm") + "__c"
    md.CustomObject.create([md.CustomObject(
        fullName=name, label="Calm", pluralLabel="Calm", nameField=md.CustomField(label="Name", type="Text"),
        deploymentStatus="Deployed", sharingModel="ReadWrite",
        fields=[md.CustomField(fullName="Key__c", label="Key", type="Text", length=40, externalId=True,
                               unique=True, caseSensitive=False)])])
    grant(sf, [f"{name}.Key__c"])
    a, b = concurrently(sandbox, token, [("PATCH", f"sobjects/{name}/Key__c/K", {"Name": "a"}),
                                         ("PATCH", f"sobjects/{name}/Key__c/K", {"Name": "b"})])
    assert sorted([a.status_code, b.status_code]) == [200, 201]


def test_concurrent_bulk_upsert_jobs_fail_the_shared_row(keyed_in: tuple[Sandbox, str, str]) -> None:
    """Two Bulk API 2.0 upsert jobs closed at once: the shared key's row fails in one job's
    failedResults (``sf__Error`` "DUPLICATE_VALUE:...") and the rest of both jobs succeeds."""
    box, token, obj = keyed_in
    rest = Rest(box.salesforce_url, make_session(box.ca_bundle), token)
    jobs = []
    for own in ("J-1", "J-2"):
        job = rest("POST", "jobs/ingest", json={"object": obj, "operation": "upsert",
                                                 "externalIdFieldName": "Key__c"}).json()["id"]
        csv_text = f"Key__c,Name\n{own},{own}\nJ-shared,{own}\n"
        assert rest("PUT", f"jobs/ingest/{job}/batches", data=csv_text,
                    headers={"Content-Type": "text/csv"}).status_code == 201
        jobs.append(job)
    closed = concurrently(box, token, [("PATCH", f"jobs/ingest/{j}", {"state": "UploadComplete"}) for j in jobs])
    assert [c.status_code for c in closed] == [200, 200]
    failed = [rest("GET", f"jobs/ingest/{j}/failedResults").text.splitlines()[1:] for j in jobs]
    assert sorted(len(f) for f in failed) == [0, 1]
    (row,) = [line for f in failed for line in f]
    assert '"DUPLICATE_VALUE:duplicate value found: Key__c duplicates value on record with id: ' in row
    assert row.endswith('"J-shared","J-1"') or row.endswith('"J-shared","J-2"')
    assert len(count(box, token, obj, "J-shared")) == 1
    assert len(count(box, token, obj, "J-1")) == len(count(box, token, obj, "J-2")) == 1


def test_serve_race_flag_turns_race_mode_on(tmp_path: Any) -> None:
    """``provisioner sandbox serve --race --race-hold-ms N``: the same collision over a served sandbox."""
    import subprocess
    import sys

    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen([sys.executable, "-c", "from provisioner.cli import main; main()", "sandbox", "serve",
                             "--race", "--race-hold-ms", "5000", "--env-file", str(env_file),
                             "--state", str(tmp_path / "state.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # "Wrote <env file>" comes once the servers listen and the file is written
            if line.startswith("Wrote "):
                break
        values = {k: v.strip("'") for k, v in (ln.split("=", 1) for ln in env_file.read_text().splitlines())}

        class Served:  # what the helpers need of a sandbox
            salesforce_url = values["SF_LOGIN_URL"]
            ca_bundle = values["SF_CA_BUNDLE"]

        http = make_session(Served.ca_bundle)
        token = http.post(Served.salesforce_url + "/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": values["SF_CLIENT_ID"],
            "client_secret": values["SF_CLIENT_SECRET"]}).json()["access_token"]
        sf = salesforce_client(Served, token)  # type: ignore[arg-type]
        sf.mdapi.CustomObject.create([sf.mdapi.CustomObject(
            fullName="Served__c", label="Served", pluralLabel="Served", deploymentStatus="Deployed",
            sharingModel="ReadWrite", nameField=sf.mdapi.CustomField(label="Name", type="Text"),
            fields=[sf.mdapi.CustomField(fullName="Key__c", label="Key", type="Text", length=40, externalId=True,
                                         unique=True)])])
        grant(sf, ["Served__c.Key__c"])
        a, b = concurrently(Served, token, [("PATCH", "sobjects/Served__c/Key__c/S-1", {"Name": "a"}),  # type: ignore[arg-type]
                                            ("PATCH", "sobjects/Served__c/Key__c/S-1", {"Name": "b"})])
        assert sorted([a.status_code, b.status_code]) == [201, 400]
        loser = a if a.status_code == 400 else b
        assert loser.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    finally:
        proc.terminate()
        proc.wait(10)
