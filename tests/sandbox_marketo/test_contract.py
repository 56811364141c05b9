"""Contract test: every route the sandbox serves exists in Adobe's OpenAPI documents, reads only declared
parameters, and answers with responses that validate against the operation's 200-response schema.

The documents are the copy shipped in provisioner/sandbox/data/marketo-openapi (Apache-2.0, with its LICENSE).
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest
import requests

from provisioner.sandbox.marketo import contract
from provisioner.sandbox.httpserver import Request
from provisioner.sandbox.marketo.routes import ROUTES, match, served

from .support import Api, serving

A = "/rest/asset/v1"
CO = "/rest/v1/customobjects"
AT = "/rest/v1/activities/external/type"


class Recorder:
    """Sends each request (checked against the spec by a response hook) and keeps every response by route."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.api.token()
        self.api.session.hooks["response"].append(contract.response_hook)  # checks the bytes really sent
        self.responses: dict[str, list[requests.Response]] = {}

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, json_body: Any = None,
             form: dict[str, Any] | None = None, file: str | None = None, auth: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self.api.token()}"} if auth else {}
        files = {"file": ("data.csv", file, "text/csv")} if file is not None else None
        reply = self.api.session.request(method, self.api.base + path, params=params, json=json_body, data=form,
                                         files=files, headers=headers, timeout=10)
        sent = Request(method, path, {k: [str(v)] for k, v in (params or {}).items()},
                       {k.lower(): v for k, v in reply.request.headers.items()}, b"")
        route, _, _ = match(served(sent).method, path)
        assert route is not None, path
        self.responses.setdefault(route.name, []).append(reply)
        if reply.headers.get("Content-Type", "").startswith("application/json"):
            payload = reply.json()
            assert payload.get("success", True) is True or "access_token" in payload, (path, payload)
            return payload
        return reply.text

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """A POST with a JSON body."""
        return self.call("POST", path, json_body=body)

    def poll(self, path: str) -> None:
        for _ in range(100):
            if self.call("GET", path)["result"][0]["status"] not in ("Queued", "Importing"):
                return
            time.sleep(0.05)
        raise AssertionError(f"{path} never finished")


