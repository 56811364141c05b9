"""The forecast before a sync writes: `sync --dry-run` says how many API calls the real run will use per org
and what share of what remains of the org's daily limit that is; the real run checks an upper bound of its
writes before the first and refuses with exit 3 (nothing written) unless given --ignore-limits.

The calls are counted by the sandbox (its per-route stats), never by the tool's counters; the remaining limit
is set with the sandbox's controls (Salesforce ``POST /__sandbox/limits``, Marketo through
MARKETO_DAILY_QUOTA against its usage endpoint).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

from synchelp import MANIFESTS

SF_WRITES = ("composite/sobjects", "jobs/ingest")  # every Salesforce write path of a sync
MK_WRITES = ("POST /rest/v1/", "POST /bulk/v1/")


@pytest.fixture
def box(base_state: Path, tmp_path: Path) -> Iterator[Sandbox]:
    shutil.copy(base_state, tmp_path / "state.json")
    shutil.copytree(base_state.with_name(base_state.name + ".d"), tmp_path / "state.json.d")
    with Sandbox(state_file=tmp_path / "state.json") as sandbox:
        # An import is done before its first status poll (0.3 s after it is queued): each costs 2 calls.
        sandbox.marketo_app.config.bulk_delay_s = 0.02
        yield sandbox


@pytest.fixture
def sessions(box: Sandbox, small_data: list[str], tmp_path: Path) -> None:
    """The sessions' campaigns and programs exist (the Sync manifest's policy would create them on the first run:
    that costs plan/apply calls the forecast does not count, and says so): one registration of someone not in
    the data per session, synced first."""
    with open(small_data[0], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first: dict[str, dict[str, str]] = {}
    for n, row in enumerate(rows):  # the first row of each session: the fixture's damaged rows come later
        first.setdefault(row["session"], dict(row, email=f"warm-up.{n}@example.com"))
    warm = tmp_path / "warm-up" / "registrations.csv"
    warm.parent.mkdir()
    with warm.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(first.values())
    result = sync(box, [str(warm)], warm.parent, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)["accounts"]["confirmed"] == 2, result.output


def sync(box: Sandbox, data: list[str], folder: Path, *args: str, **env: str) -> Result:
    manifests = [a for m in MANIFESTS for a in ("--manifest", m)]
    return CliRunner().invoke(cli, ["sync", *data, *manifests, "--ledger", str(folder / "ledger.sqlite"),
                                    "--rejects", str(folder / "rejects.csv"), "--quiet", *args],
                              env={**box.env(), **env}, catch_exceptions=False)


def admin(box: Sandbox, org: str, method: str, path: str, body: Any = None) -> Any:
    url = box.salesforce_url if org == "salesforce" else box.marketo_url
    reply = requests.request(method, f"{url}/__sandbox/{path}", json=body, verify=box.ca_bundle, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json() if reply.content else None


def counted(box: Sandbox) -> dict[str, dict[str, int]]:
    """Calls each org's sandbox served since its stats were last reset, by route."""
    return {org: admin(box, org, "GET", "stats")["calls"]["by_route"] for org in ("salesforce", "marketo")}


def reset(box: Sandbox) -> None:
    for org in ("salesforce", "marketo"):
        admin(box, org, "DELETE", "stats")


def writes_of(routes: dict[str, int], org: str) -> dict[str, int]:
    marks = SF_WRITES if org == "salesforce" else MK_WRITES
    return {r: n for r, n in routes.items() if any(m in r for m in marks) and not r.startswith("GET /rest")}


@pytest.mark.parametrize("threshold", ["2000", "5"], ids=["rest-sized", "bulk-sized"])
def test_dry_run_forecasts_exactly_the_calls_the_real_run_makes(box: Sandbox, small_data: list[str], sessions: None,
                                                                 tmp_path: Path, threshold: str) -> None:
    reset(box)
    dry = sync(box, small_data, tmp_path, "--dry-run", "--format", "json", "--bulk-threshold", threshold)
    assert dry.exit_code == 0, dry.output
    forecast = json.loads(dry.output)["forecast"]
    assert set(forecast) == {"salesforce", "marketo"}
    assert not any(writes_of(routes, org) for org, routes in counted(box).items())  # the dry run wrote nothing
    for org, f in forecast.items():
        assert f["exact"] is True, (f["not_counted"], f["unknown"])
        assert f["calls"] == f["reads"] + f["limit_check"] + f["writes"], org
        assert f["share"] == pytest.approx(f["calls"] / f["remaining"], 1e-4)

    reset(box)
    real = sync(box, small_data, tmp_path, "--format", "json", "--bulk-threshold", threshold)
    assert real.exit_code == 0, real.output
    calls = counted(box)
    assert {org: sum(routes.values()) for org, routes in calls.items()} == \
        {org: f["calls"] for org, f in forecast.items()}, calls
    bulk = threshold == "5"
    assert any("jobs/ingest" in r for r in calls["salesforce"]) is bulk
    assert any("/bulk/v1/" in r for r in calls["marketo"]) is bulk


def org_counts(box: Sandbox) -> dict[str, int]:
    """What the orgs hold that a sync writes, read from the sandboxes' state (not from the tool)."""
    sf = requests.get(f"{box.salesforce_url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
    mk = requests.get(f"{box.marketo_url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
    return {"sf": len(json.dumps(sf)), "mk": len(json.dumps(mk))}
