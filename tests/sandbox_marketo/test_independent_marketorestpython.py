"""The emulated instance against marketorestpython, the community Marketo client no one here wrote.

Every method of it that a feature of this project touches runs here unchanged against the sandbox:
leads (sync, get by filter with ``_method=GET``), folders, channels and programs (create, clone, get by
name), custom object types (create, add a lead link field as Adobe writes it, approve, describe) and
records, custom activity types (create, attributes, approve) and activities, program member status,
and the bulk lead import. The client is pointed at the sandbox by its ``host`` attribute and trusts the
sandbox's CA through ``REQUESTS_CA_BUNDLE`` (it calls ``requests.get``/``post`` without a session).
marketorestpython has no method for bulk custom object or program member imports: those are covered by
the schemathesis run and the sandbox's own tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from marketorestpython.client import MarketoClient as CommunityClient

from provisioner.sandbox.httpserver import SandboxServer

from .support import Api, serving

CO_FIELDS = [
    {"name": "sessionId", "displayName": "Session Id", "dataType": "string", "isDedupeField": True},
    # the link field exactly as Adobe's example and marketorestpython's README write it
    {"name": "email", "displayName": "Email", "dataType": "link", "relatedTo": {"name": "lead", "field": "email"}},
    {"name": "minutes", "displayName": "Minutes", "dataType": "float"},
]


@pytest.fixture(scope="module")
def server(tls) -> Iterator[SandboxServer]:
    with serving(tls) as running:
        yield running


@pytest.fixture
def mc(server: SandboxServer, tls, monkeypatch: pytest.MonkeyPatch) -> CommunityClient:
    """marketorestpython as its README sets it up, aimed at the sandbox."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_cert))  # requests' own setting: trust the sandbox CA
    config = server.app.config
    client = CommunityClient("sandbox", config.client_id, config.client_secret, max_retry_time=5,
                             requests_timeout=10)
    client.host = server.base_url  # "https://<munchkin>.mktorest.com" in real use
    return client


def test_leads_sync_and_get_by_filter_with_method_get(mc: CommunityClient) -> None:
    emails = ["ada@example.com", "grace@example.com", "linus@example.com"]
    created = mc.execute(method="create_update_leads", leads=[{"email": e, "firstName": e[:3]} for e in emails],
                         action="createOrUpdate", lookupField="email")
    assert [r["status"] for r in created] == ["created"] * 3
    # POST leads.json with _method=GET and a form-encoded body: Adobe's form for long filter lists
    found = mc.execute(method="get_multiple_leads_by_filter_type", filterType="email", filterValues=emails,
                       fields="email,firstName")
    assert sorted((r["email"], r["firstName"]) for r in found) == sorted((e, e[:3]) for e in emails)
    updated = mc.execute(method="create_update_leads", leads=[{"id": created[0]["id"], "lastName": "Lovelace"}],
                         action="updateOnly", lookupField="id")
    assert updated == [{"seq": 0, "id": created[0]["id"], "status": "updated"}]
    with pytest.raises(Exception) as refused:  # execute() re-raises Marketo's error as Exception({message, code})
        mc.execute(method="create_update_leads", leads=[{"email": "x@example.com"}], lookupField="shoeSize")
    assert refused.value.args[0]["code"] == "1003"


def test_folders_channels_and_programs(mc: CommunityClient) -> None:
    channels = {c["name"]: c for c in mc.execute(method="get_channels", maxReturn=200)}
    assert "Webinar" in channels
    webinar = mc.execute(method="get_channel_by_name", name="Webinar")[0]
    assert webinar["applicableProgramType"] == channels["Webinar"]["applicableProgramType"]
    folder = mc.execute(method="get_folder_by_name", name="Webinars")[0]
    # create_program sends every parameter in the query string and folder as {'id': 11, 'type': Folder}
    program = mc.execute(method="create_program", folderId=folder["id"], folderType="Folder",
                         name="Community Webinar", type="Event with Webinar", channel="Webinar",
                         description="made by marketorestpython")[0]
    assert program["folder"]["value"] == folder["id"] and program["channel"] == "Webinar"
    by_name = mc.execute(method="get_program_by_name", name="Community Webinar")[0]
    assert by_name["id"] == program["id"] and by_name["type"] == "Event with Webinar"
    clone = mc.execute(method="clone_program", id=program["id"], name="Community Webinar (copy)",
                       folderId=folder["id"], folderType="Folder")[0]
    assert clone["id"] != program["id"] and clone["channel"] == "Webinar"


