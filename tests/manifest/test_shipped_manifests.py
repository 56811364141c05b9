"""The shipped seed manifests are valid and say exactly what the setup articles say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.manifest import load
from provisioner.manifest.model import object_api_name

from .helpers import run_validate, validate_json

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"


@pytest.fixture(scope="module")
def shipped():
    result = load([MANIFESTS])
    assert result.ok, [f.render() for f in result.findings]
    return result.manifests


def test_validate_shipped_manifests_exits_zero() -> None:
    code, output = run_validate(str(MANIFESTS))
    assert code == 0, output
    assert "6 manifest(s) valid" in output


def test_json_format_for_ci() -> None:
    code, report = validate_json(str(MANIFESTS))
    assert code == 0
    assert report["valid"] is True and report["findings"] == [] and report["documents"] == 6


def test_every_manifest_has_the_schema_modeline() -> None:
    for path in sorted(MANIFESTS.iterdir()):
        assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json"), path


def test_kaltura_statuses_are_both_lists(shipped) -> None:
    campaign = shipped.campaign("Kaltura Event Template")
    labels = campaign.labels()
    assert labels[:9] == ["Created", "Invited", "Registered", "Confirmed", "autoConfirmed", "Attended",
                          "Participated", "Blocked", "Un-registered"]
    for granular in ("SSO login", "Invited by team member", "Invited by team member to register", "Confirmed email",
                     "Registered no confirmation required", "Pre-event visit", "During-event visit"):
        assert granular in labels
    assert len(labels) == len(set(labels)) == 16
    assert [s.label for s in campaign.statuses if s.default] == ["Created"]


def test_external_id_field_has_every_flag(shipped) -> None:
    member = next(o for o in shipped.salesforce_objects() if o.name == "CampaignMember" and
                  any(f.name == "external_id" for f in o.fields))
    field = next(f for f in member.fields if f.name == "external_id")
    # Not required (the article says required): a required CampaignMember field breaks every other integration
    # adding members to campaigns in the same org (tests/sync/test_sync_coexistence.py).
    assert (field.type, field.length, field.required, field.unique, field.case_sensitive, field.external_id) == \
        ("Text", 200, False, True, False, True)
    assert field.full_name == "CampaignMember.external_id__c"


def test_user_session_engagement_fields_and_types(shipped) -> None:
    obj = next(o for o in shipped.salesforce_objects() if o.name == "UserSessionEngagement")
    fields = {f.name: f for f in obj.fields}
    assert len(fields) == 32  # the article's 31 rows + the sync's external_id
    assert (fields["entry_id"].type, fields["entry_id"].length) == ("Text", 11)
    assert fields["Lead"].type == "Lookup" and fields["Lead"].reference_to == "Lead"
    assert fields["email"].type == "Email"
    assert (fields["vod_minutes_viewed"].length, fields["vod_minutes_viewed"].decimal_places,
            fields["vod_minutes_viewed"].precision) == (16, 2, 18)
    assert (fields["plays"].length, fields["plays"].decimal_places) == (18, 0)
    assert obj.api_name == "UserSessionEngagement__c"


def test_polls_object_has_ten_polls_of_three_fields(shipped) -> None:
    obj = next(o for o in shipped.salesforce_objects() if o.name == "Kaltura_User_Polls")
    poll_fields = [f.name for f in obj.fields if f.name.startswith("poll_")]
    assert len(poll_fields) == 30
    assert poll_fields[:3] == ["poll_1_type", "poll_1_answer", "poll_1_question"]
    assert poll_fields[-1] == "poll_10_question"
    assert all(f.type == "Text" and f.length == 255 for f in obj.fields if f.name.startswith("poll_"))
    assert object_api_name(obj.name) == "Kaltura_User_Polls__c"


def test_marketo_channel_program_object_activity(shipped) -> None:
    channel = shipped.channel("Kaltura Event")
    assert [(s.name, s.step, s.success) for s in channel.statuses] == [
        ("Created", 10, False), ("Invited", 20, False), ("Registered", 30, True), ("Confirmed", 40, True),
        ("autoConfirmed", 40, True), ("Attended", 50, True), ("Participated", 60, True), ("Blocked", 70, False),
        ("Un-registered", 80, False)]
    marketo = shipped.marketo[0]
    program = marketo.programs[0]
    assert (program.type, program.channel) == ("Event", "Kaltura Event")
    obj = marketo.custom_objects[0]
    types = {f.name: f.data_type for f in obj.fields}
    assert obj.api_name == "kalturaUserSessionEngagement" and len(types) == 31
    assert types["personId"] == "link" and types["combined_live_engaged_users_play_time_ratio"] == "float"
    assert types["high_live_engagement_rate"] == "float" and "download_attachment" in types
    activity = marketo.custom_activities[0]
    assert activity.api_name == "userSessionEngagement" and activity.primary_attribute.api_name == "entry_id"
    assert len(activity.attributes) == 19
    assert {a.data_type for a in activity.attributes} == {"string", "integer", "float"}


def test_status_map_granular_to_displayed(shipped) -> None:
    sync = next(s for s in shipped.sync if s.name == "kaltura-sync")
    rows = {r.source: r for r in sync.status_map}
    assert (rows["Confirmed email"].salesforce, rows["Confirmed email"].marketo) == ("Confirmed email", "Registered")
    assert rows["During-event visit"].marketo == "Attended"
    assert rows["Invited by team member"].marketo == "Invited"


def test_livestorm_matching_policy(shipped) -> None:
    sync = next(s for s in shipped.sync if s.name == "livestorm-sync")
    matching = sync.salesforce["matching"]
    assert matching["order"] == ["Contact", "Lead"] and matching["duplicates"] == "oldest"
    assert matching["createAs"] == "Lead" and matching["fallbacks"]["Company"]
    campaign = shipped.campaign("Livestorm Session Template")
    assert campaign.type == "Webinar"


def test_validate_imports_no_api_client() -> None:
    """Validation must stay fast: no Salesforce/Marketo client, and no jsonschema for valid manifests."""
    code = ("import sys; from provisioner.cli import main; sys.argv=['provisioner','validate',%r];\n"
            "try:\n main()\nexcept SystemExit as e:\n heavy=[m for m in ('simple_salesforce','zeep','requests','jsonschema')"
            " if m in sys.modules]; print('HEAVY', heavy, e.code)") % str(MANIFESTS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY [] 0" in out


def test_templated_manifest_takes_variables(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml.j2"
    path.write_text("apiVersion: provisioner/v1\nkind: Salesforce\nmetadata:\n  name: '{{ name }}'\nspec: {}\n")
    code, output = run_validate("--var", "name=from-var", str(path))
    assert code == 0, output
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text("name: from-file\n")
    code, report = validate_json(str(path))
    assert code == 1 and "'name' is undefined" in json.dumps(report)
    code, output = run_validate("--vars-file", str(vars_file), str(path))
    assert code == 0, output
