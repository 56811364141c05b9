"""What a user sees across runs: bad rows rejected once (file, line, reason) and skipped afterwards; a dry run
records nothing; activities whose reply was lost are read back, not sent twice. In-process runs against the
sandbox, fast enough for the mutation-testing selection."""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from oracle import differences, expected, org_content
from synchelp import BATCH, MANIFESTS, run_sync_cli, state_copy

from provisioner.providers.marketo.client import connect
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync

WHO = "rerun.person@example.com"
SHARED = "shared.person@example.com"
COLUMNS = ["email", "first_name", "last_name", "company", "title", "session", "status", "time"]
ROWS = [{"email": WHO, "status": "Attended"},
        {"email": "teleported@example.com", "status": "Teleported"},  # not in the status map
        {"email": "nobody", "status": "Registered"}]  # not an e-mail address


@pytest.fixture()
def box(base_state: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as sandbox:
        yield sandbox


def _registrations(path: Path) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows({"first_name": "Re", "last_name": "Run", "company": "Co", "title": "",
                          "session": "Kaltura Webinar 2026-12-01", "time": "2026-12-01T10:00:00Z", **r} for r in ROWS)
    return str(path)


def _state(box: Sandbox, which: str) -> Any:
    url = box.salesforce_url if which == "salesforce" else box.marketo_url
    return requests.get(f"{url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()


def _members_of(box: Sandbox, email: str) -> list[str]:
    records = _state(box, "salesforce")["records"]
    leads = {i for i, r in records["Lead"].items() if r.get("Email") == email}
    return [m["Status"] for m in records.get("CampaignMember", {}).values() if m.get("LeadId") in leads]


def _rejects(path: Path) -> list[tuple[str, str, str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(Path(r["file"]).name, r["line"], r["target"], r["reason"]) for r in csv.DictReader(handle)]


def test_bad_rows_are_rejected_once_and_a_rerun_skips_every_row(box: Sandbox, tmp_path: Path) -> None:
    data = [_registrations(tmp_path / "x-registrations.csv")]
    ledger = tmp_path / "ledger.sqlite"
    first = run_sync(data, MANIFESTS, box.env(), ledger_path=str(ledger), rejects_path=str(tmp_path / "r1.csv"),
                     targets=("salesforce",))
    assert (first.rows, first.skipped, first.rejected, first.confirmed) == (3, 0, {"input": 2}, {"sf.member": 1})
    assert (first.rejects_file, first.ledger_file) == (str(tmp_path / "r1.csv"), str(ledger))
    [teleported, nobody] = _rejects(tmp_path / "r1.csv")
    assert teleported[:3] == ("x-registrations.csv", "3", "all") and "'Teleported'" in teleported[3]
    assert nobody[:3] == ("x-registrations.csv", "4", "all") and "'nobody'" in nobody[3]
    assert _members_of(box, WHO) == ["Attended"]
    assert _state(box, "marketo")["leads"] == {}  # --only salesforce: nothing sent to Marketo

    again = run_sync(data, MANIFESTS, box.env(), ledger_path=str(ledger), rejects_path=str(tmp_path / "r2.csv"),
                     targets=("salesforce",))
    assert (again.rows, again.skipped, again.rejected, again.confirmed) == (3, 3, {}, {})
    assert not (tmp_path / "r2.csv").exists()  # nothing rejected twice: the rejects are in the first file
    assert _members_of(box, WHO) == ["Attended"]


def test_a_dry_run_records_nothing(box: Sandbox, tmp_path: Path) -> None:
    data = [_registrations(tmp_path / "x-registrations.csv")]
    ledger = tmp_path / "ledger.sqlite"
    dry = run_sync(data, MANIFESTS, box.env(), ledger_path=str(ledger), rejects_path=str(tmp_path / "r0.csv"),
                   dry_run=True, targets=("salesforce",))
    assert dry.dry_run and dry.rows == 3 and dry.rejected == {"input": 2}
    assert not (tmp_path / "r0.csv").exists() and _members_of(box, WHO) == []
    real = run_sync(data, MANIFESTS, box.env(), ledger_path=str(ledger), rejects_path=str(tmp_path / "r1.csv"),
                    targets=("salesforce",))
    assert (real.skipped, real.rejected, real.confirmed) == (0, {"input": 2}, {"sf.member": 1})
    assert len(_rejects(tmp_path / "r1.csv")) == 2 and _members_of(box, WHO) == ["Attended"]


def test_activities_whose_reply_was_lost_are_read_back_not_sent_twice(box: Sandbox, small_data: list[str],
                                                                     tmp_path: Path) -> None:
    gate = f"{box.marketo_url}/__sandbox/writes"
    requests.post(gate, json={"nth": 1, "mode": "drop_after", "route": "activities/external.json"},
                  verify=box.ca_bundle, timeout=10).raise_for_status()
    args = dict(ledger_path=str(tmp_path / "ledger.sqlite"))
    runs = [run_sync(small_data, MANIFESTS, box.env(), rejects_path=str(tmp_path / "r1.csv"), **args)]
    log = requests.get(gate, verify=box.ca_bundle, timeout=10).json()["writes"]
    assert [w["state"] for w in log if "activities" in w["route"]][0] == "applied, reply dropped"
    while runs[-1].failed and len(runs) < 3:  # the run may stop at the unknown outcome: the next continues
        runs.append(run_sync(small_data, MANIFESTS, box.env(), rejects_path=str(tmp_path / "r2.csv"), **args))
    assert not runs[-1].failed
    want = expected(small_data, existing_contacts=[SHARED], existing_leads=[SHARED])
    assert differences(want, org_content(_state(box, "salesforce"), _state(box, "marketo"))) == []


def test_activities_in_flight_when_a_run_was_killed_are_read_back_by_the_next_run(
        box: Sandbox, small_data: list[str], tmp_path: Path) -> None:
    """A real ``provisioner sync`` is killed with its first activities call applied and the reply held (the
    ledger says 'sent'); the next run reads them back from Marketo instead of adding them again."""
    gate = f"{box.marketo_url}/__sandbox/writes"
    requests.post(gate, json={"nth": 1, "mode": "hold_after", "route": "activities/external.json"},
                  verify=box.ca_bundle, timeout=10).raise_for_status()
    proc = run_sync_cli({**os.environ, **box.env()}, tmp_path, *BATCH, data=small_data)
    held = requests.get(gate, params={"wait": 25}, verify=box.ca_bundle, timeout=30).json()["held"]
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert held and held["state"] == "applied, reply held"
    in_flight = len(_state(box, "marketo")["activities"])
    assert in_flight > 0  # the killed run's activities are in Marketo
    requests.post(f"{gate}/release", verify=box.ca_bundle, timeout=10)
    requests.delete(gate, verify=box.ca_bundle, timeout=10)
    summary = run_sync(small_data, MANIFESTS, box.env(), ledger_path=str(tmp_path / "ledger.sqlite"),
                       rejects_path=str(tmp_path / "r2.csv"))
    assert not summary.failed
    want = expected(small_data, existing_contacts=[SHARED], existing_leads=[SHARED])
    assert differences(want, org_content(_state(box, "salesforce"), _state(box, "marketo"))) == []
    assert summary.confirmed.get("mk.activity", 0) == sum(want.mk_activities.values()) - in_flight


def test_a_row_marketo_refuses_is_rejected_with_marketos_reason_and_not_sent_again(box: Sandbox,
                                                                                  tmp_path: Path) -> None:
    client = connect(box.env())
    for _ in range(2):  # two leads share the e-mail: Marketo will not pick one (1007)
        client.post_json("/rest/v1/leads.json", {"action": "createDuplicate", "input": [{"email": WHO}]})
    data = [_registrations(tmp_path / "x-registrations.csv")]
    args = dict(ledger_path=str(tmp_path / "ledger.sqlite"), targets=("marketo",))
    first = run_sync(data, MANIFESTS, box.env(), rejects_path=str(tmp_path / "r1.csv"), **args)
    assert first.rejected == {"input": 2, "mk.lead": 1, "mk.member": 1}
    by_target = {target: reason for _, _, target, reason in _rejects(tmp_path / "r1.csv") if target != "all"}
    assert set(by_target) == {"mk.lead", "mk.member"} and "Multiple lead" in by_target["mk.lead"]
    assert by_target["mk.member"] == "the Marketo lead could not be upserted"
    again = run_sync(data, MANIFESTS, box.env(), rejects_path=str(tmp_path / "r2.csv"), **args)
    assert (again.rejected, again.confirmed, again.skipped) == ({}, {}, 4)  # 2 bad rows, lead and member
    assert not (tmp_path / "r2.csv").exists()
