"""Issue 3's promise against the emulated org: plan shows exactly what apply does; apply converges."""

from __future__ import annotations

import json
from pathlib import Path

from provisioner.manifest import load
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox

from .conftest import run


def _connect(org: Sandbox) -> SalesforceConnection:
    return SalesforceConnection.from_env(org.env())


def test_apply_from_empty_org_then_plan_says_no_changes(org: Sandbox, manifests: Path) -> None:
    env = org.env()
    first = run(env, "apply", str(manifests), "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 97 added, 0 changed, 0 destroyed." in first.output
    again = run(env, "plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert again.output.startswith("No changes.")


def test_api_user_can_query_every_new_field(org: Sandbox, manifests: Path) -> None:
    assert run(org.env(), "apply", str(manifests), "--auto-approve").exit_code == 0
    conn = _connect(org)
    model = load([manifests]).manifests
    for obj in model.salesforce_objects():
        names = ", ".join(f.api_name for f in obj.fields)
        result = conn.sf.query(f"SELECT Id, {names} FROM {obj.api_name} LIMIT 1")
        assert result["done"] is True
        described = {f["name"] for f in getattr(conn.sf, obj.api_name).describe()["fields"]}
        assert {f.api_name for f in obj.fields} <= described


def test_statuses_are_in_manifest_order_with_flags(org: Sandbox, manifests: Path) -> None:
    assert run(org.env(), "apply", str(manifests), "--auto-approve").exit_code == 0
    conn = _connect(org)
    campaign = conn.sf.query("SELECT Id, Type FROM Campaign WHERE Name = 'Kaltura Event Template'")["records"]
    assert len(campaign) == 1 and campaign[0]["Type"] == "Webinar"
    rows = conn.sf.query("SELECT Label, SortOrder, IsDefault, HasResponded FROM CampaignMemberStatus "
                         f"WHERE CampaignId = '{campaign[0]['Id']}' ORDER BY SortOrder")["records"]
    statuses = load([manifests]).manifests.campaign("Kaltura Event Template").statuses
    managed = [r for r in rows if r["Label"] in {s.label for s in statuses}]
    assert [r["Label"] for r in managed] == [s.label for s in statuses]
    assert [r["Label"] for r in rows if r["IsDefault"]] == ["Created"]
    assert {r["Label"] for r in managed if r["HasResponded"]} == {s.label for s in statuses if s.responded}
    assert len({r["SortOrder"] for r in rows}) == len(rows)


def test_changing_a_length_plans_exactly_one_update(org: Sandbox, manifests: Path) -> None:
    env = org.env()
    assert run(env, "apply", str(manifests), "--auto-approve").exit_code == 0
    path = manifests / "kaltura-salesforce.yaml"
    text = path.read_text()
    old = "{name: campaign_member, type: Text, length: 100,"
    assert old in text
    path.write_text(text.replace(old, "{name: campaign_member, type: Text, length: 200,"))
    result = run(env, "plan", str(manifests), "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert [l for l in lines if l.startswith("  ~ ")] == ["  ~ salesforce.field.UserSessionEngagement__c.campaign_member__c"]
    assert "      ~ length: 100 → 200" in lines
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in lines
    applied = run(env, "apply", str(manifests), "--auto-approve")
    assert applied.exit_code == 0 and "1 changed" in applied.output
    field = _connect(org).metadata.read("CustomField", ["UserSessionEngagement__c.campaign_member__c"])
    assert int(field["UserSessionEngagement__c.campaign_member__c"]["length"]) == 200


def test_stale_plan_file_is_refused(org: Sandbox, manifests: Path, tmp_path: Path) -> None:
    env = org.env()
    assert run(env, "apply", str(manifests), "--auto-approve").exit_code == 0
    path = manifests / "kaltura-salesforce.yaml"
    path.write_text(path.read_text().replace("{name: entry_id, type: Text, length: 11,",
                                             "{name: entry_id, type: Text, length: 12,"))
    plan_file = tmp_path / "plan.json"
    assert run(env, "plan", str(manifests), "--out", str(plan_file)).exit_code == 0
    # Someone changes the same field in Setup before the plan is applied.
    conn = _connect(org)
    md = conn.metadata.read("CustomField", ["UserSessionEngagement__c.entry_id__c"])["UserSessionEngagement__c.entry_id__c"]
    md["length"] = 20
    [saved] = conn.metadata.upsert([conn.metadata.make("CustomField", **md)])
    assert saved.success
    refused = run(env, "apply", str(plan_file))
    assert refused.exit_code == 1
    assert "salesforce.field.UserSessionEngagement__c.entry_id__c" in refused.output
    assert "plan again" in refused.output.lower()
    after = conn.metadata.read("CustomField", ["UserSessionEngagement__c.entry_id__c"])
    assert int(after["UserSessionEngagement__c.entry_id__c"]["length"]) == 20  # nothing applied


def test_absent_needs_allow_destroy_and_shows_record_count(org: Sandbox, manifests: Path) -> None:
    env = org.env()
    assert run(env, "apply", str(manifests), "--auto-approve").exit_code == 0
    conn = _connect(org)
    conn.sf.Kaltura_User_Polls__c.create({"poll_1_type__c": "crowd vote"})
    path = manifests / "kaltura-salesforce-polls.yaml.j2"
    path.write_text(path.read_text().replace("      sharingModel: ReadWrite\n",
                                             "      sharingModel: ReadWrite\n      ensure: absent\n"))
    plan = run(env, "plan", str(manifests))
    assert "  - salesforce.object.Kaltura_User_Polls__c (object holds 1 record)" in plan.output, plan.output
    assert "Plan: 0 to add, 1 to change, 1 to destroy." in plan.output  # the object, and the permission set
    refused = run(env, "apply", str(manifests), "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-destroy" in refused.output
    assert conn.sf.query("SELECT COUNT() FROM Kaltura_User_Polls__c")["totalSize"] == 1  # nothing applied
    destroyed = run(env, "apply", str(manifests), "--auto-approve", "--allow-destroy")
    assert destroyed.exit_code == 0, destroyed.output
    assert _connect(org).metadata.read("CustomObject", ["Kaltura_User_Polls__c"])["Kaltura_User_Polls__c"] is None


def test_apply_off_a_terminal_needs_auto_approve_and_changes_nothing(org: Sandbox, manifests: Path) -> None:
    result = run(org.env(), "apply", str(manifests))
    assert result.exit_code == 1
    assert "apply needs confirmation" in result.output and "--auto-approve" in result.output
    assert _connect(org).metadata.read("CustomObject", ["UserSessionEngagement__c"])["UserSessionEngagement__c"] is None


def test_plan_json_has_terraform_resource_changes(org: Sandbox, manifests: Path) -> None:
    result = run(org.env(), "plan", str(manifests), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    change = next(c for c in data["resource_changes"] if c["address"] == "salesforce.field.CampaignMember.external_id__c")
    assert change["change"]["actions"] == ["create"] and change["change"]["before"] is None
    assert change["change"]["after"]["length"] == 200
    assert data["fingerprint"].startswith("sha256:")
