"""The accounting line adds up in every ending: a run stopped by Marketo's daily quota says how many rows are
pending (and exits 3), the re-run confirms exactly those, and the org holds each row once."""

from __future__ import annotations

import shutil
from pathlib import Path

import requests

from conftest import manifests_channels
from damage import HEADER, accounts_add_up, members, reg, run
from provisioner.providers.marketo.client import connect
from provisioner.sandbox.runtime import Sandbox
from synchelp import MANIFESTS

EMAILS = [f"acct{i:02d}@example.com" for i in range(30)]


def test_a_quota_stop_leaves_pending_rows_and_the_rerun_settles_them(base_state: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    shutil.copy(base_state, state)
    data = tmp_path / "a-registrations.csv"
    data.write_text("\n".join([HEADER, *(reg(e, session="Acct Webinar") for e in EMAILS), reg("broken")]) + "\n",
                    "utf-8")
    with Sandbox(state_file=state, marketo_channels=manifests_channels()) as box:
        def quota(n: int) -> None:
            requests.post(f"{box.marketo_url}/__sandbox/limits", json={"daily_quota": n},
                          verify=box.ca_bundle).raise_for_status()
        quota(8)  # runs out in the middle of the Marketo writes
        code, first, text = run(box, tmp_path, [data], MANIFESTS, "--batch-rows", "10")
        assert code == 3, text
        a = first["accounts"]
        assert accounts_add_up(first) and a["pending"] > 0 and a["read"] <= len(EMAILS) + 1
        quota(50_000)
        code, second, text = run(box, tmp_path, [data], MANIFESTS, "--batch-rows", "10")
        assert code == 0, text
        b = second["accounts"]
        assert accounts_add_up(second) and b["read"] == len(EMAILS) + 1 and b["pending"] == 0
        assert b["unchanged"] == a["confirmed"] + a["rejected"]  # what the first run settled is not sent again
        assert b["rejected"] + b["unchanged"] >= 1
        assert sorted(members(box, EMAILS)) == EMAILS  # every row once in Salesforce ...
        client = connect(box.env())
        leads = client.get("/rest/v1/leads.json", {"filterType": "email", "filterValues": ",".join(EMAILS)})
        assert sorted(lead["email"] for lead in leads) == EMAILS  # ... and in Marketo
