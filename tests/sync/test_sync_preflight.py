"""Preflight against the org and stop on systemic errors: a sync the org would reject wholesale is refused
before anything is written, naming object and field, with exit 1; a field made required in the middle of a
run stops it after the one call that hit it, instead of failing every remaining row one by one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

import pytest
import requests
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.manifest import load
from provisioner.plan import apply_saved_plan
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync
from provisioner.workflow import connect_session

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [str(REPO / "manifests" / n) for n in ("livestorm-salesforce.yaml", "livestorm-sync.yaml")]
EXAMPLES = sorted(str(p) for p in (REPO / "examples" / "livestorm-export").glob("*.csv"))
UPSERTS = "PATCH /services/data/composite/sobjects/{type}/{externalIdField}"


def _apply(box: Sandbox) -> None:
    result = load(MANIFESTS)
    session = connect_session(result.manifests, result.files, box.env())
    plan = session.plan()
    assert apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False).ok


def _add_required_field(box: Sandbox, name: str) -> None:
    """An admin adds a required field to CampaignMember in Setup (another integration's, say)."""
    requests.post(f"{box.salesforce_url}/__sandbox/fields", verify=box.ca_bundle, timeout=30, json={
        "object": "CampaignMember", "metadata": {"fullName": name, "type": "Text", "length": 20, "label": name,
                                                 "required": True}}).raise_for_status()


def _sync_cli(box: Sandbox, tmp: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sync", *EXAMPLES, *sum((["--manifest", m] for m in MANIFESTS), []),
                                      "--ledger", str(tmp / "l.sqlite"), "--rejects", str(tmp / "r.csv"), *extra],
                                env=box.env())
    return result.exit_code, result.output


def _leads(box: Sandbox) -> int:
    return SalesforceConnection.from_env(box.env()).data.count("SELECT COUNT() FROM Lead")


@pytest.fixture()
def box(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", marketo=False) as sandbox:
        yield sandbox


def test_a_required_field_the_sync_does_not_fill_is_refused_before_any_write(box: Sandbox, tmp_path: Path) -> None:
    _apply(box)
    _add_required_field(box, "Region__c")
    code, out = _sync_cli(box, tmp_path)
    assert code == 1, out
    assert "CampaignMember.Region__c" in out and "requires" in out
    assert _leads(box) == 0  # refused before creating anybody: no orphans


def test_a_field_the_org_lacks_is_refused_naming_it(box: Sandbox, tmp_path: Path) -> None:
    code, out = _sync_cli(box, tmp_path)  # nothing applied: the sync's own key field is not in the org
    assert code == 1, out
    assert "CampaignMember.livestorm_member_key__c" in out
    assert _leads(box) == 0


def test_a_field_made_required_mid_run_stops_after_one_call(box: Sandbox, tmp_path: Path) -> None:
    _apply(box)
    data = tmp_path / "livestorm-registrations.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "last_name", "session", "status"])
        for i in range(1_000):
            writer.writerow([f"mid{i:04d}@example.com", f"L{i}", "Livestorm Mid Run", "registered"])
    calls: list[int] = []

    def admin_acts(_summary: object) -> None:  # after the first call of 200 members, the admin adds a required field
        upserts = box.stats()["salesforce"]["calls"]["by_route"].get(UPSERTS, 0)
        if upserts and not calls:
            _add_required_field(box, "Added_Mid_Run__c")
            calls.append(upserts)

    summary = run_sync([str(data)], MANIFESTS, box.env(), ledger_path=str(tmp_path / "l.sqlite"),
                       rejects_path=str(tmp_path / "r.csv"), batch_rows=200, progress=admin_acts)
    assert summary.failed and "REQUIRED_FIELD_MISSING" in summary.failed and "CampaignMember" in summary.failed
    # The run read all 1,000 rows first: the 800 not written are pending, not rejected (a re-run after the fix sends them).
    assert summary.accounts.pending == 800 and summary.rejected == {}
    assert box.stats()["salesforce"]["calls"]["by_route"][UPSERTS] == 2  # the first batch's, and the one that hit it
    members = SalesforceConnection.from_env(box.env()).data.count("SELECT COUNT() FROM CampaignMember")
    assert members == 200
