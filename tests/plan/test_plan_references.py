"""Plan checks every reference that the plan itself does not create against the org as it is.

Each case is a manifest that validate accepts (the reference is well formed) but whose target the
org lacks: a campaign's parent, a Marketo program's channel, the program it clones, a lookup's target
object, the objects a permission set grants fields on. (A program's folder path cannot lack its root:
validate holds it to Marketing Activities, which every instance has.) `plan` exits 1 naming the address and what is missing; `apply --auto-approve` refuses the same way, and the org
(read from the sandbox's own state, not from the tool) holds nothing of the manifests afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
KALTURA_MARKETO = REPO / "manifests" / "kaltura-marketo.yaml"

SALESFORCE = """apiVersion: provisioner/v1
kind: Salesforce
metadata: {{name: refs}}
spec:
{spec}
"""
MARKETO = """apiVersion: provisioner/v1
kind: Marketo
metadata: {{name: refs}}
spec:
{spec}
"""
GOOD_OBJECT = """  objects:
    - name: Probe_Object
      label: Probe Object
      pluralLabel: Probe Objects
      nameField: {label: Probe Name, type: Text}
      fields:
        - {name: probe_note, type: Text, length: 20}
"""


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """An empty org, and a Marketo instance with only Marketo's standard channels plus "Kaltura Event"."""
    from provisioner.manifest import load
    from provisioner.sandbox.seed import channels_from_manifests

    channels = channels_from_manifests(load([str(KALTURA_MARKETO)]).manifests)
    with Sandbox(tmp_path_factory.mktemp("refs") / "sandbox", marketo_channels=channels) as sandbox:
        yield sandbox


def run(box: Sandbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=box.env(), catch_exceptions=False)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def org_contents(box: Sandbox) -> dict[str, Any]:
    """What the manifests could have created, read from the sandbox's state."""
    store = box.salesforce_app.store  # type: ignore[union-attr]
    state = box.marketo_app.state
    return {
        "campaigns": sorted(c["Name"] for c in store.all("Campaign")),
        "custom objects": sorted(name for name, o in store.objects.items() if name.endswith("__c")),
        "custom fields": sorted(f"{o.name}.{f.name}" for o in store.objects.values() for f in o.fields.values()
                                if f.custom),
        "permission sets": sorted(p["Name"] for p in store.all("PermissionSet")),
        "programs": sorted(p["name"] for p in state["programs"].values()),
        "folders": sorted(f["name"] for f in state["folders"].values()),
        "custom object types": sorted(state["customObjectTypes"]),
        "activity types": sorted(state["activityTypes"]),
    }


CASES = {
    "campaign parent": (
        SALESFORCE.format(spec=GOOD_OBJECT + """  campaignMemberStatuses:
    - campaign: Child Webinar
      parent: No Such Parent Campaign
      statuses:
        - {label: Registered, default: true}
        - {label: Attended, responded: true}
"""),
        'salesforce.campaign."Child Webinar"', "parent campaign 'No Such Parent Campaign' does not exist"),
    "lookup target": (
        SALESFORCE.format(spec=GOOD_OBJECT + """    - name: Lead
      fields:
        - {name: related_case, type: Lookup, referenceTo: Case, relationshipName: Related_Leads}
"""),
        "salesforce.field.Lead.related_case__c", "lookup target object Case does not exist"),
    "permission set objects": (
        SALESFORCE.format(spec=GOOD_OBJECT + """    - name: Opportunity
      fields:
        - {name: webinar_source, type: Text, length: 80}
  access:
    permissionSet: {name: Refs_Integration, label: Refs Integration}
"""),
        "salesforce.permission_set.Refs_Integration", "granted object Opportunity does not exist"),
    "program channel": (
        MARKETO.format(spec="""  channels:
    - name: Summit Track
      programType: event
      statuses:
        - {name: Registered, step: 10}
        - {name: Attended, step: 20, success: true}
  programs:
    - {name: Summit 2027, type: Event, channel: Summit Track, folder: Marketing Activities/Summits}
"""),
        'marketo.program."Summit 2027"', "channel 'Summit Track' does not exist in the instance"),
    "template program": (
        MARKETO.format(spec="""  programs:
    - {name: Keynote 2027, type: Event, channel: Kaltura Event, folder: Marketing Activities/Events,
       cloneFrom: No Such Template}
"""),
        'marketo.program."Keynote 2027"', "the program to clone, 'No Such Template', does not exist"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_plan_and_apply_refuse_a_reference_the_org_lacks_and_the_org_stays_untouched(
        box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    text, address, missing = CASES[case]
    manifest = tmp_path / "refs.yaml"
    manifest.write_text(text, encoding="utf-8")
    paths = [str(manifest)] + ([str(KALTURA_MARKETO)] if "kind: Marketo" in text else [])
    code, out = run(box, "validate", *paths)
    assert code == 0, out  # well formed: only the org can tell that the reference is missing
    before = org_contents(box)

    code, out = run(box, "plan", *paths)
    assert code == 1, out
    assert f"{address}: {missing}" in out, out
    assert "Traceback" not in out

    code, out = run(box, "apply", "--auto-approve", *paths)
    assert code == 1, out
    assert f"{address}: {missing}" in out, out
    assert org_contents(box) == before  # nothing of the manifests was created: not half-applied


def test_a_missing_marketo_permission_stops_apply_before_salesforce_is_written(
        box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Salesforce kinds apply first; the Marketo API user's permissions for what the plan writes are checked
    before that first write (here the plan's own read of activity types already meets the missing permission)."""
    import requests

    monkeypatch.chdir(tmp_path)
    manifest = tmp_path / "sf.yaml"
    manifest.write_text(SALESFORCE.format(spec=GOOD_OBJECT), encoding="utf-8")
    admin = f"{box.marketo_url}/__sandbox/limits"
    everything = requests.post(admin, json={}, verify=box.ca_bundle, timeout=10).json()["permissions"]
    requests.post(admin, json={"permissions": [p for p in everything if p != "Read-Write Activity Metadata"]},
                  verify=box.ca_bundle, timeout=10).raise_for_status()
    try:
        before = org_contents(box)
        code, out = run(box, "apply", "--auto-approve", str(manifest), str(KALTURA_MARKETO))
        assert code == 1, out
        assert "Read-Write Activity Metadata" in out, out
        assert org_contents(box) == before  # not the custom object on the Salesforce side either
    finally:
        requests.post(admin, json={"permissions": everything}, verify=box.ca_bundle, timeout=10).raise_for_status()
