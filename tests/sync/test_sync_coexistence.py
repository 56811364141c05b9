"""Every shipped manifest applied to one org, then every shipped Sync run on its example data: each valid row
ends in the org (asserted by querying it), nothing is pending, only the examples' deliberately bad rows are
rejected. Before, a Livestorm sync created Leads and then had every CampaignMember rejected with
REQUIRED_FIELD_MISSING external_id__c, which the Kaltura manifest made required."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import yaml

from provisioner.manifest import load
from provisioner.plan import apply_saved_plan
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.seed import channels_from_manifests
from provisioner.sync.engine import run_sync
from provisioner.workflow import connect_session

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "manifests"
SYNCS = sorted(SHIPPED.glob("*-sync.yaml"))


def _sync_spec(path: Path) -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all(path.read_text("utf-8")) if d and d.get("kind") == "Sync")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One org with every shipped manifest applied (plan, then apply, as a user would)."""
    result = load([str(SHIPPED)])
    assert result.ok, [f.render() for f in result.findings]
    with Sandbox(tmp_path_factory.mktemp("all"), marketo_channels=channels_from_manifests(result.manifests)) as box:
        session = connect_session(result.manifests, result.files, box.env())
        plan = session.plan()
        report = apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False)
        assert report.ok, [(r.address, r.message) for r in report.failed]
        yield box


def test_there_is_a_shipped_sync_per_example() -> None:
    assert {_sync_spec(p)["spec"]["source"]["platform"] for p in SYNCS} == {"kaltura", "livestorm"}


@pytest.mark.parametrize("sync_file", SYNCS, ids=lambda p: p.stem)
def test_each_shipped_sync_confirms_every_valid_example_row(org: Sandbox, sync_file: Path, tmp_path: Path) -> None:
    doc = _sync_spec(sync_file)
    spec = doc["spec"]
    examples = REPO / "examples" / f"{spec['source']['platform']}-export"
    data = sorted(str(p) for p in examples.glob("*.csv"))
    summary = run_sync(data, [str(SHIPPED)], org.env(), sync_name=doc["metadata"]["name"],
                       ledger_path=str(tmp_path / "l.sqlite"), rejects_path=str(tmp_path / "r.csv"))
    assert summary.failed is None and summary.stopped is None and summary.accounts.pending == 0

    # Expected from the example file and the manifest's status map, without the code under test.
    status_map = {m["source"]: m.get("salesforce") for m in spec["statusMap"]}
    expected = {(r["session"], r["email"].lower()): status_map[r["status"]]
                for r in _rows(examples / "registrations.csv") if status_map.get(r["status"])}
    bad = len(_rows(examples / "registrations.csv")) - len(expected)
    external = spec["salesforce"].get("campaignMemberExternalId", "external_id") + "__c"
    conn = SalesforceConnection.from_env(org.env())
    sessions = sorted({s for s, _ in expected})
    members = conn.data.query(
        f"SELECT Campaign.Name, Status, {external}, Lead.Email, Contact.Email FROM CampaignMember WHERE Campaign.Name "
        f"IN ({', '.join(repr(s) for s in sessions)})")
    got: dict[tuple[str, str], str] = {}
    for m in members:
        person = m.get("Lead") or m.get("Contact")
        key = (m["Campaign"]["Name"], person["Email"].lower())
        assert key not in got, f"duplicate member {key}"
        assert m[external], key  # the sync's own key is filled
        got[key] = m["Status"]
    assert got == expected
    assert sum(summary.rejected.values()) <= bad + sum(  # only the examples' deliberately bad rows
        1 for p in data for r in _rows(Path(p)) if "entry_id" in r and len(r["entry_id"]) > 11)
    if spec.get("marketo"):
        leads = requests.get(f"{org.marketo_url}/__sandbox/state", verify=org.ca_bundle, timeout=30).json()["leads"]
        assert {e for _, e in expected} <= {str(l.get("email")).lower() for l in leads.values()}
