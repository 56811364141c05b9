"""The Sandbox runtime: env variables, call statistics, seeded faults, state file across restarts,
admin routes (never counted)."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from provisioner.http import make_session
from provisioner.sandbox.runtime import Sandbox

from .conftest import Rest, client_credentials_token, salesforce_client


def test_env_lists_exactly_the_design_variables(sandbox: Sandbox, tmp_path: Path) -> None:
    env = sandbox.env()
    assert set(env) == {"SF_LOGIN_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_CA_BUNDLE"}
    assert env["SF_LOGIN_URL"] == sandbox.salesforce_url and Path(env["SF_CA_BUNDLE"]).is_file()
    path = sandbox.write_env_file(tmp_path / "sandbox.env")
    lines = dict(line.split("=", 1) for line in path.read_text().splitlines())
    assert lines["SF_CLIENT_ID"] == sandbox.credentials.client_id
    assert path.stat().st_mode & 0o077 == 0
    # the env file is enough to log in
    http = make_session(lines["SF_CA_BUNDLE"])
    r = http.post(lines["SF_LOGIN_URL"] + "/services/oauth2/token",
                  data={"grant_type": "client_credentials", "client_id": lines["SF_CLIENT_ID"],
                        "client_secret": lines["SF_CLIENT_SECRET"]})
    assert r.status_code == 200


def test_stats_count_api_calls_by_operation_but_not_admin_routes(sandbox: Sandbox, rest: Rest, md: object) -> None:
    stats_url = sandbox.salesforce_url + "/__sandbox/stats"
    rest.http.delete(stats_url)
    rest.query("SELECT Id FROM Lead LIMIT 1")
    rest.query("SELECT Id FROM Lead LIMIT 2")
    rest("PATCH", "composite/sobjects", json={"records": []})
    md.CustomObject.read(["Lead"])  # type: ignore[attr-defined]
    rest.http.post(sandbox.salesforce_url + "/__sandbox/limits", json={})
    rest.http.get(sandbox.salesforce_url + "/__sandbox/state")
    stats = rest.http.get(stats_url).json()
    assert stats["calls"]["by_route"] == {"GET /services/data/query": 2, "PATCH /services/data/composite/sobjects": 1,
                                          "POST /services/Soap/m readMetadata": 1}
    assert stats["calls"]["total"] == 4
    assert sandbox.stats()["salesforce"]["calls"]["total"] == 4


def _outcomes(tmp_path: Path, seed: int) -> tuple[list[str], dict[str, int]]:
    with Sandbox(tmp_path / f"faults-{seed}", fault_rate=0.4, seed=seed, marketo=False) as sb:
        http = make_session(sb.ca_bundle)
        http.mount("https://", requests.adapters.HTTPAdapter(max_retries=0))
        token = None
        for _ in range(20):
            try:
                token = client_credentials_token(sb, http)
                break
            except (requests.HTTPError, requests.ConnectionError):
                continue
        assert token
        seen = []
        for _ in range(40):
            try:
                r = http.get(sb.salesforce_url + "/services/data/v59.0/limits",
                             headers={"Authorization": f"Bearer {token}"})
                code = r.json()[0]["errorCode"] if r.status_code >= 400 else "ok"
                seen.append(f"{r.status_code} {code}")
            except requests.ConnectionError:
                seen.append("dropped")
        return seen, sb.stats()["salesforce"]["faults"]["by_kind"]


def test_faults_are_reproducible_with_a_seed(tmp_path: Path) -> None:
    first, kinds = _outcomes(tmp_path, seed=7)
    again, _ = _outcomes(tmp_path, seed=7)
    other, _ = _outcomes(tmp_path, seed=8)
    assert first == again and first != other
    assert "403 REQUEST_LIMIT_EXCEEDED" in first and "500 UNKNOWN_EXCEPTION" in first
    assert "503 SERVER_UNAVAILABLE" in first and "dropped" in first and "200 ok" in first
    assert set(kinds) <= {"drop_before", "drop_after", "http_500", "http_503", "concurrent_request_limit"}


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "org.json"
    with Sandbox(state_file=state, marketo=False) as sb:
        sf = salesforce_client(sb, client_credentials_token(sb, make_session(sb.ca_bundle)))
        md = sf.mdapi
        md.CustomObject.create([md.CustomObject(
            fullName="Kept__c", label="Kept", pluralLabel="Kept", nameField=md.CustomField(label="Name", type="Text"),
            deploymentStatus="Deployed", sharingModel="ReadWrite")])
        campaign = sf.Campaign.create({"Name": "Survivor"})["id"]
        saved = make_session(sb.ca_bundle).post(sb.salesforce_url + "/__sandbox/save").json()["saved"]
        assert json.loads(Path(saved).read_text())["salesforce"]["records"]["Campaign"]
        sf.restful("sobjects/Kept__c/", method="POST", json={"Name": "after save"})  # saved on stop
    with Sandbox(state_file=state, marketo=False) as sb:
        sf = salesforce_client(sb, client_credentials_token(sb, make_session(sb.ca_bundle)))
        assert sf.Campaign.get(campaign)["Name"] == "Survivor"
        assert len(sf.query("SELECT Label FROM CampaignMemberStatus WHERE CampaignId = '%s'" % campaign)["records"]) == 2
        assert sf.query("SELECT Name FROM Kept__c")["records"][0]["Name"] == "after save"
        assert sf.mdapi.CustomObject.read(["Kept__c"]).label == "Kept"
        new_id = sf.Campaign.create({"Name": "Next"})["id"]
        assert new_id != campaign


def test_expired_sessions_must_log_in_again(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "expire", marketo=False) as sb:
        http = make_session(sb.ca_bundle)
        token = client_credentials_token(sb, http)
        rest = Rest(sb.salesforce_url, http, token)
        assert rest("GET", "limits").status_code == 200
        assert http.post(sb.salesforce_url + "/__sandbox/sessions/expire").json()["expired"] == 1
        r = rest("GET", "limits")
        assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_metadata_api_faults_are_soap_faults(tmp_path: Path) -> None:
    import zeep.exceptions

    with Sandbox(tmp_path / "soap-faults", seed=3, marketo=False) as sb:
        sf = salesforce_client(sb, client_credentials_token(sb, make_session(sb.ca_bundle)))
        md = sf.mdapi
        md.CustomObject.read(["Lead"])  # healthy first
        sb.server("salesforce").options.fault_rate = 1.0  # from now on every API call faults
        codes = set()
        for _ in range(12):
            try:
                md.CustomObject.read(["Lead"])
            except zeep.exceptions.Fault as fault:
                codes.add(fault.code)
            except requests.ConnectionError:
                codes.add("dropped")
        assert codes <= {"sf:UNKNOWN_EXCEPTION", "sf:SERVER_UNAVAILABLE", "sf:REQUEST_LIMIT_EXCEEDED", "dropped"}
        assert len(codes - {"dropped"}) >= 2
        stats = make_session(sb.ca_bundle).get(sb.salesforce_url + "/__sandbox/stats").json()
        assert stats["faults"]["total"] == 12


def test_field_added_by_hand_shows_as_drift(sandbox: Sandbox, rest: Rest, md: object) -> None:
    r = rest.http.post(sandbox.salesforce_url + "/__sandbox/fields", json={
        "object": "Campaign", "metadata": {"fullName": "Added_By_Hand__c", "label": "By hand", "type": "Text",
                                           "length": 12}})
    assert r.status_code == 200
    listed = md.list_metadata([md.ListMetadataQuery(type="CustomField")])  # type: ignore[attr-defined]
    assert "Campaign.Added_By_Hand__c" in {p.fullName for p in listed}
    assert md.CustomField.read(["Campaign.Added_By_Hand__c"]).length == 12  # type: ignore[attr-defined]
    names = {f["name"] for f in rest("GET", "sobjects/Campaign/describe").json()["fields"]}
    assert "Added_By_Hand__c" not in names  # like any new field: invisible until granted
