"""Custom activity types (draft/approve, limits) and write-once activities read back by paging token."""

from __future__ import annotations

import datetime as dt

import pytest

from provisioner.sandbox.marketo.app import MarketoConfig

from .support import Api, error_code, serving

AT = "/rest/v1/activities/external/type"


def _type_body(api_name: str) -> dict:
    return {"apiName": api_name, "name": f"{api_name} name", "triggerName": f"{api_name} trigger",
            "filterName": f"{api_name} filter", "description": "from a test",
            "primaryAttribute": {"apiName": "sessionName", "name": "Session Name", "dataType": "string"}}


def _draft_type(api, name: str) -> dict:  # type: ignore[no-untyped-def]
    created = api.post_json(f"{AT}.json", _type_body(name))["result"][0]
    assert created["status"] == "draft" and isinstance(created["id"], int)
    attrs = {"attributes": [{"apiName": "minutes", "name": "Minutes", "dataType": "float"},
                            {"apiName": "role", "name": "Role", "dataType": "string"}]}
    assert api.post_json(f"{AT}/{name}/attributes/create.json", attrs)["success"]
    return created


@pytest.fixture(scope="module")
def activity_type(api) -> dict:
    """An approved type, whichever test runs first (the test of the draft stage makes its own)."""
    created = _draft_type(api, "kalturaSession")
    assert api.post_json(f"{AT}/kalturaSession/approve.json", check=False)["result"][0]["status"] == "approved"
    return created


def test_draft_approve_describe(api) -> None:
    activity_type = _draft_type(api, "kalturaDrafted")
    draft = api.get(f"{AT}/kalturaDrafted/describe.json", {"draft": "true"})["result"][0]
    assert {a["apiName"] for a in draft["attributes"]} == {"minutes", "role"}
    assert activity_type["id"] not in [t["id"] for t in api.get("/rest/v1/activities/types.json")["result"]]
    approved = api.post_json(f"{AT}/kalturaDrafted/approve.json", check=False)["result"][0]
    assert approved["status"] == "approved" and approved["id"] == activity_type["id"]
    usable = {t.get("apiName"): t for t in api.get("/rest/v1/activities/types.json")["result"]}
    assert usable["kalturaDrafted"]["id"] == activity_type["id"]
    api.post_json(f"{AT}/kalturaDrafted.json", {**_type_body("kalturaDrafted"), "description": "changed"})
    listed = {t["apiName"]: t for t in api.get("/rest/v1/activities/external/types.json")["result"]}
    assert listed["kalturaDrafted"]["status"] == "approved with draft"
    assert listed["kalturaDrafted"]["description"] == "from a test"  # the list shows the approved version
    assert api.post_json(f"{AT}/kalturaDrafted/discardDraft.json", check=False)["success"]
    assert api.get(f"{AT}/kalturaDrafted/describe.json")["result"][0]["status"] == "approved"


def test_duplicate_names_and_attribute_rules(api, activity_type) -> None:
    assert error_code(api.post_json(f"{AT}.json", _type_body("kalturaSession"))) == "1017"
    same_trigger = {**_type_body("another"), "triggerName": "kalturaSession trigger"}
    assert error_code(api.post_json(f"{AT}.json", same_trigger)) == "1017"
    dup = {"attributes": [{"apiName": "minutes", "name": "Minutes again", "dataType": "float"}]}
    assert error_code(api.post_json(f"{AT}/kalturaSession/attributes/create.json", dup)) == "1017"
    retype = {"attributes": [{"apiName": "minutes", "name": "Minutes", "dataType": "string"}]}
    assert error_code(api.post_json(f"{AT}/kalturaSession/attributes/update.json", retype)) == "709"
    # refused changes leave no draft behind
    assert api.get(f"{AT}/kalturaSession/describe.json")["result"][0]["status"] == "approved"


def test_limits_ten_types_twenty_attributes(tls) -> None:
    with serving(tls, MarketoConfig(max_activity_types=10)) as server:
        api = Api(server, tls)
        for i in range(10):
            assert api.post_json(f"{AT}.json", _type_body(f"t{i}"))["success"]
        assert error_code(api.post_json(f"{AT}.json", _type_body("t10"))) == "1027"
        twenty = {"attributes": [{"apiName": f"a{i}", "name": f"A{i}", "dataType": "string"} for i in range(20)]}
        assert api.post_json(f"{AT}/t0/attributes/create.json", twenty)["success"]
        one_more = {"attributes": [{"apiName": "a20", "name": "A20", "dataType": "string"}]}
        assert error_code(api.post_json(f"{AT}/t0/attributes/create.json", one_more)) == "1028"
        assert api.post_json(f"{AT}/t1/delete.json", check=False)["result"][0]["status"] == "deleted"
        assert api.post_json(f"{AT}.json", _type_body("t10"))["success"]


def test_activities_are_write_once_and_read_back(api, activity_type) -> None:
    lead = api.post_json("/rest/v1/leads.json", {"input": [{"email": "grace@example.com"}]})["result"][0]["id"]
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    activity = {"leadId": lead, "activityDate": "2026-03-01T10:00:00Z", "activityTypeId": activity_type["id"],
                "primaryAttributeValue": "Keynote", "attributes": [{"apiName": "minutes", "value": 42.5}]}
    first = api.post_json("/rest/v1/activities/external.json", {"input": [activity, {**activity, "leadId": 999999},
                                                                          {**activity, "activityTypeId": 1}]})
    assert first["result"][0]["status"] == "added"
    assert first["result"][1]["status"] == "skipped" and first["result"][1]["errors"][0]["code"] == "1004"
    assert first["result"][2]["errors"][0]["code"] == "1013"
    second = api.post_json("/rest/v1/activities/external.json", {"input": [activity]})
    assert second["result"][0]["id"] != first["result"][0]["id"]  # no dedupe: each call appends
    token = api.get("/rest/v1/activities/pagingtoken.json", {"sinceDatetime": since})["nextPageToken"]
    read = api.get("/rest/v1/activities.json", {"activityTypeIds": str(activity_type["id"]), "nextPageToken": token,
                                                "leadIds": str(lead)})
    assert [a["primaryAttributeValue"] for a in read["result"]] == ["Keynote", "Keynote"]
    assert read["result"][0]["attributes"][0]["value"] == 42.5 and read["moreResult"] is False
    later = api.get("/rest/v1/activities.json", {"activityTypeIds": str(activity_type["id"]),
                                                 "nextPageToken": read["nextPageToken"]})
    assert "result" not in later and later["moreResult"] is False


def test_too_many_activities_in_one_call(api, activity_type) -> None:
    batch = [{"leadId": 1, "activityDate": "2026-03-01T10:00:00Z", "activityTypeId": activity_type["id"],
              "primaryAttributeValue": "x"}] * 301
    assert error_code(api.post_json("/rest/v1/activities/external.json", {"input": batch})) == "1003"
