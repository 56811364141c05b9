"""Differences the API cannot fix (channels, approved types) become manual steps; fixed program
attributes become a replacement that needs allow_destroy; allowed changes converge."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterator

import pytest

from provisioner.manifest.model import ManifestSet
from provisioner.plan import DestroyNotAllowedError, MissingReferencesError, render_apply_report, render_plan
from provisioner.providers.marketo.client import MarketoClient
from provisioner.sandbox.httpserver import SandboxServer
from provisioner.sandbox.marketo.config import default_channels
from provisioner.sandbox.tls import TLSMaterial

from .support import (
    FAST_BUDGET, assert_contract, UNTHROTTLED, apply_for, client_for, plan_for, sandbox_channel,
    seeded_config, serving, variant,
)

CHANNEL = 'marketo.channel."Kaltura Event"'
PROGRAM = 'marketo.program."Kaltura Event Template"'
OBJECT = "marketo.custom_object.kalturaUserSessionEngagement"
ACTIVITY = "marketo.custom_activity.userSessionEngagement"


def test_missing_channel_is_a_manual_step_and_the_plan_refuses_the_program_that_needs_it(
        tls: TLSMaterial, manifests: ManifestSet) -> None:
    with serving(tls, seeded_config(manifests, **UNTHROTTLED, channels=default_channels())) as server:
        client, _ = client_for(server, tls, budget=FAST_BUDGET)
        with pytest.raises(MissingReferencesError) as refused:
            plan_for(manifests, client)
        [missing] = refused.value.missing
        assert missing.address == PROGRAM and "channel 'Kaltura Event' does not exist" in missing.missing
        assert f"the manual step for {CHANNEL}" in str(refused.value)
        plan = refused.value.plan  # the plan as far as it was made still shows the clicks
        channel = next(c for c in plan.changes if c.address == CHANNEL)
        assert channel.actions == ["manual"]
        assert channel.instructions[:3] == [
            "In Marketo, open Admin > Tags.",
            "Under Tags, select Channels, then click New > New Channel.",
            'Name: "Kaltura Event"; Applicable Program Type: event; click Create.',
        ]
        assert 'Add status "Registered" at step 30: check Success.' in channel.instructions
        assert 'Add status "Created" at step 10: leave Success unchecked.' in channel.instructions
        assert sum(i.startswith("Add status") for i in channel.instructions) == 9
        text = render_plan(plan)
        assert f"! {CHANNEL}" in text and "to do by hand:" in text
        writes = {r: n for r, n in server.stats()["calls"]["by_route"].items() if not r.startswith("GET")}
        assert set(writes) <= {"POST /identity/oauth/token"}, writes  # nothing was written


@pytest.fixture
def drifted(tls: TLSMaterial, manifests: ManifestSet) -> Iterator[tuple[SandboxServer, MarketoClient]]:
    channel = sandbox_channel(manifests.marketo[0].channels[0], Attended=55)
    with serving(tls, seeded_config(manifests, **UNTHROTTLED, channels=[channel] + default_channels())) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET)
        yield server, client
        assert assert_contract(recorder) > 0  # every request this test sent matches Adobe's OpenAPI documents


def test_one_step_different_is_manual_and_apply_still_succeeds(drifted: tuple[SandboxServer, MarketoClient],
                                                               manifests: ManifestSet) -> None:
    server, client = drifted
    plan = plan_for(manifests, client)
    channel = next(c for c in plan.changes if c.address == CHANNEL)
    assert channel.actions == ["manual"]
    assert [(d.path, d.old, d.new) for d in channel.diff] == [("statuses[Attended].step", 55, 50)]
    assert channel.instructions == [
        "In Marketo, open Admin > Tags and select Channels.",
        'Select the channel "Kaltura Event" and click Edit Channel.',
        'Change status "Attended" at step 50: check Success (now step 55, Success checked).',
        "Click Save.",
    ]
    channels_before = copy.deepcopy(server.app.state["channels"])
    report = apply_for(plan, client)
    assert report.ok  # a manual step alone does not fail apply (the CLI's --strict makes it an error)
    assert [c.address for c in report.manual] == [CHANNEL]
    assert "Change status \"Attended\" at step 50" in render_apply_report(report)
    routes = server.stats()["calls"]["by_route"]
    assert routes.get("POST /rest/asset/v1/programs.json")  # the apply did write (the program)...
    assert not [r for r in routes if "channel" in r.lower() and not r.startswith("GET")]  # ...never a channel
    assert server.app.state["channels"] == channels_before  # the drifted step is still 55


def test_program_channel_change_is_a_replace_refused_without_allow_destroy(
        drifted: tuple[SandboxServer, MarketoClient], manifests: ManifestSet, tmp_path: Path) -> None:
    server, client = drifted
    apply_for(plan_for(manifests, client), client)  # converged (apart from the channel drift)
    moved = variant(tmp_path, "moved", ("      channel: Kaltura Event\n", "      channel: Tradeshow\n"),
                    ("  channels:\n", "  channels:\n    - name: Tradeshow\n      programType: event\n      statuses:\n"
                                      "        - {name: Registered, step: 20, success: true}\n"
                                      "        - {name: Attended, step: 30, success: true}\n"))
    plan = plan_for(moved, client)
    program = next(c for c in plan.changes if c.address == PROGRAM)
    assert program.actions == ["delete", "create"]
    assert program.reason == "type and channel are fixed at creation"
    assert "-/+ " + PROGRAM in render_plan(plan)
    before = copy.deepcopy(server.app.state["programs"])  # deep: a program changed in place must show
    with pytest.raises(DestroyNotAllowedError):
        apply_for(plan, client)
    assert server.app.state["programs"] == before  # refused before any change
    report = apply_for(plan, client, allow_destroy=True)
    assert report.ok, render_apply_report(report)
    [program_now] = [p for p in server.app.state["programs"].values() if p["name"] == "Kaltura Event Template"]
    assert program_now["channel"] == "Tradeshow" and str(program_now["id"]) not in before


def test_description_change_updates_in_place(drifted: tuple[SandboxServer, MarketoClient],
                                             manifests: ManifestSet, tmp_path: Path) -> None:
    server, client = drifted
    edited = variant(tmp_path, "described", ("description: Template program for Kaltura Events; cloned per event.",
                                             "description: Kaltura template, cloned per event."))
    apply_for(plan_for(manifests, client), client, allow_destroy=True)
    plan = plan_for(edited, client)
    program = next(c for c in plan.changes if c.address == PROGRAM)
    assert program.actions == ["update"]
    assert apply_for(plan, client).ok
    assert next(c for c in plan_for(edited, client).changes if c.address == PROGRAM).is_no_op


def test_a_program_moved_to_another_folder_is_a_manual_step(drifted: tuple[SandboxServer, MarketoClient],
                                                            manifests: ManifestSet) -> None:
    server, client = drifted
    apply_for(plan_for(manifests, client), client, allow_destroy=True)
    with server.app.lock:  # an admin drags the program into Marketing Activities/Events in the UI
        [program] = [p for p in server.app.state["programs"].values() if p["name"] == "Kaltura Event Template"]
        home, program["folderId"] = program["folderId"], 12
    plan = plan_for(manifests, client)
    change = next(c for c in plan.changes if c.address == PROGRAM)
    assert change.actions == ["manual"]
    assert [(d.path, d.old, d.new) for d in change.diff] == [
        ("folder", "Marketing Activities/Events", "Marketing Activities/Kaltura Events")]
    assert change.instructions[1] == ('Drag the program "Kaltura Event Template" from Marketing Activities/Events '
                                      "into Marketing Activities/Kaltura Events (create the folder first if it "
                                      "does not exist).")
    with server.app.lock:
        program["folderId"] = home


def test_every_request_of_a_drifted_apply_matches_the_openapi_documents(tls: TLSMaterial,
                                                                        manifests: ManifestSet) -> None:
    channel = sandbox_channel(manifests.marketo[0].channels[0], Attended=55)
    with serving(tls, seeded_config(manifests, **UNTHROTTLED, channels=[channel] + default_channels())) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET)
        assert apply_for(plan_for(manifests, client), client).ok
        plan_for(manifests, client)
    assert assert_contract(recorder) > 20  # counted here, from this test's own requests