def _scenario(rec: Recorder) -> None:
    ident = {"grant_type": "client_credentials", "client_id": rec.api.client_id,
             "client_secret": rec.api.client_secret}
    rec.call("GET", "/identity/oauth/token", params=ident, auth=False)
    rec.call("POST", "/identity/oauth/token", params=ident, auth=False)
    root = rec.call("GET", f"{A}/folder/byName.json", {"name": "Marketing Activities", "type": "Folder"})["result"][0]
    ref = json.dumps({"id": root["id"], "type": "Folder"})
    folder = rec.call("POST", f"{A}/folders.json", form={"name": "Contract", "parent": ref,
                                                         "description": "d"})["result"][0]
    rec.call("GET", f"{A}/folder/{folder['id']}.json", {"type": "Folder"})
    rec.call("GET", f"{A}/folders.json", {"root": ref, "maxDepth": 2, "maxReturn": 200, "offset": 0})
    rec.call("GET", f"{A}/channels.json", {"maxReturn": 200, "offset": 0})
    rec.call("GET", f"{A}/channel/byName.json", {"name": "Webinar"})
    fref = json.dumps({"id": folder["id"], "type": "Folder"})
    program = rec.call("POST", f"{A}/programs.json", form={
        "name": "Contract Webinar", "type": "Event with Webinar", "channel": "Webinar", "folder": fref,
        "description": "d", "costs": json.dumps([{"startDate": "2026-01-01", "cost": 10, "note": "n"}]),
        "tags": json.dumps([{"tagType": "Region", "tagValue": "EMEA"}])})["result"][0]
    pid = program["id"]
    rec.call("GET", f"{A}/program/{pid}.json")
    rec.call("GET", f"{A}/program/byName.json", {"name": "Contract Webinar", "includeTags": "true",
                                                 "includeCosts": "true"})
    rec.call("GET", f"{A}/programs.json", {"maxReturn": 200, "offset": 0})
    rec.call("POST", f"{A}/program/{pid}.json", form={"description": "e", "startDate": "2026-02-01",
                                                      "endDate": "2026-02-02"})
    clone = rec.call("POST", f"{A}/program/{pid}/clone.json", form={"name": "Contract Clone", "folder": fref,
                                                                    "description": "c"})["result"][0]
    rec.call("POST", f"{A}/program/{clone['id']}/delete.json")

    rec.post(f"{CO}/schema.json", {"apiName": "contractObj", "displayName": "Contract Obj",
                                           "pluralName": "Contract Objs", "description": "d",
                                           "showInLeadDetail": True, "action": "createOrUpdate"})
    rec.post(f"{CO}/schema/contractObj/addField.json", {"input": [
        {"name": "key", "displayName": "Key", "dataType": "string", "isDedupeField": True, "description": "k"},
        {"name": "leadId", "displayName": "Lead", "dataType": "link", "relatedTo": {"name": "Lead", "field": "id"}},
        {"name": "score", "displayName": "Score", "dataType": "integer"},
        {"name": "tmp", "displayName": "Tmp", "dataType": "string"}]})
    rec.post(f"{CO}/schema/contractObj/score/updateField.json", {"displayName": "Score!"})
    rec.post(f"{CO}/schema/contractObj/deleteField.json", {"input": [{"name": "tmp"}]})
    rec.call("POST", f"{CO}/schema/contractObj/approve.json")
    rec.post(f"{CO}/schema/contractObj/addField.json", {"input": [
        {"name": "note", "displayName": "Note", "dataType": "text"}]})
    rec.call("GET", f"{CO}/schema/contractObj/describe.json", {"state": "draft"})
    rec.call("GET", f"{CO}/schema.json", {"names": "contractObj", "state": "approved"})
    rec.call("POST", f"{CO}/schema/contractObj/discardDraft.json")
    rec.call("GET", "/rest/v1/customobjects.json", {"names": "contractObj"})
    rec.call("GET", f"{CO}/contractObj/describe.json")
    rec.post(f"{CO}/schema.json", {"apiName": "contractGone", "displayName": "Gone"})
    rec.call("POST", f"{CO}/schema/contractGone/delete.json")

    lead = rec.post("/rest/v1/leads.json", {"action": "createOrUpdate", "lookupField": "email",
                                                    "input": [{"email": "c@example.com", "firstName": "C",
                                                               "lastName": "D", "company": "E"}]})["result"][0]
    rec.call("GET", "/rest/v1/leads.json", {"filterType": "email", "filterValues": "c@example.com",
                                            "fields": "email,firstName", "batchSize": 300})
    rec.call("GET", "/rest/v1/campaigns.json", {"batchSize": "1"})
    rec.call("GET", "/rest/v1/stats/usage.json")
    rec.call("GET", "/rest/v1/leads/describe.json")
    rec.call("GET", "/rest/v1/leads/describe2.json")
    rec.post(f"/rest/v1/programs/{pid}/members/status.json",
             {"statusName": "Registered", "input": [{"leadId": lead["id"]}]})
    rec.post(f"/rest/v1/leads/programs/{pid}/status.json", {"status": "Attended", "input": [{"id": lead["id"]}]})
    rec.call("GET", f"/rest/v1/programs/{pid}/members.json", {"filterType": "leadId",
                                                              "filterValues": str(lead["id"])})

    rec.post(f"{CO}/contractObj.json", {"action": "createOrUpdate", "dedupeBy": "dedupeFields",
                                                "input": [{"key": "k1", "leadId": lead["id"], "score": 3},
                                                          {"key": "k2", "leadId": lead["id"]}]})
    rec.call("GET", f"{CO}/contractObj.json", {"filterType": "dedupeFields", "filterValues": "k1,k2",
                                               "fields": "key,score", "batchSize": 1})
    rec.call("POST", f"{CO}/contractObj.json", {"_method": "GET"},
             json_body={"filterType": "dedupeFields", "fields": ["key"], "input": [{"key": "k1"}], "batchSize": 10})
    rec.post(f"{CO}/contractObj/delete.json", {"deleteBy": "dedupeFields", "input": [{"key": "k2"}]})

    body = {"apiName": "contractAct", "name": "Contract Act", "triggerName": "Contract happens",
            "filterName": "Contract happened", "description": "d",
            "primaryAttribute": {"apiName": "what", "name": "What", "dataType": "string", "description": "w"}}
    act = rec.post(f"{AT}.json", body)["result"][0]
    rec.post(f"{AT}/contractAct/attributes/create.json", {"attributes": [
        {"apiName": "size", "name": "Size", "dataType": "integer"},
        {"apiName": "gone", "name": "Gone", "dataType": "string"}]})
    rec.post(f"{AT}/contractAct/attributes/update.json", {"attributes": [
        {"apiName": "size", "name": "Size (n)", "dataType": "integer"}]})
    rec.post(f"{AT}/contractAct/attributes/delete.json", {"attributes": [{"apiName": "gone", "name": "x"}]})
    rec.call("POST", f"{AT}/contractAct/approve.json")
    rec.post(f"{AT}/contractAct.json", {**body, "description": "changed"})
    rec.call("GET", f"{AT}/contractAct/describe.json", {"draft": "true"})
    rec.call("GET", "/rest/v1/activities/external/types.json")
    rec.call("GET", "/rest/v1/activities/types.json")
    rec.call("POST", f"{AT}/contractAct/discardDraft.json")
    rec.post(f"{AT}.json", {**body, "apiName": "contractGone", "name": "G", "triggerName": "G t",
                                     "filterName": "G f"})
    rec.call("POST", f"{AT}/contractGone/delete.json")
    token = rec.call("GET", "/rest/v1/activities/pagingtoken.json",
                     {"sinceDatetime": "2020-01-01T00:00:00Z"})["nextPageToken"]
    rec.post("/rest/v1/activities/external.json", {"input": [
        {"leadId": lead["id"], "activityDate": "2026-01-01T00:00:00Z", "activityTypeId": act["id"],
         "primaryAttributeValue": "x", "attributes": [{"apiName": "size", "value": 2}]}]})
    rec.call("GET", "/rest/v1/activities.json", {"activityTypeIds": str(act["id"]), "nextPageToken": token,
                                                 "leadIds": str(lead["id"]), "batchSize": 10})

    batch = rec.call("POST", "/bulk/v1/leads.json", {"format": "csv", "lookupField": "email"},
                     file="email,firstName\nb1@example.com,B\nbad-email,C\n")["result"][0]
    rec.poll(f"/bulk/v1/leads/batch/{batch['batchId']}.json")
    rec.call("GET", f"/bulk/v1/leads/batch/{batch['batchId']}/failures.json")
    rec.call("GET", f"/bulk/v1/leads/batch/{batch['batchId']}/warnings.json")
    co = rec.call("POST", "/bulk/v1/customobjects/contractObj/import.json", {"format": "csv"},
                  file=f"key,leadId\nk9,{lead['id']}\n")["result"][0]
    rec.poll(f"/bulk/v1/customobjects/contractObj/import/{co['batchId']}/status.json")
    rec.call("GET", f"/bulk/v1/customobjects/contractObj/import/{co['batchId']}/failures.json")
    rec.call("GET", f"/bulk/v1/customobjects/contractObj/import/{co['batchId']}/warnings.json")
    pm = rec.call("POST", f"/bulk/v1/program/{pid}/members/import.json",
                  {"format": "csv", "programMemberStatus": "Attended"}, file="email\nc@example.com\n")["result"][0]
    rec.poll(f"/bulk/v1/program/members/import/{pm['batchId']}/status.json")
    rec.call("GET", f"/bulk/v1/program/members/import/{pm['batchId']}/failures.json")
    rec.call("GET", f"/bulk/v1/program/members/import/{pm['batchId']}/warnings.json")


