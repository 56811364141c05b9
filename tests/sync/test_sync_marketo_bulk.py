"""Marketo bulk imports above the threshold: leads, program members and custom object records end as through
REST (record by record), failed import rows land in the rejects file, activities stay on REST, Marketo's
10-imports queue and 10 MB file limit are kept, and a re-run writes nothing."""

from __future__ import annotations

import csv
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from oracle import differences, expected, org_content
from synchelp import MANIFESTS, state_copy

from provisioner.manifest import load
from provisioner.providers.marketo.bulk_import import BulkImporter, csv_files
from provisioner.providers.marketo.client import connect
from provisioner.providers.marketo.ratelimit import Budget
from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.config import build_config
from provisioner.sync.engine import SyncRun, run_sync
from provisioner.sync.ledger import Ledger
from provisioner.sync.marketo_sink import MarketoSink
from provisioner.sync.rejects import Rejects

DUPLICATED = "person001@example.com"
SHARED = "shared.person@example.com"  # two Marketo leads share it: Marketo refuses to pick one (1007)


@pytest.fixture()
def box(base_state: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as sandbox:
        sandbox.marketo_app.config.bulk_delay_s = 0.05
        yield sandbox


def _state(box: Sandbox, which: str) -> Any:
    url = box.salesforce_url if which == "salesforce" else box.marketo_url
    return requests.get(f"{url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()


def _routes(box: Sandbox) -> dict[str, int]:
    return box.stats()["marketo"]["calls"]["by_route"]


def test_bulk_imports_give_the_orgs_the_input_says_and_a_rerun_writes_nothing(
        box: Sandbox, small_data: list[str], tmp_path: Path) -> None:
    args = dict(ledger_path=str(tmp_path / "l.sqlite"), rejects_path=str(tmp_path / "r.csv"), bulk_threshold=2)
    summary = run_sync(small_data, MANIFESTS, box.env(), **args)
    routes = _routes(box)
    for route in ("POST /bulk/v1/leads.json", "POST /bulk/v1/program/{programId}/members/import.json",
                  "POST /bulk/v1/customobjects/{apiName}/import.json", "POST /rest/v1/activities/external.json"):
        assert routes.get(route), (route, routes)
    marketo = _state(box, "marketo")
    # every import was waited for before the run ended (the sandbox's own record of them)
    assert marketo["batches"] and {b["status"] for b in marketo["batches"].values()} == {"Complete"}
    want = expected(small_data, existing_contacts=[SHARED], existing_leads=[SHARED])
    assert differences(want, org_content(_state(box, "salesforce"), marketo)) == []
    assert summary.rejected == {"input": want.refused_rows}
    before = box.stats()["marketo"]["calls"]["total"]
    again = run_sync(small_data, MANIFESTS, box.env(), **args)
    assert again.confirmed == {} and again.rejected == {}
    writes = {r: n for r, n in _routes(box).items() if r.startswith("POST") and "oauth" not in r
              and routes.get(r) != n}
    assert writes == {}, writes
    assert box.stats()["marketo"]["calls"]["total"] - before <= 1  # at most a token


def test_rows_failed_in_an_import_are_rejected_with_marketos_reason(box: Sandbox, small_data: list[str],
                                                                     tmp_path: Path) -> None:
    client = connect(box.env())
    for _ in range(2):  # a duplicate lead made by hand: an upsert by email cannot choose between them
        client.post_json("/rest/v1/leads.json", {"action": "createDuplicate", "input": [{"email": DUPLICATED}]})
    requests.delete(f"{box.marketo_url}/__sandbox/stats", verify=box.ca_bundle, timeout=30)
    registrations = tmp_path / "regs-registrations.csv"  # registrations only: no lead id needed, all in bulk
    shutil.copy(small_data[0], registrations)
    summary = run_sync([str(registrations)], MANIFESTS, box.env(), ledger_path=str(tmp_path / "l.sqlite"),
                       rejects_path=str(tmp_path / "r.csv"), bulk_threshold=0, targets=("marketo",))
    assert box.stats()["marketo"]["calls"]["by_route"].get("POST /rest/v1/leads.json") is None  # all in bulk
    assert summary.rejected == {"input": 2, "mk.lead": 1, "mk.member": 1}
    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        rejects = [r for r in csv.DictReader(handle) if DUPLICATED in r["row"]]
    by_target = {r["target"]: r["reason"] for r in rejects}
    assert "Multiple lead" in by_target["mk.lead"]  # the reason column of the import's failures.json
    assert by_target["mk.member"] == "the Marketo lead could not be upserted"
    members = _state(box, "marketo")["members"]
    leads = {str(lid) for lid, lead in _state(box, "marketo")["leads"].items() if lead.get("email") == DUPLICATED}
    assert not any(lid in m for m in members.values() for lid in leads)


def test_the_queue_of_ten_and_the_file_limit_are_kept(box: Sandbox, small_data: list[str], tmp_path: Path) -> None:
    """Another integration fills 9 of the 10 queue places just as the sync starts importing (the sandbox
    pauses the sync's first import until they are queued): the sync's imports get 1016, wait with backoff and
    go through; files are split to stay under the size limit."""
    app = box.marketo_app
    app.config.bulk_delay_s = 0.3  # each import takes 0.3 s: the others fill the queue for a while
    config = build_config(load(MANIFESTS).manifests)
    ledger, rejects = Ledger(tmp_path / "l.sqlite"), Rejects(tmp_path / "r.csv")
    mk_client = connect(box.env(), budget=Budget(calls=10_000, window_s=20, concurrent=5))
    sink = MarketoSink(mk_client, config, ledger, bulk_threshold=0, max_file_bytes=400,
                       importer=BulkImporter(mk_client, poll_s=0.05, poll_cap_s=0.5))
    gate = f"{box.marketo_url}/__sandbox/writes"
    requests.post(gate, json={"nth": 1, "mode": "pause_before", "route": "/bulk/v1/"}, verify=box.ca_bundle,
                  timeout=10).raise_for_status()
    peak, done, problems = [0], threading.Event(), []

    def other_integration() -> None:  # queues 9 imports while the sync's first is paused, then watches the queue
        try:
            held = requests.get(gate, params={"wait": 30}, verify=box.ca_bundle, timeout=40).json()["held"]
            assert held and "/bulk/v1/" in held["route"], held  # the sync's first import, not yet queued
            client = connect(box.env())
            for i in range(9):
                client.post_multipart("/bulk/v1/leads.json",
                                      {"file": ("o.csv", f"email\nother{i}@example.com\n", "text/csv")},
                                      params={"format": "csv"})
            requests.post(f"{gate}/release", verify=box.ca_bundle, timeout=10)
            while not done.wait(0.01):  # the sandbox's queue, sampled while the sync runs
                with app.lock:
                    active = sum(b["status"] in ("Queued", "Importing") for b in app.state["batches"].values())
                peak[0] = max(peak[0], active)
        except BaseException as exc:  # noqa: BLE001 - reported below
            problems.append(exc)
            requests.post(f"{gate}/release", verify=box.ca_bundle, timeout=10)

    other = threading.Thread(target=other_integration)
    other.start()
    try:
        summary = SyncRun(config, ledger, rejects, marketo=sink).run(small_data)
    finally:
        done.set()
        other.join(60)
        ledger.close()
        rejects.close()
    assert problems == []
    assert mk_client.retried["1016"] > 0  # the queue was full: waited, not failed
    assert peak[0] == 10  # full, never over
    assert not summary.failed and not summary.stopped
    assert summary.rejected == {"input": 6}
    imports = _routes(box)["POST /bulk/v1/customobjects/{apiName}/import.json"]
    assert imports > 1  # 400-byte files: the records went in several imports
    got = org_content(_state(box, "salesforce"), _state(box, "marketo"))
    assert {e for e in got.mk_leads if e.startswith("other")} == {f"other{i}@example.com" for i in range(9)}
    for i in range(9):  # the other integration's leads are not the sync's business
        del got.mk_leads[f"other{i}@example.com"]
    want = expected(small_data, existing_contacts=[SHARED], existing_leads=[SHARED])
    assert [p for p in differences(want, got) if p.startswith("Marketo")] == []  # a Marketo-only run


def test_csv_files_split_under_the_limit_and_keep_every_row() -> None:
    rows = [{"email": f"p{i}@example.com", "n": str(i)} for i in range(100)]
    files = list(csv_files(["email", "n"], rows, max_bytes=256))
    assert len(files) > 5 and sum(n for _, n in files) == 100
    assert all(len(data) < 256 and data.startswith(b"email,n\n") for data, _ in files)
    back = [r for data, _ in files for r in csv.DictReader(data.decode().splitlines())]
    assert back == rows
    with pytest.raises(ValueError):
        list(csv_files(["email"], [{"email": "x" * 300}], max_bytes=256))
