"""Above the threshold Salesforce writes go through Bulk API 2.0 jobs and end the same as through collections."""

from __future__ import annotations

from pathlib import Path

import requests
from oracle import differences, expected, org_content

from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync

MANIFESTS = __import__("synchelp").MANIFESTS
state_copy = __import__("synchelp").state_copy


def test_bulk_jobs_give_the_orgs_the_input_says(base_state: Path, small_data: list[str], tmp_path: Path) -> None:
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as box:
        summary = run_sync(small_data, MANIFESTS, box.env(), ledger_path=str(tmp_path / "l.sqlite"),
                           rejects_path=str(tmp_path / "r.csv"), bulk_threshold=5)
        routes = box.stats()["salesforce"]["calls"]["by_route"]
        get = lambda w: requests.get(f"{w}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()  # noqa: E731
        got = org_content(get(box.salesforce_url), get(box.marketo_url))
    assert any("jobs/ingest" in r for r in routes), routes
    assert not any("composite/sobjects/CampaignMember" in r for r in routes)
    want = expected(small_data, existing_contacts=["shared.person@example.com"],
                    existing_leads=["shared.person@example.com"])
    assert differences(want, got) == []
    assert summary.rejected == {"input": want.refused_rows}  # 4 bad rows, and 2 polls of the too-long entry
