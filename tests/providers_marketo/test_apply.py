"""From an empty instance (seeded with the channel): plan, apply, and plan again says "No changes."."""

from __future__ import annotations

import json
import logging
from typing import Iterator

import pytest

from provisioner.manifest.model import ManifestSet
from provisioner.plan import NO_CHANGES, Plan, plan_to_json, render_apply_report, render_plan
from provisioner.plan.report import ApplyReport
from provisioner.sandbox.httpserver import SandboxServer
from provisioner.sandbox.tls import TLSMaterial

from .support import Recorder, assert_contract, apply_for, client_for, plan_for, seeded_config, serving


class Run:
    """Everything the end-to-end run produced, for the tests below to inspect."""

    first: Plan
    first_calls: dict[str, int]
    report: ApplyReport
    apply_calls: dict[str, int]
    second: Plan
    recorder: Recorder
    server: SandboxServer
    logs: str


@pytest.fixture(scope="module")
def run(tls: TLSMaterial, manifests: ManifestSet) -> Iterator[Run]:
    handler_records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_records.append(self.format(record))

    keep = Keep(logging.DEBUG)
    root = logging.getLogger("provisioner")
    root.addHandler(keep)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with serving(tls, seeded_config(manifests)) as server:
            client, recorder = client_for(server, tls)
            out = Run()
            out.server, out.recorder = server, recorder
            out.first = plan_for(manifests, client)
            out.first_calls = server.stats()["calls"]["by_route"]
            server.reset_stats()
            out.report = apply_for(out.first, client)
            out.apply_calls = server.stats()["calls"]["by_route"]
            out.second = plan_for(manifests, client)
            out.logs = "\n".join(handler_records)
            yield out
    finally:
        root.removeHandler(keep)
        root.setLevel(old_level)


def test_apply_converges_and_the_second_plan_has_no_changes(run: Run) -> None:
    assert [c.action for c in run.first.changes] == ["no-op", "create", "create", "create"]
    assert run.report.ok, render_apply_report(run.report)
    assert render_plan(run.second).startswith("No changes.")
    assert render_plan(run.second).strip() == NO_CHANGES


def test_first_plan_shows_the_folder_it_will_create_and_reads_in_six_calls(run: Run) -> None:
    text = render_plan(run.first)
    assert ('+ marketo.program."Kaltura Event Template" '
            "(folder: Marketing Activities/Kaltura Events will be created)") in text
    # token 1, channels 1, program byName 1, custom object list 1, activity types 1, folder byName 1 (the
    # path; its root is Marketing Activities, which validate requires and every instance has)
    assert sum(run.first_calls.values()) == 6, run.first_calls


def test_custom_object_is_approved_with_every_manifest_field(run: Run, manifests: ManifestSet) -> None:
    wanted = manifests.marketo[0].custom_objects[0]
    entry = run.server.app.state["customObjectTypes"][wanted.api_name]
    assert entry["draft"] is None and entry["approved"] is not None
    fields = {f["name"]: f for f in entry["approved"]["fields"]}
    assert set(fields) == {f.name for f in wanted.fields}
    for f in wanted.fields:
        assert fields[f.name]["dataType"] == f.data_type
        assert fields[f.name]["displayName"] == f.display_name
    assert {n for n, f in fields.items() if f["isDedupeField"]} == set(wanted.dedupe_fields)
    assert fields["personId"]["relatedTo"] == {"name": "Lead", "field": "id"}


def test_custom_activity_is_approved_with_every_manifest_attribute(run: Run, manifests: ManifestSet) -> None:
    wanted = manifests.marketo[0].custom_activities[0]
    entry = run.server.app.state["activityTypes"][wanted.api_name]
    assert entry["draft"] is None and entry["approved"] is not None
    approved = entry["approved"]
    assert approved["primaryAttribute"]["apiName"] == wanted.primary_attribute.api_name
    assert [(a["apiName"], a["dataType"]) for a in approved["attributes"]] == \
        [(a.api_name, a.data_type) for a in wanted.attributes]
    assert (approved["triggerName"], approved["filterName"]) == (wanted.trigger_name, wanted.filter_name)


def test_program_is_in_the_folder_path_with_type_and_channel(run: Run) -> None:
    app = run.server.app
    program = next(p for p in app.state["programs"].values() if p["name"] == "Kaltura Event Template")
    assert (program["type"], program["channel"]) == ("Event", "Kaltura Event")
    folder = app.state["folders"][str(program["folderId"])]
    parent = app.state["folders"][str(folder["parentId"])]
    assert (parent["name"], folder["name"]) == ("Marketing Activities", "Kaltura Events")


def test_apply_makes_only_the_calls_it_needs(run: Run) -> None:
    writes = {route: n for route, n in run.apply_calls.items() if route.startswith("POST /rest")}
    assert writes == {
        "POST /rest/asset/v1/folders.json": 1,
        "POST /rest/asset/v1/programs.json": 1,
        "POST /rest/v1/customobjects/schema.json": 1,
        "POST /rest/v1/customobjects/schema/{apiName}/addField.json": 1,  # 31 fields in one call
        "POST /rest/v1/customobjects/schema/{apiName}/approve.json": 1,
        "POST /rest/v1/activities/external/type.json": 1,
        "POST /rest/v1/activities/external/type/{apiName}/attributes/create.json": 1,  # 19 in one call
        "POST /rest/v1/activities/external/type/{apiName}/approve.json": 1,
    }
    assert "POST /identity/oauth/token" not in run.apply_calls  # the token is reused
    # re-read 5 + parent folder 1 + writes 8; no permission probe: the re-read proved both areas written
    assert sum(run.apply_calls.values()) == 14, run.apply_calls


def test_every_request_matches_the_openapi_documents(run: Run) -> None:
    assert assert_contract(run.recorder) > 20


def test_secrets_never_appear_in_plans_reports_or_logs(run: Run) -> None:
    secret = run.server.app.config.client_secret
    tokens = {json.loads(e.reply)["access_token"] for e in run.recorder.exchanges
              if "/identity/oauth/token" in e.url and e.status == 200}
    assert tokens
    outputs = [render_plan(run.first), render_plan(run.second), render_apply_report(run.report),
               json.dumps(plan_to_json(run.first)), run.logs]
    for text in outputs:
        assert secret not in text
        for token in tokens:
            assert token not in text
