"""The sessions file's `parent` column: each session's campaign goes under the parent campaign it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.http import make_session
from provisioner.sandbox.runtime import Sandbox

from .conftest import run, write_sessions

FIELDS = ["name", "start", "end", "type", "parent"]


@pytest.fixture(autouse=True)
def repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])


def parents_in_org(box: Sandbox, names: list[str]) -> dict[str, str | None]:
    """Campaign name → its parent's name, by a REST query of our own (not the tool's reader)."""
    creds = box.credentials
    http = make_session(box.ca_bundle)
    token = http.post(f"{box.salesforce_url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": creds.client_id,
        "client_secret": creds.client_secret}).json()["access_token"]
    quoted = ", ".join("'" + n.replace("'", "\\'") + "'" for n in names)
    rows = http.get(f"{box.salesforce_url}/services/data/v60.0/query",
                    params={"q": f"SELECT Name, ParentId FROM Campaign WHERE Name IN ({quoted})"},
                    headers={"Authorization": f"Bearer {token}"}).json()["records"]
    ids = {r["Id"]: r["Name"] for r in http.get(
        f"{box.salesforce_url}/services/data/v60.0/query", params={"q": "SELECT Id, Name FROM Campaign"},
        headers={"Authorization": f"Bearer {token}"}).json()["records"]}
    return {r["Name"]: ids.get(r["ParentId"]) if r.get("ParentId") else None for r in rows}


def test_a_session_goes_under_the_parent_campaign_it_names(box: Sandbox, tmp_path: Path) -> None:
    rows = [{"name": "Parent Summit 2099", "start": "2099-06-01", "end": "2099-06-03", "type": "live", "parent": ""},
            {"name": "Parent Summit 2099: Keynote", "start": "2099-06-01T16:00:00Z", "end": "", "type": "live",
             "parent": "Parent Summit 2099"}]
    sessions = write_sessions(tmp_path / "s.csv", rows, FIELDS)
    code, out = run(box, "event", "new", "livestorm-session", "--sessions", str(sessions), "--auto-approve")
    assert code == 0, out
    assert parents_in_org(box, [r["name"] for r in rows]) == {"Parent Summit 2099": None,
                                                                "Parent Summit 2099: Keynote": "Parent Summit 2099"}


def test_a_parent_that_does_not_exist_is_named_and_nothing_is_invented(box: Sandbox, tmp_path: Path) -> None:
    rows = [{"name": "Orphan Session 2099", "start": "2099-06-05", "end": "", "type": "live",
             "parent": "No Such Summit"}]
    sessions = write_sessions(tmp_path / "s.csv", rows, FIELDS)
    code, out = run(box, "event", "new", "livestorm-session", "--sessions", str(sessions), "--auto-approve")
    assert code == 1, out
    assert "parent campaign 'No Such Summit' does not exist" in out
    assert parents_in_org(box, ["Orphan Session 2099", "No Such Summit"]) == {}
