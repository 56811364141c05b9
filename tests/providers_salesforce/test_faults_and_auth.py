"""Faults converge without duplicates; every auth flow works; secrets never reach output or plan files."""

from __future__ import annotations

from pathlib import Path

import pytest
from provisioner.http import make_session
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox

from .conftest import run


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_apply_converges_under_faults_without_duplicates(tmp_path: Path, manifests: Path, seed: int) -> None:
    with Sandbox(tmp_path / "sb", marketo=False, fault_rate=0.2, seed=seed) as org:
        env = org.env()
        outputs = [run(env, "apply", str(manifests), "--auto-approve")]
        if outputs[0].exit_code != 0:  # at worst a second run
            outputs.append(run(env, "apply", str(manifests), "--auto-approve"))
        assert outputs[-1].exit_code == 0, outputs[-1].output
        assert "Traceback" not in "".join(o.output for o in outputs)
        faults = org.stats()["salesforce"]["faults"]["total"]
        assert faults > 0  # the test did meet faults
        plan = run(env, "plan", str(manifests), "--detailed-exitcode")
        assert plan.exit_code == 0, plan.output
    # Count what the org holds, straight from its state.
    state = org.salesforce_app.snapshot()
    campaigns = [r for r in _records(state, "Campaign") if r.get("Name") in ("Kaltura Event Template",
                                                                             "Livestorm Session Template")]
    assert sorted(r["Name"] for r in campaigns) == ["Kaltura Event Template", "Livestorm Session Template"]
    statuses = [(r["CampaignId"], r["Label"]) for r in _records(state, "CampaignMemberStatus")]
    assert len(statuses) == len(set(statuses))
    assignments = [(r["AssigneeId"], r["PermissionSetId"]) for r in _records(state, "PermissionSetAssignment")]
    assert len(assignments) == len(set(assignments)) >= 3


def _records(state: dict, sobject: str) -> list[dict]:
    """Records of one sObject in a sandbox snapshot, whatever the snapshot nests them under."""
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == sobject and isinstance(value, (list, dict)):
                    values = value.values() if isinstance(value, dict) else value
                    found.extend(v for v in values if isinstance(v, dict) and "Id" in v)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(state)
    return found


def _flows(org: Sandbox) -> dict[str, dict[str, str]]:
    base = {"SF_LOGIN_URL": org.salesforce_url, "SF_CA_BUNDLE": org.ca_bundle}
    creds = org.credentials
    session = make_session(org.ca_bundle)
    access = session.post(f"{org.salesforce_url}/services/oauth2/token",
                          data={"grant_type": "client_credentials", "client_id": creds.client_id,
                                "client_secret": creds.client_secret}).json()
    return {
        "client_credentials": org.env(),
        "jwt": dict(base, SF_CONSUMER_KEY=creds.consumer_key, SF_USERNAME=creds.username,
                    SF_PRIVATE_KEY_FILE=str(org.jwt.private_key)),
        "password": dict(base, SF_USERNAME=creds.username, SF_PASSWORD=creds.password,
                         SF_SECURITY_TOKEN=creds.security_token),
        "access_token": {"SF_INSTANCE_URL": access["instance_url"], "SF_ACCESS_TOKEN": access["access_token"],
                         "SF_CA_BUNDLE": org.ca_bundle},
    }


def _secrets(org: Sandbox, env: dict[str, str]) -> list[str]:
    creds = org.credentials
    key_lines = [l for l in org.jwt.private_key.read_text().splitlines() if l and "-----" not in l]
    values = [creds.password, creds.security_token, creds.client_secret, env.get("SF_ACCESS_TOKEN", "")]
    return [v for v in values + key_lines[:3] if v]


