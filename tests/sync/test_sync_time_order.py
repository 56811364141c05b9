"""Among rows of one key the latest ``time`` wins, not file order: within a file, and across runs (the ledger
keeps the winning row's time)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

import pytest
from synchelp import MANIFESTS, state_copy

from provisioner.providers.marketo.client import connect
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync
from provisioner.sync.sources import Row
from provisioner.sync.engine import row_time

SESSION = "Kaltura Webinar 2026-12-01"
WHO = "time.order@example.com"
COLUMNS = ["email", "first_name", "last_name", "company", "title", "session", "status", "time"]


def _write(path: Path, rows: list[dict[str, str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows({"last_name": "Order", "company": "Clock", "title": "", "session": SESSION, **r} for r in rows)
    return str(path)


@pytest.fixture()
def box(base_state: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as sandbox:
        yield sandbox


def _salesforce(box: Sandbox) -> tuple[str, str]:
    conn = SalesforceConnection.from_env(box.env())
    members = conn.data.query(f"SELECT Status, Lead.FirstName FROM CampaignMember WHERE Lead.Email = '{WHO}'")
    assert len(members) == 1
    return members[0]["Status"], members[0]["Lead"]["FirstName"]


def _marketo_first_name(box: Sandbox) -> str:
    leads = connect(box.env()).get("/rest/v1/leads.json", {"filterType": "email", "filterValues": WHO,
                                                            "fields": "email,firstName"})
    assert len(leads) == 1
    return str(leads[0]["firstName"])


def test_the_latest_time_wins_in_a_file_and_across_runs(box: Sandbox, tmp_path: Path) -> None:
    run: Any = lambda name, rows: run_sync(  # noqa: E731
        [_write(tmp_path / f"{name}-registrations.csv", rows)], MANIFESTS, box.env(),
        ledger_path=str(tmp_path / "ledger.sqlite"), rejects_path=str(tmp_path / f"{name}-rejects.csv"))
    first = run("first", [
        {"email": WHO, "first_name": "New", "status": "Attended", "time": "2026-12-01T11:00:00Z"},
        {"email": WHO.upper(), "first_name": "Old", "status": "Registered", "time": "2026-12-01T09:00:00Z"},
    ])  # the older row comes later in the file (and its e-mail in capitals: the same key)
    assert not first.rejected and first.confirmed["sf.member"] == 1
    assert _salesforce(box) == ("Attended", "New")
    assert _marketo_first_name(box) == "New"

    older = run("older", [{"email": WHO, "first_name": "Older", "status": "Invited",
                           "time": "2026-12-01T10:59:59+00:00"}])  # a later file, an earlier time
    assert older.confirmed == {} and older.superseded == 3  # sf.member, mk.lead, mk.member
    assert _salesforce(box) == ("Attended", "New")
    assert _marketo_first_name(box) == "New"

    newer = run("newer", [{"email": WHO, "first_name": "Newest", "status": "Participated",
                           "time": "2026-12-01T13:00:00+01:00"}])  # 12:00 UTC: later
    assert newer.superseded == 0 and newer.confirmed["sf.member"] == 1
    assert _salesforce(box) == ("Participated", "Newest")
    assert _marketo_first_name(box) == "Newest"


def test_row_time_reads_iso_8601_and_falls_back_to_file_order() -> None:
    at = lambda t: row_time(Row("registration", {"time": t}, "f", 2))  # noqa: E731
    assert at("2026-12-01T11:00:00Z") == at("2026-12-01T12:00:00+01:00") == at("2026-12-01T11:00:00")
    assert at("2026-12-01T11:00:00.5Z") > at("2026-12-01T11:00:00Z")
    assert at("") is None and at("yesterday") is None
