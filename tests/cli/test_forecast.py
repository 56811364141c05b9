"""The forecast before writing: `plan` says how many API calls `apply` of the plan will use per org and
what share of the org's remaining daily limit that is; `apply` refuses with exit 3 before its first write
when an org has too little left, naming both numbers, unless given --ignore-limits.

The calls are counted by the sandbox (GET /__sandbox/stats on each port). The forecast includes the reads
apply itself makes (the campaigns' statuses read again after the campaigns are written, the permission
set ids before assigning them, the parent folder of a folder to create, a clone source's byName), so for
these runs it is exact: no tolerance is needed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.manifest import load
from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.seed import channels_from_manifests

from sandbox_stats import admin, counted, reset

REPO = Path(__file__).resolve().parents[2]
SETUP = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                "kaltura-marketo.yaml", "livestorm-salesforce.yaml")]
MARKETO = str(REPO / "manifests" / "kaltura-marketo.yaml")
SALESFORCE = str(REPO / "manifests" / "kaltura-salesforce.yaml")


def run(box: Sandbox, *args: str, **env: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={**box.env(), "MARKETO_MAX_CALLS_PER_20S": "100", **env},
                              catch_exceptions=False)


def forecast_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["forecast"]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    setup = load(SETUP)
    with Sandbox(tmp_path / "sandbox", marketo_channels=channels_from_manifests(setup.manifests)) as sandbox:
        yield sandbox


def test_plan_forecasts_exactly_the_calls_apply_makes_on_an_empty_org(box: Sandbox) -> None:
    forecast = forecast_of(run(box, "plan", *SETUP, "--format", "json"))
    assert set(forecast) == {"salesforce", "marketo"}
    for org, f in forecast.items():
        assert f["calls"] == f["reads"] + f["limit_check"] + f["writes"], org
        assert f["remaining"] <= f["daily_limit"] and f["share"] == pytest.approx(f["calls"] / f["remaining"], 1e-4)
    assert forecast["marketo"]["daily_limit"] == 50_000  # Marketo's documented default: not in its API

    reset(box)
    result = run(box, "apply", *SETUP, "--auto-approve")
    assert result.exit_code == 0, result.output
    calls = counted(box)
    assert {org: sum(routes.values()) for org, routes in calls.items()} == \
        {org: f["calls"] for org, f in forecast.items()}, calls
    # Salesforce's REST replies carry Sforce-Limit-Info (api-usage=N/M): its limit needs no /limits call.
    # Marketo's usage is only in stats/usage.json: one call.
    assert "GET /services/data/limits" not in calls["salesforce"] and forecast["salesforce"]["limit_check"] == 0
    assert calls["marketo"]["GET /rest/v1/stats/usage.json"] == 1 and forecast["marketo"]["limit_check"] == 1

    reset(box)
    again = forecast_of(run(box, "plan", *SETUP, "--format", "json"))
    assert again == {}  # nothing to write: no forecast, and no call to read the limits
    assert not [r for routes in counted(box).values() for r in routes if "limits" in r or "usage" in r]


def test_event_new_plan_forecasts_exactly_the_calls_its_apply_makes(box: Sandbox, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(box, "apply", *SETUP, "--auto-approve").exit_code == 0
    monkeypatch.chdir(REPO)
    sessions = tmp_path / "sessions.csv"
    with sessions.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "start", "end", "type"])
        writer.writerows([[f"Forecast Day {i}", f"2099-06-0{i}T10:00:00Z", f"2099-06-0{i}T11:00:00Z", "live"]
                          for i in (1, 2, 3)])
    plan = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--plan-only", "--format", "json")
    assert plan.exit_code == 0, plan.output
    forecast = json.loads(plan.stdout)["plan"]["forecast"]
    reset(box)
    result = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert result.exit_code == 0 and "54 added" in result.output, result.output  # 3 × (campaign, 16 statuses, program)
    calls = counted(box)
    assert {org: sum(routes.values()) for org, routes in calls.items()} == \
        {org: f["calls"] for org, f in forecast.items()}, calls


def test_apply_refuses_with_exit_3_before_writing_when_salesforce_has_too_little_left(box: Sandbox) -> None:
    admin(box, "salesforce", "POST", "limits", {"api_daily_limit": 1000, "api_usage": 985})
    plan = run(box, "plan", SALESFORCE)
    assert plan.exit_code == 0, plan.output
    assert "apply will refuse (exit 3) unless given --ignore-limits" in plan.output

    reset(box)
    result = run(box, "apply", SALESFORCE, "--auto-approve")
    assert result.exit_code == 3, result.output
    left = (lambda s: s["api_daily_limit"] - s["api_usage"])(admin(box, "salesforce", "POST", "limits", {}))
    writes = forecast_of(run(box, "plan", SALESFORCE, "--format", "json"))["salesforce"]["writes"]
    assert left < writes
    assert (f"salesforce: apply needs {writes} API calls to write, more than the {left} left of today's limit "
            "(1,000 a day)") in result.output
    assert "--ignore-limits" in result.output
    written = [r for r in counted(box)["salesforce"] if "upsertMetadata" in r or "composite" in r]
    assert written == []  # nothing was written
    assert "Plan: 0 to add" not in run(box, "plan", SALESFORCE).output  # the org still lacks everything


def test_marketo_quota_from_the_environment_and_ignore_limits(box: Sandbox) -> None:
    bad = run(box, "plan", MARKETO, MARKETO_DAILY_QUOTA="lots")
    assert bad.exit_code == 1
    assert "MARKETO_DAILY_QUOTA must be a whole number of calls a day, not 'lots'" in bad.output
    assert "Traceback" not in bad.output

    plan = run(box, "plan", MARKETO, MARKETO_DAILY_QUOTA="20")
    assert plan.exit_code == 0, plan.output
    assert "marketo:" in plan.output and "(20 a day): apply will refuse (exit 3)" in plan.output

    refused = run(box, "apply", MARKETO, "--auto-approve", MARKETO_DAILY_QUOTA="20")
    assert refused.exit_code == 3, refused.output
    used = sum(n for route, n in counted(box)["marketo"].items() if "/identity/" not in route)  # the quota's calls
    assert f"more than the {20 - used} left of today's limit (20 a day)" in refused.output
    assert not [r for r in counted(box)["marketo"] if r.startswith("POST /rest")]

    reset(box)
    applied = run(box, "apply", MARKETO, "--auto-approve", "--ignore-limits", MARKETO_DAILY_QUOTA="20")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 3 added" in applied.output
    assert "GET /rest/v1/stats/usage.json" not in counted(box)["marketo"]  # ignored: not even read

