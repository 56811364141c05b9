"""The Kaltura export fixture syncs to both orgs; contents asserted record by record; a re-run writes nothing."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import requests
from oracle import differences, expected, org_content

from provisioner.providers.marketo.client import connect
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import Summary, run_sync

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                    "kaltura-marketo.yaml", "kaltura-sync.yaml")]
FIXTURES = Path(__file__).parent / "fixtures"
DATA = [str(FIXTURES / f"kaltura-export-{k}.csv") for k in ("registrations", "engagement", "polls")]

SESSIONS = ["Kaltura Webinar 2026-12-01", "Kaltura Webinar 2026-12-08"]
SHARED = "shared.person@example.com"  # the seed's Contact and Lead (see conftest.seed_people)


def _states(box: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    return tuple(requests.get(f"{url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
                 for url in (box.salesforce_url, box.marketo_url))  # type: ignore[return-value]


def _forget_writes(box: Sandbox) -> None:
    for url in (box.salesforce_url, box.marketo_url):
        requests.delete(f"{url}/__sandbox/writes", verify=box.ca_bundle, timeout=30).raise_for_status()


def _writes(box: Sandbox) -> dict[str, list[str]]:
    """The writes each org received since :func:`_forget_writes` (the sandbox's write log)."""
    return {name: [w["route"] for w in requests.get(f"{url}/__sandbox/writes", verify=box.ca_bundle,
                                                    timeout=30).json()["writes"]]
            for name, url in (("salesforce", box.salesforce_url), ("marketo", box.marketo_url))}


def _rows(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def synced(provisioned: tuple[Sandbox, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Sandbox, dict[str, str], Summary, Path]:
    box, ids = provisioned
    tmp = tmp_path_factory.mktemp("run")
    summary = run_sync(DATA, MANIFESTS, box.env(), ledger_path=str(tmp / "ledger.sqlite"),
                       rejects_path=str(tmp / "rejects.csv"))
    return box, ids, summary, tmp


def test_every_registration_is_a_campaign_member_with_its_latest_status(synced: Any) -> None:
    box, ids, summary, _ = synced
    conn = SalesforceConnection.from_env(box.env())
    members = conn.data.query("SELECT Id, external_id__c, CampaignId, LeadId, ContactId, Status, Campaign.Name, "
                              "Lead.Email, Contact.Email FROM CampaignMember")
    got = {(m["Campaign"]["Name"], ((m.get("Lead") or m.get("Contact")) or {})["Email"].lower()): m for m in members}
    expected: dict[tuple[str, str], str] = {}
    for r in _rows("kaltura-export-registrations.csv"):
        if "@" in r["email"] and r["status"] != "Teleported":
            expected[(r["session"], r["email"].lower())] = r["status"]  # the last row of a person wins
    assert len(members) == len(expected)  # no duplicates
    for key, status in expected.items():
        m = got[key]
        assert m["Status"] == status, key
        assert m["external_id__c"] == f"{m['CampaignId']}_{m['LeadId'] or m['ContactId']}"
    # the Contact wins over the Lead sharing its email; the converted Lead is ignored (a new Lead is made)
    shared = next(m for k, m in got.items() if k[1] == "shared.person@example.com")
    assert shared["ContactId"] == ids["contact"] and not shared["LeadId"]
    converted = next(m for k, m in got.items() if k[1] == "converted.lead@example.com")
    assert converted["LeadId"] and converted["LeadId"] != ids["converted"]
    assert any(k[1] == "o'brien@example.com" for k in got)
    assert summary.salesforce["matched Contact"] == 1
    assert summary.salesforce["created"] == len({k[1] for k in expected}) - 1


def test_new_leads_get_fallbacks_and_campaigns_get_template_statuses(synced: Any) -> None:
    box, *_ = synced
    conn = SalesforceConnection.from_env(box.env())
    leads = conn.data.query("SELECT Email, LastName, Company FROM Lead WHERE Email = 'person000@example.com'")
    assert leads == [{"Email": "person000@example.com", "LastName": "[not provided]", "Company": "[not provided]"}]
    campaigns = conn.read_campaigns(SESSIONS)
    template = conn.read_campaigns(["Kaltura Event Template"])["Kaltura Event Template"]
    for name in SESSIONS:
        assert [s["Label"] for s in campaigns[name]["statuses"]] == [s["Label"] for s in template["statuses"]]


def test_engagement_and_polls_land_once_on_their_external_ids(synced: Any) -> None:
    box, *_ = synced
    conn = SalesforceConnection.from_env(box.env())
    eng = conn.data.query("SELECT external_id__c, entry_id__c, live_minutes_viewed__c, "
                          "combined_live_engaged_play_time_ratio__c FROM UserSessionEngagement__c")
    rows = [r for r in _rows("kaltura-export-engagement.csv") if len(r["entry_id"]) <= 11
            and not r["live_minutes_viewed"].startswith("1234567890")]
    assert len(eng) == len(rows) == len({r["external_id__c"] for r in eng})
    by_entry = {r["entry_id__c"]: r for r in eng}
    for r in rows:
        assert float(by_entry[r["entry_id"]]["live_minutes_viewed__c"]) == pytest.approx(float(r["live_minutes_viewed"]))
    polls = conn.data.query("SELECT entry_id__c, poll_1_answer__c, poll_2_question__c FROM Kaltura_User_Polls__c")
    assert len(polls) == 20  # two poll rows per entry merge into one record
    assert all(p["poll_2_question__c"] == "Question 2?" for p in polls)


def test_marketo_leads_members_objects_and_activities(synced: Any) -> None:
    box, _, summary, _ = synced
    client = connect(box.env())
    emails = sorted({r["email"] for r in _rows("kaltura-export-registrations.csv") if "@" in r["email"]})
    leads = []
    for i in range(0, len(emails), 100):
        leads += client.get("/rest/v1/leads.json", {"filterType": "email",
                                                     "filterValues": ",".join(emails[i:i + 100])})
    assert len(leads) == len(emails)  # one lead per email, read through the API


def test_the_orgs_hold_exactly_what_the_input_says(synced: Any) -> None:
    """Members, leads, engagement, polls, custom object records and activities, from the sandbox's own state,
    against what the export and the manifests say (tests/sync/oracle.py, independent of the sync code)."""
    box, *_ = synced
    want = expected(DATA, existing_contacts=[SHARED], existing_leads=[SHARED])
    assert want.totals()["mk_activities"] == 60 and want.totals()["mk_objects"] == 60
    assert differences(want, org_content(*_states(box))) == []


def test_bad_rows_are_in_the_rejects_file_with_line_and_reason(synced: Any) -> None:
    *_, summary, tmp = synced
    with (tmp / "rejects.csv").open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    reasons = {(Path(r["file"]).name, r["line"]): r["reason"] for r in rejects}
    assert "Text(11)" in reasons[("kaltura-export-engagement.csv", "62")]
    assert "Number(16,2)" in reasons[("kaltura-export-engagement.csv", "63")]
    assert "Teleported" in reasons[("kaltura-export-registrations.csv", "128")]
    assert len(rejects) == 4 and summary.rejected == {"input": 4}


def test_a_second_run_writes_nothing(synced: Any) -> None:
    box, _, _, tmp = synced
    _forget_writes(box)
    again = run_sync(DATA, MANIFESTS, box.env(), ledger_path=str(tmp / "ledger.sqlite"),
                     rejects_path=str(tmp / "rejects-2.csv"))
    assert again.confirmed == {} and again.rejected == {}
    assert _writes(box) == {"salesforce": [], "marketo": []}  # every call but reads and log-ins, as the org saw it


def test_cli_dry_run_reports_matches_and_writes_nothing(provisioned: Any, tmp_path: Path) -> None:
    import subprocess
    import sys
    box, _ = provisioned
    env_file = box.write_env_file(tmp_path / "sandbox.env")
    env = dict(__import__("os").environ)
    for line in env_file.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, _, v = line.removeprefix("export ").partition("=")
            env[k.strip()] = v.strip().strip("'\"")
    _forget_writes(box)
    code = (
        "import sys; from click.testing import CliRunner; from provisioner.commands.sync import sync; "
        "r = CliRunner().invoke(sync, sys.argv[1:]); print(r.output); sys.exit(r.exit_code)")
    out = subprocess.run([sys.executable, "-c", code, *DATA, *sum((["--manifest", m] for m in MANIFESTS), []),
                          "--dry-run", "--ledger", str(tmp_path / "dry.sqlite")],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Dry run (nothing written)" in out.stdout and "matched" in out.stdout
    assert _writes(box) == {"salesforce": [], "marketo": []}  # neither org received a write


def test_a_session_campaign_left_without_its_statuses_is_completed(tmp_path) -> None:
    """A run killed between creating a session's campaign and its statuses must not strand the members."""
    from provisioner.manifest import load
    from provisioner.providers.salesforce.connection import SalesforceConnection
    from provisioner.sandbox.runtime import Sandbox
    from provisioner.sandbox.seed import channels_from_manifests
    from provisioner.sync.config import build_config
    from provisioner.sync.salesforce_sink import SalesforceSink
    from provisioner.sync.sources import Row
    from provisioner.sync.work import Item

    from synchelp import MANIFESTS

    model = load(MANIFESTS).manifests
    with Sandbox(tmp_path / "sb", marketo_channels=channels_from_manifests(model)) as box:
        conn = SalesforceConnection.from_env(box.env())
        # What the killed run left: the campaign, with only the "Sent"/"Responded" every campaign starts with.
        assert conn.data.create("Campaign", [{"Name": "Half-made Session", "Type": "Webinar"}])[0].success
        sink = SalesforceSink(conn, build_config(model, "kaltura-sync"))
        row = Row("registration", {"session": "Half-made Session"}, "x.csv", 2)
        sink.ensure_campaigns([Item("sf.member", "k", "d", row)])
        campaign_id, labels = sink.campaigns["Half-made Session"]
        assert set(model.campaign("Kaltura Event Template").labels()) <= labels
        rows = conn.data.query(f"SELECT Label FROM CampaignMemberStatus WHERE CampaignId = '{campaign_id}'")
        assert len(rows) == len({r["Label"] for r in rows})  # no status twice


def test_a_bad_setting_is_an_error_to_fix_not_a_bug_report(provisioned: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from provisioner.cli import cli
    box, _ = provisioned
    env = dict(box.env(), MARKETO_MAX_CALLS_PER_20S="lots")  # sync honours the same budget settings as apply
    result = CliRunner().invoke(cli, ["sync", *DATA, *sum((["--manifest", m] for m in MANIFESTS), []),
                                      "--ledger", str(tmp_path / "l.sqlite"), "--rejects", str(tmp_path / "r.csv")],
                                env=env)
    assert result.exit_code == 1
    assert "Error: MARKETO_MAX_CALLS_PER_20S must be a whole number, not 'lots'" in result.output
    assert "report it" not in result.output and "Traceback" not in result.output
