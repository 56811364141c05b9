"""Bulk API 2.0 jobs that end Failed part-way, Aborted, or in a state the API does not document: the sync
reads what each job did, sends the rest again in a new job, and the org ends as after a clean run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from synchelp import MANIFESTS, duplicates, org_snapshot, state_copy

from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync


@pytest.mark.parametrize("states", [["Failed"], ["Aborted"], ["INVALIDJOBSTATE"], ["Failed", "Weird", "Aborted"]])
def test_jobs_in_every_state_end_like_a_clean_run(states: list[str], base_state: Path, small_data: list[str],
                                                  uninterrupted: Any, tmp_path: Path) -> None:
    expected, _ = uninterrupted
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as box:
        get = lambda w, p: requests.get(f"{w}/__sandbox/{p}", verify=box.ca_bundle, timeout=30).json()  # noqa: E731
        requests.post(f"{box.salesforce_url}/__sandbox/bulk/states", json={"states": states},
                      verify=box.ca_bundle, timeout=30).raise_for_status()
        summary = run_sync(small_data, MANIFESTS, box.env(), ledger_path=str(tmp_path / "l.sqlite"),
                           rejects_path=str(tmp_path / "r.csv"), bulk_threshold=5)
        routes = get(box.salesforce_url, "stats")["calls"]["by_route"]
        snap = org_snapshot(get(box.salesforce_url, "state"), get(box.marketo_url, "state"))
    assert routes["POST /services/data/jobs/ingest"] >= 1 + len(states)  # each odd job was followed by another
    assert summary.failed is None and summary.accounts.pending == 0
    assert summary.rejected == {"input": 6}  # only the bad input rows: nothing was lost to a job's state
    assert duplicates(snap) == {}
    for kind in expected:
        assert snap[kind] == expected[kind], kind
