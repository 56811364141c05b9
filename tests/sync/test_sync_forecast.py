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
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

from sandbox_stats import admin, counted, reset
from synchelp import MANIFESTS, state_copy

SF_WRITES = ("composite/sobjects", "jobs/ingest")  # every Salesforce write path of a sync
MK_WRITES = ("POST /rest/v1/", "POST /bulk/v1/")


@pytest.fixture
def box(base_state: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(state_file=state_copy(base_state, tmp_path)) as sandbox:
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


def writes_of(routes: dict[str, int], org: str) -> dict[str, int]:
    marks = SF_WRITES if org == "salesforce" else MK_WRITES
    return {r: n for r, n in routes.items() if any(m in r for m in marks) and not r.startswith("GET /rest")}


@pytest.mark.parametrize("threshold,window", [("2000", "10000"), ("5", "10000"), ("5", "7")],
                         ids=["rest-sized", "bulk-sized", "bulk-sized-many-windows"])
def test_dry_run_forecasts_exactly_the_calls_the_real_run_makes(box: Sandbox, small_data: list[str], sessions: None,
                                                                 tmp_path: Path, threshold: str, window: str) -> None:
    # Many windows: a big input is read 10,000 rows at a time (--batch-rows); the real run still sends one
    # Bulk job per object and one import per member group, and matches across windows: so must the forecast.
    reset(box)
    dry = sync(box, small_data, tmp_path, "--dry-run", "--format", "json", "--bulk-threshold", threshold,
               "--batch-rows", window)
    assert dry.exit_code == 0, dry.output
    forecast = json.loads(dry.output)["forecast"]
    assert set(forecast) == {"salesforce", "marketo"}
    assert not any(writes_of(routes, org) for org, routes in counted(box).items())  # the dry run wrote nothing
    bulk = threshold == "5"
    # Bulk-sized, Marketo imports program members run-wide: small member groups then need the ids of leads the
    # lead import wrote, read back by REST, which the forecast says it does not count.
    inexact = {"marketo"} if bulk else set()
    for org, f in forecast.items():
        assert f["exact"] is (org not in inexact), (f["not_counted"], f["unknown"])
        assert ("lead ids" in (f["not_counted"] or "")) is (org in inexact)
        assert f["calls"] == f["reads"] + f["limit_check"] + f["writes"], org
        assert f["share"] == pytest.approx(f["calls"] / f["remaining"], 1e-4)

    reset(box)
    real = sync(box, small_data, tmp_path, "--format", "json", "--bulk-threshold", threshold, "--batch-rows", window)
    assert real.exit_code == 0, real.output
    calls = counted(box)
    made = {org: sum(routes.values()) for org, routes in calls.items()}
    for org, f in forecast.items():
        if org in inexact:  # more than forecast by lead upserts only, at most one for each of them
            assert 0 <= made[org] - f["calls"] <= calls[org].get("POST /rest/v1/leads.json", 0), calls
        else:
            assert made[org] == f["calls"], calls
    assert any("jobs/ingest" in r for r in calls["salesforce"]) is bulk
    assert any("/bulk/v1/" in r for r in calls["marketo"]) is bulk
    # Salesforce's remaining limit comes from the Sforce-Limit-Info header of the run's first read; Marketo
    # states it only through its usage endpoint: one call.
    assert "GET /services/data/limits" not in calls["salesforce"] and forecast["salesforce"]["limit_check"] == 0
    assert calls["marketo"]["GET /rest/v1/stats/usage.json"] == 1 and forecast["marketo"]["limit_check"] == 1


@pytest.mark.parametrize("threshold", ["2000", "5"], ids=["rest-sized", "bulk-sized"])
def test_the_forecast_counts_members_that_exist_already_sent_again_without_their_create_only_fields(
        box: Sandbox, small_data: list[str], sessions: None, tmp_path: Path, threshold: str) -> None:
    """A run without its ledger (a new machine, a deleted folder) sends every row again: Salesforce refuses
    CampaignId on a member that exists, so each call holding one is followed by one without it."""
    assert sync(box, small_data, tmp_path, "--bulk-threshold", threshold).exit_code == 0
    again = tmp_path / "new-ledger"
    again.mkdir()
    reset(box)
    dry = sync(box, small_data, again, "--dry-run", "--format", "json", "--bulk-threshold", threshold)
    forecast = json.loads(dry.output)["forecast"]
    reset(box)
    real = sync(box, small_data, again, "--format", "json", "--bulk-threshold", threshold)
    assert real.exit_code == 0, real.output
    calls = counted(box)
    made = {org: sum(routes.values()) for org, routes in calls.items()}
    for org, f in forecast.items():  # bulk-sized, the figures say what they leave out, and are then a floor
        assert f["exact"] is (threshold == "2000"), f
        assert made[org] == f["calls"] if f["exact"] else made[org] >= f["calls"], calls
    # three objects upserted (members, engagement, polls), and the members once more without CampaignId
    sent = calls["salesforce"]["PATCH /services/data/composite/sobjects/{type}/{externalIdField}"] \
        if threshold == "2000" else calls["salesforce"]["POST /services/data/jobs/ingest"]  # everyone matched now
    assert sent == 4, calls


def org_content(box: Sandbox) -> dict[str, Any]:
    """What the orgs hold that a sync writes, read from the sandboxes' state (not from the tool)."""
    sf = requests.get(f"{box.salesforce_url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
    mk = requests.get(f"{box.marketo_url}/__sandbox/state", verify=box.ca_bundle, timeout=30).json()
    return {"salesforce": sf["records"], **{k: mk[k] for k in ("leads", "members", "customObjects", "activities")}}


def members(box: Sandbox) -> int:
    return len(org_content(box)["salesforce"].get("CampaignMember") or {})


def left(box: Sandbox) -> int:
    limits = admin(box, "salesforce", "POST", "limits", {})
    return int(limits["api_daily_limit"]) - int(limits["api_usage"])


def test_over_the_limit_refuses_with_exit_3_before_writing_unless_told_to_ignore_it(
        box: Sandbox, small_data: list[str], sessions: None, tmp_path: Path) -> None:
    reset(box)
    exact = json.loads(sync(box, small_data, tmp_path, "--dry-run", "--format", "json").output)["forecast"]
    calls = exact["salesforce"]["calls"]  # the login, the reads and writes of the run (the limit: from a header)
    assert exact["salesforce"]["limit_check"] == 0
    spent = sum(counted(box)["salesforce"].values())  # what the dry run itself costs before its limit check

    # Room for the dry run's own reads, then 3 calls short of the real run's.
    admin(box, "salesforce", "POST", "limits", {"api_daily_limit": 1000, "api_usage": 1000 - (spent + calls - 3)})
    dry = sync(box, small_data, tmp_path, "--dry-run")
    assert dry.exit_code == 3, dry.output
    assert f"salesforce: {calls} (" in dry.output and "sync will refuse (exit 3) unless given --ignore-limits" \
        in dry.output
    assert "sync needs" in dry.output and "--ignore-limits to sync anyway" in dry.output

    # Room for the run's calls without the limit read, not for the most the input could need before matching.
    admin(box, "salesforce", "POST", "limits", {"api_usage": 1000 - (calls - 1)})
    before = org_content(box)
    reset(box)
    refused = sync(box, small_data, tmp_path, "--format", "json")
    assert refused.exit_code == 3, refused.output
    reply = json.loads(refused.output)
    most, remaining = reply["forecast"]["salesforce"]["writes"], reply["forecast"]["salesforce"]["remaining"]
    assert most > remaining == calls - 2 and reply["forecast"]["salesforce"]["exact"] is False
    assert (f"salesforce: sync needs at most {most} API calls to read and write, more than the {remaining} left of "
            "today's limit (1,000 a day). Nothing was written") in reply["error"]
    assert "--ignore-limits" in reply["hint"]
    assert org_content(box) == before  # nothing written in either org
    assert not any(writes_of(routes, org) for org, routes in counted(box).items())

    text = sync(box, small_data, tmp_path)
    assert text.exit_code == 3 and "at most" in text.output and "--ignore-limits" in text.output, text.output
    assert org_content(box) == before

    admin(box, "salesforce", "POST", "limits", {"api_usage": 1000 - (calls - 1)})
    reset(box)
    ran = sync(box, small_data, tmp_path, "--ignore-limits", "--format", "json")
    assert ran.exit_code == 0, ran.output
    assert sum(counted(box)["salesforce"].values()) == calls  # as forecast
    assert "GET /services/data/limits" not in counted(box)["salesforce"]
    assert members(box) > len(before["salesforce"].get("CampaignMember") or {})


def test_marketo_quota_refuses_the_run_and_the_dry_run_says_so(box: Sandbox, small_data: list[str], sessions: None,
                                                               tmp_path: Path) -> None:
    used = sum(n for route, n in counted(box)["marketo"].items() if "/identity/" not in route)
    quota = str(used + 6)  # the dry run's own calls fit; the run's do not
    dry = sync(box, small_data, tmp_path, "--dry-run", "--only", "marketo", MARKETO_DAILY_QUOTA=quota)
    assert dry.exit_code == 3, dry.output
    assert f"({int(quota):,} a day): sync will refuse (exit 3) unless given --ignore-limits" in dry.output
    before = org_content(box)
    real = sync(box, small_data, tmp_path, "--only", "marketo", MARKETO_DAILY_QUOTA=quota)
    assert real.exit_code == 3 and "marketo: sync needs at most" in real.output, real.output
    assert org_content(box) == before
