"""Custom object types: draft/approve, limits, link detection, post-approval refusals; and their records."""

from __future__ import annotations

import pytest

from provisioner.sandbox.marketo.app import MarketoConfig

from .support import Api, error_code, serving

CO = "/rest/v1/customobjects"
FIELDS = [
    {"name": "sessionId", "displayName": "Session Id", "dataType": "string", "isDedupeField": True},
    {"name": "leadEmail", "displayName": "Lead", "dataType": "link", "isDedupeField": True,
     "relatedTo": {"name": "Lead", "field": "email"}},
    {"name": "plays", "displayName": "Plays", "dataType": "integer"},
]


def _create_type(api: Api, name: str) -> dict:
    return api.post_json(f"{CO}/schema.json", {"action": "createOnly", "apiName": name,
                                               "displayName": name.title(), "pluralName": name.title() + "s"})


def _with_fields(api: Api, name: str) -> str:
    assert _create_type(api, name)["result"][0]["status"] == "created"
    assert api.post_json(f"{CO}/schema/{name}/addField.json", {"input": FIELDS})["success"]
    return name


@pytest.fixture(scope="module")
def engagement(api) -> str:
    """An approved type with the engagement fields, whichever test runs first (a test of the draft stage makes
    its own type): every test leaves it approved."""
    name = _with_fields(api, "kalturaEngagement")
    assert api.post_json(f"{CO}/schema/{name}/approve.json", check=False)["success"]
    return name


def _describe(api: Api, name: str, state: str | None = None) -> dict:
    params = {"state": state} if state else None
    return api.get(f"{CO}/schema/{name}/describe.json", params)["result"][0]


def test_draft_then_approve_then_approved_with_draft(api) -> None:
    engagement = _with_fields(api, "kalturaDrafted")
    assert _describe(api, engagement)["state"] == "draft"
    assert error_code(api.post_json(f"{CO}/{engagement}.json", {"input": [{"sessionId": "s"}]})) == "1013"
    assert api.post_json(f"{CO}/schema/{engagement}/approve.json", check=False)["success"]
    assert _describe(api, engagement)["state"] == "approved"
    api.post_json(f"{CO}/schema/{engagement}/addField.json",
                  {"input": [{"name": "minutes", "displayName": "Minutes", "dataType": "float"}]})
    assert _describe(api, engagement, "draft")["state"] == "approvedWithDraft"
    assert "minutes" not in {f["name"] for f in _describe(api, engagement, "approved")["fields"]}
    assert "minutes" in {f["name"] for f in _describe(api, engagement, "draft")["fields"]}
    objects = api.get("/rest/v1/customobjects.json", {"names": engagement})["result"]
    assert [o["version"] for o in objects] == ["approved"]  # the records API sees the approved model only
    assert "minutes" not in {f["name"] for f in api.get(f"{CO}/{engagement}/describe.json")["result"][0]["fields"]}
    listed = api.get(f"{CO}/schema.json", {"names": engagement})["result"]
    assert [t["apiName"] for t in listed] == [engagement]
    assert api.post_json(f"{CO}/schema/{engagement}/discardDraft.json", check=False)["success"]
    assert _describe(api, engagement)["state"] == "approved"


def test_link_field_shows_linked_type_and_relationship(api, engagement) -> None:
    described = _describe(api, engagement)
    link = next(f for f in described["fields"] if f["name"] == "leadEmail")
    assert link["dataType"] == "email"
    assert described["relationships"] == [{"field": "leadEmail", "type": "child",
                                           "relatedTo": {"name": "Lead", "field": "email"}}]
    assert described["dedupeFields"] == ["sessionId", "leadEmail"]


def test_post_approval_refusals(api, engagement) -> None:
    base = f"{CO}/schema/{engagement}"
    new_dedupe = {"input": [{"name": "extra", "displayName": "Extra", "dataType": "string", "isDedupeField": True}]}
    assert error_code(api.post_json(f"{base}/addField.json", new_dedupe)) == "709"
    new_link = {"input": [{"name": "other", "displayName": "Other", "dataType": "link",
                           "relatedTo": {"name": "Lead", "field": "id"}}]}
    assert error_code(api.post_json(f"{base}/addField.json", new_link)) == "709"
    assert error_code(api.post_json(f"{base}/deleteField.json", {"input": [{"name": "sessionId"}]})) == "709"
    assert error_code(api.post_json(f"{base}/leadEmail/updateField.json", {"isDedupeField": False})) == "709"
    assert error_code(api.post_json(f"{base}/plays/updateField.json", {"name": "playCount"})) == "709"
    assert _describe(api, engagement)["state"] == "approved"  # refused changes leave no draft behind
    assert api.post_json(f"{base}/plays/updateField.json", {"displayName": "Play count"})["success"]
    assert _describe(api, engagement)["state"] == "approvedWithDraft"
    assert api.post_json(f"{base}/discardDraft.json", check=False)["success"]


