"""Livestorm (manifests/livestorm-sync.yaml): replay / on-demand views land in the CampaignMember's own Replay Status
field (``replay`` rows → ``sf.replay``), next to the live status; asserted record by record; a re-run writes
nothing; a later replay view changes that field alone."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

import pytest

from provisioner.manifest import load
from provisioner.plan import apply_saved_plan
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync
from provisioner.workflow import connect_session

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [str(REPO / "manifests" / n) for n in ("livestorm-salesforce.yaml", "livestorm-sync.yaml")]
LIVE, ON_DEMAND = "Livestorm Live 2026-12-01", "Livestorm On Demand 2026-12"
FIELD = "livestorm_replay_status__c"


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, str]]:
    with Sandbox(tmp_path_factory.mktemp("livestorm"), marketo=False) as sandbox:
        result = load(MANIFESTS)
        assert result.ok, [f.render() for f in result.findings]
        session = connect_session(result.manifests, result.files, sandbox.env())
        plan = session.plan()
        assert apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False).ok
        conn = SalesforceConnection.from_env(sandbox.env())
        contact = conn.data.create("Contact", [{"LastName": "Known", "Email": "known.contact@example.com"}])[0].id
        yield sandbox, str(contact)


def _members(box: Sandbox) -> dict[tuple[str, str], tuple[str, str | None, str]]:
    """``(campaign, email) → (Status, replay status, Lead|Contact)`` for every CampaignMember."""
    conn = SalesforceConnection.from_env(box.env())
    rows = conn.data.query(f"SELECT Campaign.Name, Status, {FIELD}, LeadId, ContactId, Lead.Email, Contact.Email "
                           "FROM CampaignMember")
    out: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    for r in rows:
        person = r.get("Lead") or r.get("Contact")
        key = (r["Campaign"]["Name"], person["Email"].lower())
        assert key not in out, f"duplicate CampaignMember {key}"
        out[key] = (r["Status"], r.get(FIELD), "Lead" if r.get("LeadId") else "Contact")
    return out


def _writes(box: Sandbox) -> int:
    routes = box.stats()["salesforce"]["calls"]["by_route"]
    return sum(n for r, n in routes.items() if r.split(" ")[0] in ("POST", "PATCH", "PUT", "DELETE")
               and "oauth" not in r and "token" not in r)


def test_replay_views_land_in_their_own_field_and_a_rerun_writes_nothing(box: Any, tmp_path: Path) -> None:
    sandbox, contact = box
    regs = _write(tmp_path / "livestorm-registrations.csv", ["email", "first_name", "last_name", "session", "status",
                                                              "time"], [
        {"email": "ann@example.com", "first_name": "Ann", "last_name": "Live", "session": LIVE, "status": "attended",
         "time": "2026-12-01T10:00:00Z"},
        {"email": "bob@example.com", "first_name": "Bob", "last_name": "Missed", "session": LIVE,
         "status": "not_attended", "time": "2026-12-01T10:00:00Z"},
        {"email": "known.contact@example.com", "session": LIVE, "status": "registered",
         "time": "2026-12-01T09:00:00Z"},
    ])
    replays = _write(tmp_path / "livestorm-replay.csv", ["email", "session", "status", "time"], [
        {"email": "bob@example.com", "session": LIVE, "status": "replay watched", "time": "2026-12-02T08:00:00Z"},
        {"email": "known.contact@example.com", "session": LIVE, "status": "replay watched 100%",
         "time": "2026-12-02T09:00:00Z"},
        {"email": "known.contact@example.com", "session": LIVE, "status": "replay started",  # older: loses
         "time": "2026-12-02T08:30:00Z"},
        {"email": "cy@example.com", "session": ON_DEMAND, "status": "on-demand viewed",  # replay only: new Lead
         "time": "2026-12-03T12:00:00Z"},
    ])
    args = dict(ledger_path=str(tmp_path / "ledger.sqlite"), rejects_path=str(tmp_path / "rejects.csv"))
    summary = run_sync([regs, replays], MANIFESTS, sandbox.env(), **args)
    assert summary.rejected == {}
    assert summary.confirmed == {"sf.member": 3, "sf.replay": 3}
    mine = {"ann@example.com", "bob@example.com", "known.contact@example.com", "cy@example.com"}
    assert {k: v for k, v in _members(sandbox).items() if k[1] in mine} == {  # the module's org is shared
        (LIVE, "ann@example.com"): ("Attended", None, "Lead"),
        (LIVE, "bob@example.com"): ("Not attended", "replay watched", "Lead"),
        (LIVE, "known.contact@example.com"): ("Registered", "replay watched 100%", "Contact"),
        (ON_DEMAND, "cy@example.com"): ("Registered", "on-demand viewed", "Lead"),  # the campaign's default status
    }
    conn = SalesforceConnection.from_env(sandbox.env())
    contact_member = conn.data.query("SELECT ContactId FROM CampaignMember WHERE Contact.Email = "
                                     "'known.contact@example.com'")
    assert contact_member[0]["ContactId"] == contact  # matched, not created

    before = _writes(sandbox)
    again = run_sync([regs, replays], MANIFESTS, sandbox.env(), **args)
    assert again.confirmed == {} and again.rejected == {} and again.skipped == 6
    assert _writes(sandbox) == before

    later = _write(tmp_path / "livestorm-replay-2.csv", ["email", "session", "status", "time"], [
        {"email": "ann@example.com", "session": LIVE, "status": "replay watched 50%", "time": "2026-12-04T08:00:00Z"},
    ])
    third = run_sync([regs, replays, later], MANIFESTS, sandbox.env(), **args)
    assert third.confirmed == {"sf.replay": 1}
    assert _members(sandbox)[(LIVE, "ann@example.com")] == ("Attended", "replay watched 50%", "Lead")


def test_livestorm_statuses_match_whatever_their_case(box: tuple[Sandbox, str], tmp_path: Path) -> None:
    """The export says ``Attended`` / ``NOT_ATTENDED`` where the status map says ``attended`` / ``not_attended``."""
    sandbox, _ = box
    rows = [{"email": "case.a@example.com", "session": LIVE, "status": "Attended"},
            {"email": "case.b@example.com", "session": LIVE, "status": "NOT_ATTENDED"}]
    data = _write(tmp_path / "case-registrations.csv", ["email", "session", "status"], rows)
    summary = run_sync([data], MANIFESTS, sandbox.env(), ledger_path=str(tmp_path / "l.sqlite"),
                       rejects_path=str(tmp_path / "r.csv"))
    assert summary.accounts.counts["confirmed"] == 2 and summary.accounts.read == 2
    got = _members(sandbox)
    assert got[(LIVE, "case.a@example.com")][0] == "Attended"
    assert got[(LIVE, "case.b@example.com")][0] == "Not attended"
