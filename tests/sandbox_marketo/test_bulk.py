"""Bulk imports: queued processing that clients must poll, failures, program members, queue limits."""

from __future__ import annotations

import json

from provisioner.sandbox.marketo.app import MarketoConfig

from .support import Api, error_code, serving


def test_lead_import_is_queued_then_complete_with_failures(api) -> None:
    reply = api.post_file("/bulk/v1/leads.json", {"format": "csv", "lookupField": "email"},
                          "email,firstName\nbulk1@example.com,Ann\nnot-an-email,Bob\nbulk2@example.com,Cy\n")
    batch = reply.json()["result"][0]
    assert batch["status"] == "Queued"
    done = api.wait_batch(f"/bulk/v1/leads/batch/{batch['batchId']}.json")
    assert done["status"] == "Complete" and done["numOfLeadsProcessed"] == 2 and done["numOfRowsFailed"] == 1
    failures = api.get_raw(f"/bulk/v1/leads/batch/{batch['batchId']}/failures.json")
    assert failures.headers["Content-Type"].startswith("text/csv")
    lines = failures.text.strip().splitlines()
    assert lines[0] == "email,firstName,Import Failure Reason" and lines[1].startswith("not-an-email,Bob,")
    found = api.get("/rest/v1/leads.json", {"filterType": "email", "filterValues": "bulk1@example.com"})["result"]
    assert found[0]["firstName"] == "Ann"


def test_unknown_column_fails_the_whole_batch(api) -> None:
    batch = api.post_file("/bulk/v1/leads.json", {"format": "csv"},
                          "email,shoeSize\nfeet@example.com,44\n").json()["result"][0]
    done = api.wait_batch(f"/bulk/v1/leads/batch/{batch['batchId']}.json")
    assert done["status"] == "Failed" and "shoeSize" in done["message"]
    assert api.get("/rest/v1/leads.json", {"filterType": "email", "filterValues": "feet@example.com"})["result"] == []


def test_custom_object_and_program_member_imports(api) -> None:
    co = "/rest/v1/customobjects/schema"
    api.post_json(f"{co}.json", {"apiName": "bulkObj", "displayName": "Bulk Obj"})
    api.post_json(f"{co}/bulkObj/addField.json", {"input": [
        {"name": "key", "displayName": "Key", "dataType": "string", "isDedupeField": True},
        {"name": "n", "displayName": "N", "dataType": "integer"}]})
    not_approved = api.post_file("/bulk/v1/customobjects/bulkObj/import.json", {"format": "csv"}, "key,n\na,1\n")
    assert error_code(not_approved.json()) == "1013"
    api.post_json(f"{co}/bulkObj/approve.json", check=False)
    batch = api.post_file("/bulk/v1/customobjects/bulkObj/import.json", {"format": "csv"},
                          "key,n\na,1\nb,two\n").json()["result"][0]
    done = api.wait_batch(f"/bulk/v1/customobjects/bulkObj/import/{batch['batchId']}/status.json")
    assert done["status"] == "Complete" and done["numOfObjectsProcessed"] == 1 and done["numOfRowsFailed"] == 1

    folder = api.get("/rest/asset/v1/folder/byName.json", {"name": "Events"})["result"][0]["id"]
    program = api.post_form("/rest/asset/v1/programs.json", {
        "name": "Bulk Tradeshow", "type": "Event", "channel": "Tradeshow",
        "folder": json.dumps({"id": folder, "type": "Folder"})})["result"][0]["id"]
    members = api.post_file(f"/bulk/v1/program/{program}/members/import.json",
                            {"format": "csv", "programMemberStatus": "Registered"},
                            "email,firstName\npm1@example.com,P\npm2@example.com,Q\n").json()["result"][0]
    done = api.wait_batch(f"/bulk/v1/program/members/import/{members['batchId']}/status.json")
    assert done["status"] == "Complete"
    lead = api.get("/rest/v1/leads.json", {"filterType": "email", "filterValues": "pm1@example.com"})["result"][0]
    member = api.get(f"/rest/v1/programs/{program}/members.json",
                     {"filterType": "leadId", "filterValues": str(lead["id"])})["result"][0]
    assert member["progressionStatus"] == "Registered"
    bad_status = api.post_file(f"/bulk/v1/program/{program}/members/import.json",
                               {"format": "csv", "programMemberStatus": "Attended"}, "email\npm1@example.com\n")
    assert error_code(bad_status.json()) == "1025"  # Attended is a Webinar status, not a Tradeshow one


def test_ten_in_the_queue_processing_included_then_1016_and_file_size_limit(tls) -> None:
    config = MarketoConfig(bulk_delay_s=1.0, max_bulk_file_bytes=2000)
    with serving(tls, config) as server:
        api = Api(server, tls)
        replies = [api.post_file("/bulk/v1/leads.json", {"format": "csv"}, f"email\nq{i}@example.com\n").json()
                   for i in range(11)]
        assert all(r["success"] for r in replies[:10])  # 10 in the queue, the 2 processing included
        assert error_code(replies[10]) == "1016" and replies[10]["errors"][0]["message"] == "Too many imports"
        statuses = [api.get(f"/bulk/v1/leads/batch/{r['result'][0]['batchId']}.json")["result"][0]["status"]
                    for r in replies[:10]]
        assert statuses.count("Importing") <= 2 and statuses.count("Queued") >= 8
        big = api.post_file("/bulk/v1/leads.json", {"format": "csv"}, "email\n" + "x@example.com\n" * 200)
        assert big.status_code == 413
        workers = list(server.app.bulk._threads)
        assert len(workers) == 2
        server.app.close()
        assert not any(t.is_alive() for t in workers)
        assert server.app.snapshot()["batches"][str(replies[9]["result"][0]["batchId"])]["status"] == "Queued"