def test_dedupe_field_rules_and_field_types(api) -> None:
    _create_type(api, "dedupeRules")
    base = f"{CO}/schema/dedupeRules"
    assert error_code(api.post_json(f"{base}/approve.json", check=False)) == "709"  # no dedupe field yet
    four = {"input": [{"name": f"k{i}", "displayName": f"K{i}", "dataType": "string", "isDedupeField": True}
                      for i in range(4)]}
    assert error_code(api.post_json(f"{base}/addField.json", four)) == "1003"
    bad_type = {"input": [{"name": "k", "displayName": "K", "dataType": "picklist"}]}
    assert error_code(api.post_json(f"{base}/addField.json", bad_type)) == "1003"
    bad_link = {"input": [{"name": "k", "displayName": "K", "dataType": "link",
                           "relatedTo": {"name": "Opportunity", "field": "id"}}]}
    assert error_code(api.post_json(f"{base}/addField.json", bad_link)) == "1003"
    assert error_code(_create_type(api, "dedupeRules")) == "1017"
    assert api.post_json(f"{base}/delete.json", check=False)["success"]
    assert error_code(api.get(f"{base}/describe.json")) == "1013"


def test_type_and_field_limits(tls) -> None:
    with serving(tls, MarketoConfig(max_custom_object_types=2, max_custom_object_fields=3)) as server:
        api = Api(server, tls)
        assert _create_type(api, "one")["success"] and _create_type(api, "two")["success"]
        assert error_code(_create_type(api, "three")) == "1027"
        many = {"input": [{"name": f"f{i}", "displayName": f"F{i}", "dataType": "string"} for i in range(4)]}
        assert error_code(api.post_json(f"{CO}/schema/one/addField.json", many)) == "1028"


def test_default_limit_is_ten_types(tls) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        assert all(_create_type(api, f"type{i}")["success"] for i in range(10))
        assert error_code(_create_type(api, "type10")) == "1027"


@pytest.fixture(scope="module")
def lead_id(api) -> int:
    return api.post_json("/rest/v1/leads.json", {"input": [{"email": "ada@example.com"}]})["result"][0]["id"]


def test_records_upsert_by_dedupe_fields_with_link_to_lead(api, engagement, lead_id) -> None:
    path = f"{CO}/{engagement}.json"
    first = api.post_json(path, {"input": [{"sessionId": "s1", "leadEmail": "ada@example.com", "plays": 2},
                                           {"sessionId": "s1", "leadEmail": "nobody@example.com"},
                                           {"sessionId": "s2", "leadEmail": "ada@example.com", "nope": 1}]})["result"]
    assert first[0]["status"] == "created" and first[0]["marketoGUID"]
    assert first[1]["status"] == "skipped" and first[1]["reasons"][0]["code"] == "1013"
    assert first[2]["status"] == "skipped" and first[2]["reasons"][0]["code"] == "1006"
    again = api.post_json(path, {"input": [{"sessionId": "s1", "leadEmail": "ada@example.com", "plays": 5}]})
    assert again["result"][0] == {"seq": 0, "marketoGUID": first[0]["marketoGUID"], "status": "updated"}
    only = api.post_json(path, {"action": "createOnly",
                                "input": [{"sessionId": "s1", "leadEmail": "ada@example.com"}]})["result"][0]
    assert only["status"] == "skipped" and only["reasons"][0]["code"] == "1017"
    found = api.get(path, {"filterType": "leadEmail", "filterValues": "ada@example.com",
                           "fields": "sessionId,plays"})["result"]
    assert [(r["sessionId"], r["plays"]) for r in found] == [("s1", 5)]
    bad_value = api.post_json(path, {"input": [{"sessionId": "s3", "leadEmail": "ada@example.com",
                                                "plays": "many"}]})["result"][0]
    assert bad_value["reasons"][0]["code"] == "1001"
    deleted = api.post_json(f"{CO}/{engagement}/delete.json", {"deleteBy": "idField",
                                                               "input": [{"marketoGUID": first[0]["marketoGUID"]}]})
    assert deleted["result"][0]["status"] == "deleted"
    assert api.get(path, {"filterType": "idField", "filterValues": first[0]["marketoGUID"]})["result"] == []


def test_compound_key_lookup_with_method_get_body(api, engagement) -> None:
    path = f"{CO}/{engagement}.json"
    # a lead of its own: the records of other tests of this module (ada's) must not matter
    api.post_json("/rest/v1/leads.json", {"input": [{"email": "grace@example.com"}]})
    api.post_json(path, {"input": [{"sessionId": "c1", "leadEmail": "grace@example.com", "plays": 1},
                                   {"sessionId": "c2", "leadEmail": "grace@example.com", "plays": 2}]})
    assert error_code(api.get(path, {"filterType": "dedupeFields", "filterValues": "c1"})) == "1035"
    lookup = f"{path}?_method=GET"
    body = {"filterType": "dedupeFields", "fields": ["sessionId", "plays"],
            "input": [{"sessionId": "c2", "leadEmail": "grace@example.com"},
                      {"sessionId": "c1", "leadEmail": "nobody@example.com"}]}
    found = api.post_json(lookup, body)["result"]
    assert [(r["sessionId"], r["plays"]) for r in found] == [("c2", 2)]
    half_key = {"filterType": "dedupeFields", "input": [{"sessionId": "c2"}]}
    assert error_code(api.post_json(lookup, half_key)) == "1003"