def test_custom_object_schema_and_records(mc: CommunityClient) -> None:
    mc.execute(method="create_update_leads", leads=[{"email": "owner@example.com"}])
    mc.execute(method="create_update_custom_object_type", apiName="communitySeat", displayName="Community Seat",
               pluralName="Community Seats", description="made by marketorestpython")
    added = mc.execute(method="add_field_custom_object_type", apiName="communitySeat", fields=CO_FIELDS)
    assert [f["status"] for f in added] == ["created"] * 3
    assert mc.execute(method="approve_custom_object_type", apiName="communitySeat")[0]["status"] == "approved"
    described = mc.execute(method="describe_custom_object_type", apiName="communitySeat")[0]
    assert described["relationships"][0]["relatedTo"] == {"name": "Lead", "field": "email"}
    assert described["dedupeFields"] == ["sessionId"]
    records = mc.execute(method="create_update_custom_objects", name="communitySeat",
                         input=[{"sessionId": "s1", "email": "owner@example.com", "minutes": 12.5}])
    assert records[0]["status"] == "created"
    # POST communitySeat.json?_method=GET with a JSON body of keys
    found = mc.execute(method="get_custom_objects", name="communitySeat", input=[{"sessionId": "s1"}],
                       filterType="dedupeFields", fields=["sessionId", "minutes"])
    assert [(r["sessionId"], r["minutes"]) for r in found] == [("s1", 12.5)]


def test_custom_activity_types_and_activities(mc: CommunityClient) -> None:
    lead = mc.execute(method="create_update_leads", leads=[{"email": "viewer@example.com"}])[0]["id"]
    created = mc.execute(method="create_custom_activity_type", apiName="communityView", name="Community View",
                         triggerName="Views a session", filterName="Viewed a session",
                         primaryAttributeApiName="session", primaryAttributeName="Session")[0]
    mc.execute(method="create_custom_activity_type_attribute", apiName="communityView",
               attributes=[{"apiName": "minutes", "name": "Minutes", "dataType": "integer"}])
    assert mc.execute(method="approve_custom_activity_type", apiName="communityView")[0]["status"] == "approved"
    assert "communityView" in {t["apiName"] for t in mc.execute(method="get_custom_activity_types")}
    described = mc.execute(method="describe_custom_activity_type", apiName="communityView")[0]
    assert [a["apiName"] for a in described["attributes"]] == ["minutes"]
    types = {t["id"]: t["name"] for t in mc.execute(method="get_activity_types")}
    assert types[2] == "Fill Out Form" and types[104] == "Change Status in Progression"
    assert types[created["id"]] == "Community View"
    added = mc.execute(method="add_custom_activities", input=[
        {"leadId": lead, "activityDate": "2026-05-01T10:00:00Z", "activityTypeId": created["id"],
         "primaryAttributeValue": "Keynote", "attributes": [{"apiName": "minutes", "value": 40}]}])
    assert added[0]["status"] == "added"


def test_program_member_status(mc: CommunityClient, server: SandboxServer, tls) -> None:
    lead = mc.execute(method="create_update_leads", leads=[{"email": "member@example.com"}])[0]["id"]
    folder = mc.execute(method="get_folder_by_name", name="Events")[0]
    program = mc.execute(method="create_program", folderId=folder["id"], folderType="Folder",
                         name="Community Event", type="Event with Webinar", channel="Webinar")[0]
    # marketorestpython has no call that makes a member: the project's own route does (Sync Program Member Status)
    api = Api(server, tls)
    api.post_json(f"/rest/v1/programs/{program['id']}/members/status.json",
                  {"statusName": "Registered", "input": [{"leadId": lead}]})
    changed = mc.execute(method="change_lead_program_status", id=program["id"], leadIds=[lead, 987654],
                         status="Attended")
    assert changed[0] == {"id": lead, "status": "updated"}
    assert changed[1]["status"] == "skipped"  # Adobe: only existing members of the program change status
    member = api.get(f"/rest/v1/programs/{program['id']}/members.json",
                     {"filterType": "leadId", "filterValues": str(lead)})["result"][0]
    assert member["progressionStatus"] == "Attended"


def test_bulk_lead_import(mc: CommunityClient, server: SandboxServer, tmp_path: Path) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text("email,firstName\nbulk1@example.com,B\nnot-an-email,C\n", encoding="utf-8")
    batch = mc.execute(method="import_lead", format="csv", file=str(csv), lookupField="email")[0]
    status = mc.execute(method="get_import_lead_status", id=batch["batchId"])[0]
    for _ in range(200):
        if status["status"] not in ("Queued", "Importing"):
            break
        status = mc.execute(method="get_import_lead_status", id=batch["batchId"])[0]
    assert status["status"] == "Complete" and status["numOfRowsFailed"] == 1
    failures = mc.execute(method="get_import_failure_file", id=batch["batchId"])
    assert "not-an-email" in failures and "bulk1@example.com" not in failures