@pytest.fixture(scope="module")
def recorded(tls) -> Iterator[tuple[Recorder, Any]]:
    with serving(tls) as server:
        recorder = Recorder(Api(server, tls))
        _scenario(recorder)
        yield recorder, server.app


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_route_is_a_documented_operation(route) -> None:
    spec, operation, template = contract.find_operation(route.method, route.path)
    assert template == route.path
    consumes = operation.get("consumes") or spec.get("consumes") or []
    if route.body == "form":
        assert "application/x-www-form-urlencoded" in consumes
    if route.body == "multipart":
        assert "multipart/form-data" in consumes


def test_scenario_exercised_every_route(recorded) -> None:
    recorder, _ = recorded
    assert sorted(r.name for r in ROUTES if r.name not in recorder.responses) == []


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_responses_validate_against_the_200_schema(recorded, route) -> None:
    recorder, _ = recorded
    for reply in recorder.responses[route.name]:
        assert reply.status_code == 200
        if reply.headers["Content-Type"].startswith("text/csv"):
            assert contract.response_schema(route.method, route.path) == {}  # the spec documents an untyped object
            continue
        contract.check_response(route.method, route.path, reply.json())


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_handlers_read_only_declared_parameters(recorded, route) -> None:
    _, app = recorded
    spec, operation, template = contract.find_operation(route.method, route.path)
    declared = contract.declared_parameters(spec, operation)
    allowed = set().union(*declared.values()) | contract.PARAMETER_ERRATA.get((route.method, template), set())
    assert app.param_reads[route.name] <= allowed, app.param_reads[route.name] - allowed