@pytest.mark.parametrize("flow", ["client_credentials", "jwt", "password", "access_token"])
def test_every_auth_flow_plans_and_applies_without_leaking_secrets(org: Sandbox, manifests: Path, tmp_path: Path,
                                                                   flow: str) -> None:
    env = _flows(org)[flow]
    assert SalesforceConnection.from_env(env).settings.flow == flow
    plan_file = tmp_path / "plan.json"
    planned = run(env, "plan", str(manifests), "--out", str(plan_file), "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    applied = run(env, "apply", str(plan_file))
    assert applied.exit_code == 0, applied.output
    text = planned.output + applied.output + plan_file.read_text() + run(env, "show", str(plan_file)).output
    for secret in _secrets(org, env):
        assert secret not in text


def test_wrong_credentials_are_named_not_printed(org: Sandbox, manifests: Path) -> None:
    env = dict(org.env(), SF_CLIENT_SECRET="not-the-secret-1234")
    result = run(env, "plan", str(manifests))
    assert result.exit_code == 1
    assert "invalid_client" in result.output and "Traceback" not in result.output
    assert "not-the-secret-1234" not in result.output
    env = dict(_flows(org)["password"], SF_PASSWORD="wrong-password-5678")
    result = run(env, "plan", str(manifests))
    assert result.exit_code == 1 and "INVALID_LOGIN" in result.output
    assert "wrong-password-5678" not in result.output


def test_missing_credentials_say_what_to_set(manifests: Path) -> None:
    result = run({"SF_LOGIN_URL": "https://127.0.0.1:9"}, "plan", str(manifests))
    assert result.exit_code == 1
    assert "no credentials in the environment" in result.output and "SF_CLIENT_ID" in result.output
    result = run({"SF_CONSUMER_KEY": "x", "SF_USERNAME": "u"}, "plan", str(manifests))
    assert "jwt flow is missing SF_PRIVATE_KEY_FILE" in result.output


def _token_requests(org: Sandbox) -> int:
    return org.stats()["salesforce"]["calls"]["by_route"].get("POST /services/oauth2/token", 0)


def _rejected(org: Sandbox, token: str) -> bool:
    """Whether the org refuses ``token`` now (checked with a raw request, not through the client)."""
    reply = make_session(org.ca_bundle).get(f"{org.salesforce_url}/services/data/v62.0/limits",
                                            headers={"Authorization": "Bearer " + token})
    return reply.status_code == 401 and reply.json()[0]["errorCode"] == "INVALID_SESSION_ID"


@pytest.mark.parametrize("how", ["expired by the admin", "its two hours passed"])
def test_expired_session_is_renewed(how: str, org: Sandbox, manifests: Path) -> None:
    conn = SalesforceConnection.from_env(org.env())
    conn.data.query("SELECT Id FROM Campaign")  # logged in, session in use
    old, logins = conn.sf.session_id, _token_requests(org)
    assert not _rejected(org, old)
    http = make_session(org.ca_bundle)
    if how == "expired by the admin":
        assert http.post(f"{org.salesforce_url}/__sandbox/sessions/expire").json()["expired"] >= 1
    else:  # the sandbox's clock moves past the session lifetime: no real wait
        http.post(f"{org.salesforce_url}/__sandbox/clock", json={"advance": 2 * 3600 + 1}).raise_for_status()
    assert _rejected(org, old)  # the expiry really happened
    assert conn.data.query("SELECT Id FROM Campaign") == []  # re-logged in transparently
    assert conn.sf.session_id != old and _token_requests(org) == logins + 1


def test_drift_reports_a_field_changed_by_hand(org: Sandbox, manifests: Path) -> None:
    env = org.env()
    assert run(env, "apply", str(manifests), "--auto-approve").exit_code == 0
    assert run(env, "drift", str(manifests)).exit_code == 0
    conn = SalesforceConnection.from_env(env)
    name = "UserSessionEngagement__c.entry_name__c"
    md = conn.metadata.read("CustomField", [name])[name]
    md["label"] = "Renamed in Setup"
    assert conn.metadata.upsert([conn.metadata.make("CustomField", **md)])[0].success
    result = run(env, "drift", str(manifests))
    assert result.exit_code == 2
    assert "~ salesforce.field.UserSessionEngagement__c.entry_name__c" in result.output
    assert 'label: "Renamed in Setup" → "entry_name"' in result.output


def test_daily_api_limit_stops_cleanly_and_a_later_run_converges(org: Sandbox, manifests: Path) -> None:
    env = org.env()
    http = make_session(org.ca_bundle)
    http.post(f"{org.salesforce_url}/__sandbox/limits", json={"api_daily_limit": 1000, "api_usage": 995})
    # --ignore-limits: past the forecast's refusal (tests/cli/test_forecast.py), into the limit mid-apply
    stopped = run(env, "apply", str(manifests), "--auto-approve", "--ignore-limits")
    assert stopped.exit_code == 3  # the exit-code table's "stopped by a daily API limit"
    assert "daily API request limit is used up" in stopped.output and "Traceback" not in stopped.output
    http.post(f"{org.salesforce_url}/__sandbox/limits", json={"api_usage": 0})  # the 24-hour window rolled over
    resumed = run(env, "apply", str(manifests), "--auto-approve")
    assert resumed.exit_code == 0, resumed.output
    assert run(env, "plan", str(manifests), "--detailed-exitcode").exit_code == 0


def test_a_dot_env_file_in_the_working_folder_is_read(org: Sandbox, manifests: Path, tmp_path: Path,
                                                       monkeypatch) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    org.write_env_file(folder / ".env")
    monkeypatch.chdir(folder)
    result = run({}, "plan", str(manifests), "--detailed-exitcode")
    assert result.exit_code == 2, result.output  # connected through .env: the empty org has changes
    assert org.credentials.client_secret not in result.output
