"""Every documented vendor rule has a case here: a manifest that breaks it gets a finding at the line
that breaks it, with a hint, the rule's id and the vendor document it comes from; and validate stays
offline and fast on the shipped manifests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from provisioner.manifest.vendor_rules import RULES

from .helpers import validate_json

REPO = Path(__file__).resolve().parents[2]
SF = "apiVersion: provisioner/v1\nkind: Salesforce\nmetadata: {name: rules}\nspec:\n"
MK = "apiVersion: provisioner/v1\nkind: Marketo\nmetadata: {name: rules}\nspec:\n"


def sf_fields(*fields: str) -> str:
    return SF + "  objects:\n    - name: CampaignMember\n      fields:\n" + "".join(f"        - {f}\n" for f in fields)


def activity(attributes: str, primary: str = "{apiName: entry_id, name: Entry ID, dataType: string}") -> str:
    return MK + f"""  customActivities:
    - apiName: sessionEngagement
      name: Session Engagement
      triggerName: Engages in a session
      filterName: Engaged in a session
      primaryAttribute: {primary}
      attributes:
{attributes}"""


def activities(n: int) -> str:
    return MK + "  customActivities:\n" + "".join(
        f"    - {{apiName: act{i}, name: A{i}, triggerName: T{i}, filterName: F{i}, "
        f"primaryAttribute: {{apiName: key, name: Key, dataType: string}}}}\n" for i in range(n))


# rule id → cases: (case id, manifest text with #< on the line the finding must point at, message part)
CASES: dict[str, list[tuple[str, str, str]]] = {
    "salesforce.developer-name": [
        ("object-leading-digit", SF + "  objects:\n    - name: 1Webinar #<\n      label: W\n      pluralLabel: W\n"
         "      nameField: {label: N, type: Text}\n", "object name '1Webinar' must start with a letter"),
        ("permission-set-space", SF + "  access:\n    permissionSet: {name: Kaltura Integration, label: K} #<\n",
         "permission set name 'Kaltura Integration' has characters Salesforce does not allow: ' '"),
    ],
    "salesforce.reserved-suffix": [
        ("field-with-__c", sf_fields("{name: session__c, type: Text, length: 10} #<"),
         "field name 'session__c' ends in the reserved suffix '__c'"),
        ("relationship-with-__r", sf_fields("{name: lead, type: Lookup, referenceTo: Lead, "
                                            "relationshipName: Sessions__r} #<"),
         "relationshipName 'Sessions__r' ends in the reserved suffix '__r'"),
    ],
    "salesforce.relationship-name": [
        ("spaces", sf_fields("{name: lead, type: Lookup, referenceTo: Lead, relationshipName: Related Sessions} #<"),
         "relationshipName 'Related Sessions' has characters Salesforce does not allow: ' '"),
        ("leading-digit", sf_fields("{name: lead, type: Lookup, referenceTo: Lead, relationshipName: 1st_Sessions} #<"),
         "relationshipName '1st_Sessions' must start with a letter"),
        ("twice-on-one-parent", sf_fields("{name: lead, type: Lookup, referenceTo: Lead, relationshipName: Members}",
                                          "{name: lead2, type: Lookup, referenceTo: Lead, relationshipName: Members} #<"),
         "relationshipName 'Members' is already a child relationship of Lead"),
    ],
    "salesforce.required-lookup-delete": [
        ("explicit", sf_fields("{name: lead, type: Lookup, referenceTo: Lead, required: true,\n"
                               "           deleteConstraint: SetNull} #<"),
         "required Lookup field 'lead' cannot use deleteConstraint SetNull"),
        ("default", sf_fields("{name: lead, type: Lookup, referenceTo: Lead, required: true} #<"),
         "required Lookup field 'lead' cannot use deleteConstraint SetNull (the default)"),
    ],
    "salesforce.field-type": [
        ("external-id-on-long-text", sf_fields("{name: notes, type: LongTextArea, length: 1000,\n"
                                               "           externalId: true} #<"),
         "externalId is only possible on Text, Number and Email fields, not LongTextArea"),
        ("long-text-too-short", sf_fields("{name: notes, type: LongTextArea, length: 255} #<"),
         "LongTextArea length must be between 256 and 131072, got 255"),
        ("required-checkbox", sf_fields("{name: done, type: Checkbox, required: true} #<"),
         "Checkbox fields cannot be required"),
    ],
    "salesforce.campaign-member-status": [
        ("two-defaults", SF + "  campaignMemberStatuses:\n    - campaign: Webinar Template\n      statuses:\n"
         "        - {label: Registered, default: true, responded: true}\n        - {label: Attended, default: true} #<\n",
         "campaign 'Webinar Template' has more than one default status"),
    ],
    "marketo.api-name": [
        ("attribute-with-spaces", activity("        - {apiName: Entry Name, name: Entry Name, dataType: string} #<\n"),
         "attribute apiName 'Entry Name' must start with a letter and use only letters, digits and underscores"),
        ("primary-leading-digit", activity("        - {apiName: plays, name: Plays, dataType: integer}\n",
                                           primary="{apiName: 1entry, name: Entry, dataType: string} #<"),
         "primary attribute apiName '1entry' must start with a letter"),
    ],
    "marketo.dedupe-type": [
        ("float-dedupe", MK + "  customObjects:\n    - apiName: engagement\n      displayName: Engagement\n"
         "      dedupeFields: [score] #<\n      fields:\n        - {name: score, displayName: Score, dataType: float}\n",
         "dedupe field 'score' is of type float"),
    ],
    "marketo.program-folder": [
        ("design-studio", MK + "  channels:\n    - {name: Ev, programType: event, statuses: [{name: R, step: 10}]}\n"
         "  programs:\n    - {name: Summit, type: Event, channel: Ev,\n       folder: Design Studio/Events} #<\n",
         "program 'Summit' is in folder 'Design Studio/Events', outside Marketing Activities"),
    ],
    "marketo.type-limits": [
        ("eleven-activity-types", activities(11) + "#<\n", "11 custom activity types declared"),
    ],
}


def test_every_documented_rule_has_a_case_and_a_source() -> None:
    assert set(CASES) == set(RULES)
    for rule in RULES.values():
        assert rule.url.startswith("https://") and rule.document and rule.says


@pytest.mark.parametrize("rule_id,case", [(r, c) for r, cases in CASES.items() for c in cases],
                         ids=lambda v: v if isinstance(v, str) else v[0])
def test_a_manifest_breaking_the_rule_gets_a_located_finding_with_hint_and_source(
        rule_id: str, case: tuple[str, str, str], tmp_path: Path) -> None:
    _name, text, message = case
    lines = text.splitlines()
    marked = next(i for i, line in enumerate(lines, start=1) if line.rstrip().endswith("#<"))
    if lines[marked - 1].strip() == "#<":  # a marker on a line of its own: the finding is at the last item
        marked = max(i for i, line in enumerate(lines[: marked - 1], start=1) if line.startswith("    - "))
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    code, report = validate_json(str(path))
    assert code == 1
    found = [f for f in report["findings"] if message in f["message"]]
    assert found, report["findings"]
    [f] = found[:1]
    assert (f["file"], f["line"]) == (str(path), marked), f
    assert f["hint"]
    assert f["rule"] == rule_id and RULES[rule_id].url in f["source"], f


def test_validate_stays_offline_and_under_0_3_s_on_the_shipped_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from provisioner.manifest import load

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("validate opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    load([str(REPO / "manifests")])  # imports and the schema, once
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = load([str(REPO / "manifests")])
        timings.append(time.perf_counter() - started)
    assert result.ok, [f.render() for f in result.findings]
    assert min(timings) <= 0.3, timings
