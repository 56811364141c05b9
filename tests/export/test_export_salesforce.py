"""`provisioner export salesforce` against an emulated org over real HTTPS.

Round trip: an org built from the shipped manifests exports a manifest that validates and plans
`No changes.`; an org changed by hand exports the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [REPO / "manifests" / "kaltura-salesforce.yaml", REPO / "manifests" / "kaltura-salesforce-polls.yaml.j2"]
EXPORT_ALL = ["export", "salesforce", "--object", "CampaignMember", "--object", "UserSessionEngagement",
              "--object", "Kaltura_User_Polls", "--campaign", "Kaltura Event Template",
              "--permission-set", "Kaltura_Events_Integration", "--permission-set", "Kaltura_Events_Polls_Integration",
              "--name", "kaltura-org"]


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _built(tmp: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp, marketo=False) as box:
        applied = run(box.env(), "apply", *map(str, SHIPPED), "--auto-approve")
        assert applied.exit_code == 0, applied.output
        yield box


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """An org built by applying the shipped Kaltura manifests; the tests here only read it."""
    yield from _built(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def exported(org: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run(org.env(), *EXPORT_ALL)
    assert result.exit_code == 0, result.output
    path = tmp_path_factory.mktemp("export") / "kaltura-org.yaml"
    path.write_text(result.stdout)
    return path


def test_export_of_a_built_org_validates_and_plans_no_changes(org: Sandbox, exported: Path) -> None:
    validated = run(org.env(), "validate", str(exported))
    assert validated.exit_code == 0, validated.output
    planned = run(org.env(), "plan", str(exported), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith("No changes.")


def test_export_is_in_setup_terms_with_the_schema_modeline(exported: Path) -> None:
    text = exported.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    docs = list(yaml.safe_load_all(text))
    objects = {o["name"]: o for doc in docs for o in doc["spec"].get("objects", [])}
    assert set(objects) == {"CampaignMember", "UserSessionEngagement", "Kaltura_User_Polls"}
    use = objects["UserSessionEngagement"]
    fields = {f["name"]: f for f in use["fields"]}
    assert fields["vod_minutes_viewed"]["length"] == 16 and fields["vod_minutes_viewed"]["decimalPlaces"] == 2
    assert fields["Lead"]["referenceTo"] == "Lead"
    assert use["nameField"] == {"label": "Engagement Number", "type": "AutoNumber", "displayFormat": "USE-{00000000}"}
    assert "__c" not in text.replace("# ", "")  # names written as admins see them
    assert "{name: vod_minutes_viewed, type: Number, length: 16, decimalPlaces: 2," in text


def test_each_permission_set_gets_a_document_with_the_objects_it_grants(exported: Path) -> None:
    docs = list(yaml.safe_load_all(exported.read_text()))
    layout = [(d["metadata"]["name"], d["spec"]["access"]["permissionSet"]["name"],
               [o["name"] for o in d["spec"]["objects"]]) for d in docs]
    assert layout == [("kaltura-org", "Kaltura_Events_Integration", ["CampaignMember", "UserSessionEngagement"]),
                      ("kaltura-org-kaltura-events-polls-integration", "Kaltura_Events_Polls_Integration",
                       ["Kaltura_User_Polls"])]
    assert docs[0]["spec"]["access"]["permissionSet"]["label"] == "Kaltura Events Integration"


def test_campaign_statuses_include_the_defaults_every_new_campaign_gets(exported: Path) -> None:
    campaign = next(yaml.safe_load_all(exported.read_text()))["spec"]["campaignMemberStatuses"][0]
    labels = [s["label"] for s in campaign["statuses"]]
    assert labels[:3] == ["Sent", "Responded", "Created"]  # SortOrder: Salesforce's own two come first
    assert [s["label"] for s in campaign["statuses"] if s.get("default")] == ["Created"]
    assert {"label": "Attended", "responded": True} in campaign["statuses"]


def test_a_missing_object_campaign_or_permission_set_exits_1(org: Sandbox) -> None:
    for args, expected in ((("--object", "NoSuchThing"), "no object 'NoSuchThing'"),
                           (("--campaign", "No Such Campaign"), "no campaign named 'No Such Campaign'"),
                           (("--permission-set", "No_Such_Set"), "no permission set named 'No_Such_Set'")):
        result = run(org.env(), "export", "salesforce", *args)
        assert result.exit_code == 1, result.output
        assert expected in result.stderr
        assert result.stdout == ""


CONTACT_FIELDS = (
    {"fullName": "Tier__c", "type": "Picklist", "label": "Tier", "valueSet": {"restricted": True, "valueSetDefinition": {
        "value": [{"fullName": "Gold", "label": "Gold!", "default": True}, {"fullName": "Silver", "label": "Silver"}]}}},
    {"fullName": "Opted_In__c", "type": "Checkbox", "label": "Opted In", "defaultValue": "true"},
    {"fullName": "Notes__c", "type": "LongTextArea", "label": "Notes", "length": 5000, "visibleLines": 4},
)


def _add_by_hand(box: Sandbox, obj: str, md: dict[str, object]) -> None:
    added = requests.post(f"{box.salesforce_url}/__sandbox/fields", json={"object": obj, "metadata": md},
                          verify=box.ca_bundle, timeout=30)
    assert added.status_code == 200, added.text


@pytest.fixture(scope="module")
def changed_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A built org that an admin then changed by hand."""
    for box in _built(tmp_path_factory.mktemp("changed")):
        conn = SalesforceConnection.from_env(box.env())
        name = "UserSessionEngagement__c.entry_id__c"
        entry_id = conn.metadata.read("CustomField", [name])[name]
        assert entry_id is not None
        saved = conn.metadata.upsert([conn.metadata.make("CustomField", **dict(entry_id, fullName=name, length=40))])
        assert all(r.success for r in saved)
        for md in ({"fullName": "Kaltura_Score__c", "label": "Kaltura Score", "type": "Number", "precision": 10,
                    "scale": 2, "description": "Added in Setup: by hand,\n{years ago}", "trackHistory": True},
                   {"fullName": "Last_Session__c", "label": "Last Session", "type": "Lookup",
                    "referenceTo": "UserSessionEngagement__c", "relationshipName": "Leads_Last_Session",
                    "relationshipLabel": "Leads (last session)",
                    "deleteConstraint": "SetNull"}):
            _add_by_hand(box, "Lead", md)
        for md in CONTACT_FIELDS:
            _add_by_hand(box, "Contact", md)
        yield box


