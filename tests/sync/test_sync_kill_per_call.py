"""kill -9 while a real ``provisioner sync`` is writing, then resume: every row is in the org exactly once,
and the resumed run sends again at most the one call (200 campaign members) that was in flight."""

from __future__ import annotations

import csv
import re
import signal
import time
from pathlib import Path

from synchelp import ServedSandbox, run_sync_cli

ROWS = 1_200
SESSION = "Kaltura Webinar 2026-12-01"
UPSERTS = "PATCH /services/data/composite/sobjects/{type}/{externalIdField}"
COLLECTION = 200  # records per sObject Collections call


def _registrations(folder: Path) -> str:
    path = folder / "kill-registrations.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "company", "session", "status", "time"])
        for i in range(ROWS):
            writer.writerow([f"kill{i:04d}@example.com", f"F{i}", f"L{i}", "Acme", SESSION, "Registered",
                             "2026-12-01T10:00:00Z"])
    return str(path)


def _members(box: ServedSandbox) -> list[str]:
    """The e-mail of the person of every CampaignMember of the session's campaign, read from the org."""
    records = box.admin("salesforce", "GET", "state")["records"]
    campaign = next(i for i, c in records["Campaign"].items() if c["Name"] == SESSION)
    people = {**records.get("Lead", {}), **records.get("Contact", {})}
    return [people[m.get("LeadId") or m.get("ContactId")]["Email"] for m in records["CampaignMember"].values()
            if m["CampaignId"] == campaign and (people.get(m.get("LeadId") or m.get("ContactId")) or {})
            .get("Email", "").startswith("kill")]


def test_kill_while_writing_resends_at_most_one_call(base_state: Path, tmp_path: Path) -> None:
    data = _registrations(tmp_path)
    box = ServedSandbox(base_state, tmp_path / "org", "--latency-ms", "40")
    try:
        proc = run_sync_cli(box.env, tmp_path, "--only", "salesforce", data=[data])
        deadline = time.monotonic() + 60
        while box.admin("salesforce", "GET", "stats")["calls"]["by_route"].get(UPSERTS, 0) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        in_org = len(_members(box))
        assert 0 < in_org < ROWS  # killed while writing the members

        again = run_sync_cli(box.env, tmp_path, "--only", "salesforce", data=[data])
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, out + err
        done = int(re.search(r"(\d+) rows read, (\d+) already done", out).group(2))  # type: ignore[union-attr]
        resent = in_org - done  # members the org had at the kill that the resumed run sent again
        assert 0 <= resent <= COLLECTION, (in_org, done)

        emails = _members(box)
        assert len(emails) == ROWS and len(set(emails)) == ROWS  # every row exactly once
        leads = [r["Email"] for r in box.admin("salesforce", "GET", "state")["records"]["Lead"].values()
                 if r["Email"].startswith("kill")]
        assert len(leads) == len(set(leads)) == ROWS  # no person created twice by the resume
    finally:
        box.stop()


def test_kill_while_a_bulk_job_is_read_back_resends_nothing(base_state: Path, tmp_path: Path) -> None:
    """Above the threshold the members go in one Bulk API 2.0 job. Killed after the org processed it but
    before the run recorded its rows, the resumed run reads the job's results (recorded in the ledger when the
    job was created) instead of uploading the rows again. The sandbox's write gate holds the reply to the
    second job's close (Leads first, then members): the org has applied the job, the run never hears of it."""
    data = _registrations(tmp_path)
    box = ServedSandbox(base_state, tmp_path / "org", "--latency-ms", "40")
    bulk = ("--only", "salesforce", "--bulk-threshold", "100")
    try:
        box.admin("salesforce", "POST", "writes", {"nth": 2, "mode": "hold_after",
                                                   "route": "PATCH /services/data/jobs/ingest"})
        proc = run_sync_cli(box.env, tmp_path, *bulk, data=[data])
        held = box.admin("salesforce", "GET", "writes?wait=25")["held"]  # returns when the close is held
        if held is None:
            proc.kill()
            raise AssertionError(f"the sync never closed a second Bulk job: {proc.communicate()}")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        box.admin("salesforce", "DELETE", "writes")
        assert len(_members(box)) == ROWS  # the org has every member; the killed run recorded none of them
        uploads = box.admin("salesforce", "GET", "stats")["calls"]["by_route"]["PUT /services/data/jobs/ingest/{id}/batches"]

        again = run_sync_cli(box.env, tmp_path, *bulk, data=[data])
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, out + err
        routes = box.admin("salesforce", "GET", "stats")["calls"]["by_route"]
        assert routes["PUT /services/data/jobs/ingest/{id}/batches"] == uploads  # no row uploaded again
        emails = _members(box)
        assert len(emails) == ROWS and len(set(emails)) == ROWS
    finally:
        box.stop()