def test_check_request_refuses_undocumented_operations_and_parameters() -> None:
    with pytest.raises(contract.ContractError, match="no such operation"):
        contract.check_request("POST", "https://x/rest/asset/v1/channels.json")
    with pytest.raises(contract.ContractError, match="'folderName'"):
        contract.check_request("POST", "https://x/rest/asset/v1/programs.json",
                               body={"name": "a", "type": "Default", "channel": "c", "folder": "{}",
                                     "folderName": "x"})
    with pytest.raises(contract.ContractError, match="missing required query parameter 'filterType'"):
        contract.check_request("GET", "https://x/rest/v1/leads.json?filterValues=a")
    contract.check_request("GET", "https://x/rest/v1/leads.json", params={"filterType": "email", "filterValues": "a"})
    # Adobe removed the access_token query parameter: a token goes in the Authorization header only
    with pytest.raises(contract.ContractError, match="'access_token'"):
        contract.check_request("GET", "https://x/rest/v1/leads.json", params={"filterType": "email",
                                                                              "filterValues": "a", "access_token": "t"})


def test_check_response_catches_a_wrong_shape() -> None:
    with pytest.raises(contract.ContractError, match="result"):
        contract.check_response("GET", "/rest/asset/v1/channels.json",
                                {"requestId": "1", "success": True, "result": {"not": "a list"}})


def test_response_hook_checks_what_a_client_really_sends(server_and_tls) -> None:
    server, tls = server_and_tls
    api = Api(server, tls)
    api.token()
    api.session.hooks["response"].append(contract.response_hook)
    headers = {"Authorization": f"Bearer {api.token()}"}
    good = api.session.post(server.base_url + "/bulk/v1/leads.json", params={"format": "csv"},
                            files={"file": ("l.csv", "email\nh@example.com\n", "text/csv")}, headers=headers)
    assert good.json()["success"] is True
    assert api.session.post(server.base_url + "/rest/asset/v1/folders.json", headers=headers, data={
        "name": "Hooked", "parent": json.dumps({"id": 10, "type": "Folder"})}).json()["success"] is True
    with pytest.raises(contract.ContractError, match="'format'"):
        api.session.post(server.base_url + "/bulk/v1/leads.json", data={"format": "csv"},
                         files={"file": ("l.csv", "email\n", "text/csv")}, headers=headers)
    with pytest.raises(contract.ContractError, match="content type 'application/json'"):
        api.session.post(server.base_url + "/rest/asset/v1/folders.json", headers=headers, json={
            "name": "As JSON", "parent": {"id": 10, "type": "Folder"}})
    with pytest.raises(contract.ContractError, match="'lookupFeld'"):
        api.session.post(server.base_url + "/rest/v1/leads.json", json={"lookupFeld": "email", "input": []},
                         headers=headers)


@pytest.fixture(scope="module")
def server_and_tls(tls) -> Iterator[tuple[Any, Any]]:
    with serving(tls) as server:
        yield server, tls