def test_export_shows_changes_made_by_hand(changed_org: Sandbox, tmp_path: Path) -> None:
    result = run(changed_org.env(), "export", "salesforce", "--object", "Lead", "--object", "UserSessionEngagement")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    objects = {o["name"]: {f["name"]: f for f in o["fields"]} for o in doc["spec"]["objects"]}
    assert objects["UserSessionEngagement"]["entry_id"]["length"] == 40
    score = objects["Lead"]["Kaltura_Score"]
    assert (score["label"], score["length"], score["decimalPlaces"]) == ("Kaltura Score", 8, 2)
    assert score["description"] == "Added in Setup: by hand,\n{years ago}"
    assert "# Kaltura_Score__c: left out (not managed by provisioner): trackHistory" in result.stdout
    # a lookup to an exported custom object is kept, with its target written without __c
    assert objects["Lead"]["Last_Session"]["referenceTo"] == "UserSessionEngagement"
    path = tmp_path / "changed.yaml"
    path.write_text(result.stdout)
    assert run(changed_org.env(), "validate", str(path)).exit_code == 0
    planned = run(changed_org.env(), "plan", str(path), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output


def test_a_lookup_to_an_object_not_exported_is_left_out_with_a_comment(changed_org: Sandbox, tmp_path: Path) -> None:
    result = run(changed_org.env(), "export", "salesforce", "--object", "Lead")
    assert result.exit_code == 0, result.output
    assert ("# left out: Last_Session__c (a lookup to UserSessionEngagement__c; "
            "add --object UserSessionEngagement to export it)") in result.stdout
    names = [f["name"] for f in yaml.safe_load(result.stdout)["spec"]["objects"][0]["fields"]]
    assert names == ["Kaltura_Score"]
    path = tmp_path / "lead.yaml"
    path.write_text(result.stdout)
    assert run(changed_org.env(), "validate", str(path)).exit_code == 0


def test_picklist_checkbox_and_long_text_fields_round_trip(changed_org: Sandbox, tmp_path: Path) -> None:
    result = run(changed_org.env(), "export", "salesforce", "--object", "Contact")
    assert result.exit_code == 0, result.output
    fields = yaml.safe_load(result.stdout)["spec"]["objects"][0]["fields"]
    assert fields == [
        {"name": "Tier", "type": "Picklist", "restricted": True, "values": ["Gold", "Silver"]},
        {"name": "Opted_In", "label": "Opted In", "type": "Checkbox", "defaultValue": True},
        {"name": "Notes", "type": "LongTextArea", "length": 5000, "visibleLines": 4},
    ]
    assert "# Tier__c: left out the labels and default flags of values Gold" in result.stdout
    path = tmp_path / "contact.yaml"
    path.write_text(result.stdout)
    planned = run(changed_org.env(), "plan", str(path), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output


SESSION = """apiVersion: provisioner/v1
kind: Salesforce
metadata: {name: summit-keynote}
spec:
  campaignMemberStatuses:
    - campaign: "Summit: Keynote"
      status: In Progress
      startDate: "2027-03-01"
      endDate: "2027-03-02"
      parent: Kaltura Event Template
      isActive: false
      statuses:
        - {label: Registered, default: true}
        - {label: Attended, responded: true}
"""


def test_a_session_campaign_exports_its_status_dates_and_parent(changed_org: Sandbox, tmp_path: Path) -> None:
    manifest = tmp_path / "session.yaml"
    manifest.write_text(SESSION)
    applied = run(changed_org.env(), "apply", str(manifest), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    result = run(changed_org.env(), "export", "salesforce", "--campaign", "Summit: Keynote")
    assert result.exit_code == 0, result.output
    campaign = yaml.safe_load(result.stdout)["spec"]["campaignMemberStatuses"][0]
    assert {k: campaign.get(k) for k in ("status", "startDate", "endDate", "parent", "isActive")} == {
        "status": "In Progress", "startDate": "2027-03-01", "endDate": "2027-03-02",
        "parent": "Kaltura Event Template", "isActive": False}
    path = tmp_path / "exported.yaml"
    path.write_text(result.stdout)
    planned = run(changed_org.env(), "plan", str(path), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    # a date moved in Setup shows up in the next export
    conn = SalesforceConnection.from_env(changed_org.env())
    found = conn.read_campaigns(["Summit: Keynote"])["Summit: Keynote"]
    conn.sf.Campaign.update(found["Id"], {"StartDate": "2027-02-28"})
    again = yaml.safe_load(run(changed_org.env(), "export", "salesforce", "--campaign", "Summit: Keynote").stdout)
    assert again["spec"]["campaignMemberStatuses"][0]["startDate"] == "2027-02-28"
