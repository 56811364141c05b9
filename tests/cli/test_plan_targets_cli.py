"""`plan --target` and `--compact` through the command line: a saved targeted plan applies only its
addresses (and what they depend on), checked by planning the whole manifest afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
SF_MANIFEST = str(REPO / "manifests" / "kaltura-salesforce.yaml")
FIELD = "salesforce.field.UserSessionEngagement__c.entry_id__c"
OBJECT = "salesforce.object.UserSessionEngagement__c"


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox", marketo=False) as box:
        yield box


def pending(env: dict[str, str]) -> set[str]:
    data = json.loads(run(env, "plan", SF_MANIFEST, "--format", "json").stdout)
    return {c["address"] for c in data["resource_changes"] if c["change"]["actions"] != ["no-op"]}


def test_a_saved_targeted_plan_applies_the_field_and_its_object_only(org: Sandbox, tmp_path: Path) -> None:
    everything = pending(org.env())
    plan_file = tmp_path / "plan.json"
    planned = run(org.env(), "plan", SF_MANIFEST, "--target", FIELD, "--out", str(plan_file))
    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith("Plan: 2 to add, 0 to change, 0 to destroy.\n")
    assert f"Targeted: {FIELD} (and what they depend on)" in planned.output
    assert run(org.env(), "apply", str(plan_file), "--target", OBJECT).exit_code == 64  # a plan file keeps its own
    applied = run(org.env(), "apply", str(plan_file))
    assert applied.exit_code == 0, applied.output
    assert pending(org.env()) == everything - {FIELD, OBJECT}


def test_apply_with_a_glob_target(org: Sandbox) -> None:
    everything = pending(org.env())
    fields = {a for a in everything if a.startswith("salesforce.field.CampaignMember.")}
    applied = run(org.env(), "apply", SF_MANIFEST, "--target", "salesforce.field.CampaignMember.*", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert fields and pending(org.env()) == everything - fields  # CampaignMember is standard: nothing else needed


def test_compact_is_shorter_and_names_every_address(org: Sandbox) -> None:
    full = run(org.env(), "plan", SF_MANIFEST).output
    compact = run(org.env(), "plan", SF_MANIFEST, "--compact").output
    assert len(compact.splitlines()) * 3 < len(full.splitlines())
    for address in pending(org.env()):
        assert f"+ {address} (" in compact
