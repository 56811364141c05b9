"""A run reads its whole input before writing: many more rows than a window (``--batch-rows``, which used to
cut the input into batches of their own jobs) still open exactly one Bulk API 2.0 job per object, and the
org ends with exactly what the input says. Windows of 200 rows and a threshold of 100 records stand for the
defaults (10,000 and 2,000) so the test stays fast; the code path is the same."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import requests
from make_fixture import main as make_fixture
from oracle import differences, expected, org_content

from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync

MANIFESTS = __import__("synchelp").MANIFESTS
state_copy = __import__("synchelp").state_copy
WINDOW = 200  # rows a run holds at once; a run used to open a set of jobs per batch of this many rows
THRESHOLD = 100  # records of an object in the run above which it goes in a Bulk job


def _rows(paths: list[str]) -> int:
    return sum(sum(1 for _ in open(p, encoding="utf-8")) - 1 for p in paths)


@pytest.fixture(scope="module")
def big_data(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    paths = make_fixture(n=400, folder=tmp_path_factory.mktemp("big"))
    assert _rows(paths) > 2 * WINDOW
    return paths


def test_more_rows_than_a_batch_open_one_bulk_job_per_object(base_state: Path, big_data: list[str],
                                                               tmp_path: Path) -> None:
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as box:
        summary = run_sync(big_data, MANIFESTS, box.env(), ledger_path=str(tmp_path / "l.sqlite"),
                           rejects_path=str(tmp_path / "r.csv"), targets=("salesforce",), batch_rows=WINDOW,
                           bulk_threshold=THRESHOLD)
        jobs = SalesforceConnection.from_env(box.env()).sf.restful("jobs/ingest")["records"]  # the org's own list
        state = requests.get(f"{box.salesforce_url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
        marketo = requests.get(f"{box.marketo_url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
    want = expected(big_data, existing_contacts=["shared.person@example.com"],
                    existing_leads=["shared.person@example.com"])
    records = {("Lead", "insert"): len(want.sf_new_leads), ("CampaignMember", "upsert"): len(want.sf_members),
               ("UserSessionEngagement__c", "upsert"): len(want.sf_engagement),
               ("Kaltura_User_Polls__c", "upsert"): len(want.sf_polls)}
    big = {k for k, n in records.items() if n > THRESHOLD}  # the others go in collections of 200
    assert len(big) >= 3, records
    assert Counter((j["object"], j["operation"]) for j in jobs) == dict.fromkeys(big, 1)
    assert all(j["state"] == "JobComplete" for j in jobs)
    assert [d for d in differences(want, org_content(state, marketo)) if not d.startswith("Marketo")] == []
    assert summary.accounts.adds_up() and summary.accounts.pending == 0
    assert summary.accounts.read == _rows(big_data)
