"""Custom object and activity types: the plan shows draft / approved / approved with draft; allowed
changes are applied and approved; changes Marketo refuses after approval become manual steps."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from provisioner.manifest.model import ManifestSet
from provisioner.plan import DestroyNotAllowedError, render_plan
from provisioner.providers.marketo.client import MarketoClient
from provisioner.sandbox.httpserver import SandboxServer
from provisioner.sandbox.tls import TLSMaterial

from .support import (
    FAST_BUDGET, assert_contract, UNTHROTTLED, apply_for, client_for, plan_for, seeded_config,
    serving, variant,
)

OBJECT = "marketo.custom_object.kalturaUserSessionEngagement"
ACTIVITY = "marketo.custom_activity.userSessionEngagement"
DRAFT_EDITS = (("      showInLeadDetail: true\n", "      showInLeadDetail: true\n      approve: false\n"),
               ("      filterName: Engaged in Kaltura Session\n",
                "      filterName: Engaged in Kaltura Session\n      approve: false\n"))


@pytest.fixture
def instance(tls: TLSMaterial, manifests: ManifestSet) -> Iterator[tuple[SandboxServer, MarketoClient]]:
    with serving(tls, seeded_config(manifests, **UNTHROTTLED)) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET)
        yield server, client
        assert assert_contract(recorder) > 0  # every request this test sent matches Adobe's OpenAPI documents


def _change(plan, address):  # type: ignore[no-untyped-def]
    return next(c for c in plan.changes if c.address == address)


def test_types_left_as_drafts_then_approved(instance: tuple[SandboxServer, MarketoClient],
                                            manifests: ManifestSet, tmp_path: Path) -> None:
    server, client = instance
    drafts = variant(tmp_path, "drafts", *DRAFT_EDITS)
    assert apply_for(plan_for(drafts, client), client).ok
    again = plan_for(drafts, client)
    assert _change(again, OBJECT).is_no_op and _change(again, OBJECT).info["state"] == "draft"
    assert server.app.state["customObjectTypes"]["kalturaUserSessionEngagement"]["approved"] is None

    plan = plan_for(manifests, client)
    text = render_plan(plan)
    assert f"~ {OBJECT} (state: draft)" in text
    assert '~ state: "draft" → "approved"' in text
    assert f"~ {ACTIVITY} (state: draft; " in text
    assert apply_for(plan, client).ok
    assert render_plan(plan_for(manifests, client)).startswith("No changes.")


def test_approved_with_draft_is_shown_and_approved(instance: tuple[SandboxServer, MarketoClient],
                                                   manifests: ManifestSet) -> None:
    server, client = instance
    apply_for(plan_for(manifests, client), client)
    # someone edits the approved type in Marketo and leaves the edit as a draft
    client.post_json("/rest/v1/customobjects/schema/kalturaUserSessionEngagement/plays/updateField.json",
                     {"displayName": "Plays (edited)"}, idempotent=True)
    plan = plan_for(manifests, client)
    change = _change(plan, OBJECT)
    assert change.info["state"] == "approved with draft"
    assert {(d.path, d.old, d.new) for d in change.diff} == {
        ("fields[plays].displayName", "Plays (edited)", "Plays"),
        ("state", "approved with draft", "approved")}
    assert apply_for(plan, client).ok
    entry = server.app.state["customObjectTypes"]["kalturaUserSessionEngagement"]
    assert entry["draft"] is None
    assert next(f for f in entry["approved"]["fields"] if f["name"] == "plays")["displayName"] == "Plays"


def test_new_field_and_attribute_after_approval_are_added_and_approved(
        instance: tuple[SandboxServer, MarketoClient], manifests: ManifestSet, tmp_path: Path) -> None:
    server, client = instance
    apply_for(plan_for(manifests, client), client)
    grown = variant(
        tmp_path, "grown",
        ("        - {name: raise_hand,", "        - {name: hand_lowered, displayName: Hand Lowered, dataType: integer}\n"
                                     "        - {name: raise_hand,"),
        ("        - {apiName: smile_clicked_count,", "        - {apiName: plays_total, name: Plays Total, "
                                                   "dataType: integer}\n        - {apiName: smile_clicked_count,"))
    plan = plan_for(grown, client)
    assert _change(plan, OBJECT).actions == ["update"] and _change(plan, ACTIVITY).actions == ["update"]
    report = apply_for(plan, client)
    assert report.ok
    assert render_plan(plan_for(grown, client)).startswith("No changes.")
    approved = server.app.state["customObjectTypes"]["kalturaUserSessionEngagement"]["approved"]
    assert "hand_lowered" in {f["name"] for f in approved["fields"]}
    assert "plays_total" in {a["apiName"] for a in server.app.state["activityTypes"]["userSessionEngagement"]
                             ["approved"]["attributes"]}


def test_changes_refused_after_approval_are_manual_with_why(instance: tuple[SandboxServer, MarketoClient],
                                                            manifests: ManifestSet, tmp_path: Path) -> None:
    server, client = instance
    apply_for(plan_for(manifests, client), client)
    refused = variant(
        tmp_path, "refused",
        ("dedupeFields: [entry_id, email]", "dedupeFields: [entry_id]"),
        ("{name: plays, displayName: Plays, dataType: integer", "{name: plays, displayName: Plays, dataType: float"),
        ("{apiName: plays, name: Plays, dataType: integer", "{apiName: plays, name: Plays, dataType: float"))
    before = server.stats()["calls"]["by_route"]
    plan = plan_for(refused, client)
    obj, act = _change(plan, OBJECT), _change(plan, ACTIVITY)
    assert obj.actions == ["manual"] and act.actions == ["manual"]
    assert "dedupe fields ['email', 'entry_id'] cannot change (manifest: ['entry_id'])" in obj.reason
    assert "field plays cannot change type (integer → float)" in obj.reason
    assert "attribute plays cannot change type (integer → float)" in act.reason
    assert any("Delete Object" in step for step in obj.instructions)
    assert any("Delete Activity" in step for step in act.instructions)
    report = apply_for(plan, client)
    after = server.stats()["calls"]["by_route"]
    writes = {r: after[r] - before.get(r, 0) for r in after if r.startswith("POST /rest")
              and after[r] != before.get(r, 0)}
    assert writes == {}  # nothing refused is attempted
    assert {c.address for c in report.manual} == {OBJECT, ACTIVITY}


def test_ensure_absent_deletes_only_with_allow_destroy(instance: tuple[SandboxServer, MarketoClient],
                                                       manifests: ManifestSet, tmp_path: Path) -> None:
    server, client = instance
    apply_for(plan_for(manifests, client), client)
    gone = variant(tmp_path, "gone", ("      filterName: Engaged in Kaltura Session\n",
                                      "      filterName: Engaged in Kaltura Session\n      ensure: absent\n"))
    plan = plan_for(gone, client)
    assert _change(plan, ACTIVITY).actions == ["delete"]
    with pytest.raises(DestroyNotAllowedError):
        apply_for(plan, client)
    assert "userSessionEngagement" in server.app.state["activityTypes"]
    assert apply_for(plan, client, allow_destroy=True).ok
    assert "userSessionEngagement" not in server.app.state["activityTypes"]
    assert _change(plan_for(gone, client), ACTIVITY).is_no_op
    assert apply_for(plan_for(manifests, client), client).ok  # and back


def test_every_request_of_drafts_then_approval_matches_the_openapi_documents(
        tls: TLSMaterial, manifests: ManifestSet, tmp_path: Path) -> None:
    with serving(tls, seeded_config(manifests, **UNTHROTTLED)) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET)
        assert apply_for(plan_for(variant(tmp_path, "drafts", *DRAFT_EDITS), client), client).ok
        assert apply_for(plan_for(manifests, client), client).ok
    assert assert_contract(recorder) > 20  # counted here, from this test's own requests
