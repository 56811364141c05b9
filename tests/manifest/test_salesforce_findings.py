"""validate on Salesforce manifests: every finding a user gets, exactly, with its line and column, message,
hint and rule; and nothing on the names, sizes and flags Salesforce allows (the edges included).

The expected findings are written out from Salesforce's documented rules (see provisioner/manifest/
vendor_rules.py for the documents): developer names of at most 40 characters that start with a letter, use
letters, digits and single underscores and do not end in one; Text 1-255, LongTextArea 256-131072, numbers
at most 18 digits; unique and externalId on Text, Number and Email only; Checkbox never required; one default
and at least one responded status per campaign. Positions are found in the manifest text itself (``at``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import SF_HEAD, findings_in

SF = SF_HEAD.format(name="sf")
NAME = "salesforce.developer-name"
RESERVED = "salesforce.reserved-suffix"
TYPE = "salesforce.field-type"
REL = "salesforce.relationship-name"
STATUS = "salesforce.campaign-member-status"
TOOL = "salesforce"  # a rule of the manifest format, no vendor document behind it


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the ``nth`` occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def fields(*rows: str, obj: str = "CampaignMember") -> str:
    return SF + f"  objects:\n    - name: {obj}\n      fields:\n" + "".join(f"        - {r}\n" for r in rows)


def widget(extra: str = "", fields_: str = "        - {name: a, type: Text, length: 10}\n") -> str:
    return SF + ("  objects:\n    - name: Widget\n      label: Widget\n      pluralLabel: Widgets\n"
                 "      nameField: {label: Name, type: Text}\n") + extra + "      fields:\n" + fields_


def expect(tmp: Path, text: str, *expected: tuple[str, str, str, str, int]) -> None:
    """The findings of ``text`` are exactly ``expected``: (needle, message, hint, rule, nth needle)."""
    want = sorted((*at(text, needle, nth), message, hint, rule) for needle, message, hint, rule, nth in expected)
    assert sorted(findings_in(tmp, text)) == want


# -- developer names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a", "Session_Id2", "a" * 40, "poll_r", "my_x_value"])
def test_names_salesforce_allows_get_no_finding(tmp_path: Path, name: str) -> None:
    """40 characters is the limit, not over it; a single-underscore ``_r`` is not the reserved ``__r``."""
    assert findings_in(tmp_path, fields(f"{{name: {name}, type: Text, length: 10}}")) == []


@pytest.mark.parametrize("name,message,hint", [
    ("_id", "field name '_id' must start with a letter", "rename it so it starts with a letter"),
    ("2nd", "field name '2nd' must start with a letter", "rename it so it starts with a letter"),
    ("'entry-id x'", "field name 'entry-id x' has characters Salesforce does not allow: ' ' '-'",
     "use letters, digits and underscores only"),
    ("poll__answer", "field name 'poll__answer' contains a double underscore",
     "Salesforce reserves '__'; use a single underscore"),
    ("ab_", "field name 'ab_' ends with an underscore", "remove the trailing underscore"),
    ("a" * 41, f"field name '{'a' * 41}' is 41 characters; the limit is 40", "shorten the name"),
    ("session__c", "field name 'session__c' ends in the reserved suffix '__c'",
     "write the name without the suffix: 'session'; Salesforce adds __c"),
    ("Session__C", "field name 'Session__C' ends in the reserved suffix '__C'",
     "write the name without the suffix: 'Session'; Salesforce adds __c"),
    ("polls_c", "field name 'polls_c' ends in the reserved suffix '_c'",
     "write the name without the suffix: 'polls'; Salesforce adds __c"),
    ("feed__kav", "field name 'feed__kav' ends in the reserved suffix '__kav'",
     "write the name without the suffix: 'feed'; Salesforce adds __c"),
])
def test_each_broken_name_rule_is_one_finding_on_the_name(tmp_path: Path, name: str, message: str, hint: str) -> None:
    text = fields(f"{{name: {name}, type: Text, length: 10}}")
    rule = RESERVED if "reserved" in message else NAME
    expect(tmp_path, text, (name, message, hint, rule, 1))


def test_a_name_breaking_two_rules_gets_both_findings(tmp_path: Path) -> None:
    text = fields("{name: a__b_, type: Text, length: 10}")
    expect(tmp_path, text, ("a__b_", "field name 'a__b_' contains a double underscore",
                            "Salesforce reserves '__'; use a single underscore", NAME, 1),
           ("a__b_", "field name 'a__b_' ends with an underscore", "remove the trailing underscore", NAME, 1))


def test_a_name_that_is_only_a_suffix_gets_another_name(tmp_path: Path) -> None:
    text = fields("{name: Thing, type: Lookup, referenceTo: Lead, relationshipName: __r}")
    expect(tmp_path, text, ("__r", "relationshipName '__r' ends in the reserved suffix '__r'", "choose another name",
                            RESERVED, 1))


def test_permission_set_names_get_no_suffix_hint(tmp_path: Path) -> None:
    """Salesforce adds no suffix to a permission set: the hint does not say it does; ``_c`` is allowed there."""
    text = SF + "  access:\n    permissionSet: {name: Kaltura__c, label: K}\n"
    expect(tmp_path, text, ("Kaltura__c", "permission set name 'Kaltura__c' ends in the reserved suffix '__c'",
                            "write the name without the suffix: 'Kaltura'", RESERVED, 1))
    assert findings_in(tmp_path, SF + "  access:\n    permissionSet: {name: Kaltura_c, label: K}\n") == []


def test_object_names_are_checked_only_for_custom_objects(tmp_path: Path) -> None:
    text = widget().replace("name: Widget", "name: 1Widget")
    expect(tmp_path, text, ("1Widget", "object name '1Widget' must start with a letter",
                            "rename it so it starts with a letter", NAME, 1))


# -- custom and standard objects ------------------------------------------------------------------------

def test_a_custom_object_needs_label_plural_label_and_name_field(tmp_path: Path) -> None:
    text = SF + "  objects:\n    - name: Widget\n      fields: []\n"
    expect(tmp_path, text,
           ("name: Widget", "custom object 'Widget' needs 'label'", "if this is a standard object, set 'custom: false'",
            TOOL, 1),
           ("name: Widget", "custom object 'Widget' needs 'pluralLabel'",
            "custom objects need label, pluralLabel and nameField", TOOL, 1),
           ("name: Widget", "custom object 'Widget' needs 'nameField'",
            "custom objects need label, pluralLabel and nameField", TOOL, 1))
    assert findings_in(tmp_path, text.replace("fields: []", "ensure: absent\n      fields: []")) == []


def test_a_standard_object_takes_only_custom_fields(tmp_path: Path) -> None:
    text = SF + "  objects:\n    - name: Lead\n      label: Lead\n      sharingModel: Private\n      fields: []\n"
    expect(tmp_path, text,
           ("label", "'label' applies to custom objects only; Lead is a standard object",
            "remove it; only the custom fields of standard objects are managed", TOOL, 1),
           ("sharingModel", "'sharingModel' applies to custom objects only; Lead is a standard object",
            "remove it; only the custom fields of standard objects are managed", TOOL, 1))
    assert findings_in(tmp_path, text.replace("name: Lead", "name: Lead\n      custom: true")
                       .replace("fields: []", "pluralLabel: Leads\n      nameField: {label: N, type: Text}\n"
                                              "      fields: []")) == []


def test_name_field_formats(tmp_path: Path) -> None:
    auto = widget().replace("{label: Name, type: Text}", "{label: Name, type: AutoNumber, displayFormat: 'W-{A}'}")
    expect(tmp_path, auto, ("{label: Name, type: AutoNumber", "an AutoNumber name field needs a displayFormat with "
                            "{0...}", "for example displayFormat: 'ENG-{00000000}'", TOOL, 1))
    good = auto.replace("'W-{A}'", "'W-{0000}'")
    assert findings_in(tmp_path, good) == []
    text = widget().replace("{label: Name, type: Text}", "{label: Name, type: Text, startingNumber: 1}")
    expect(tmp_path, text, ("{label: Name, type: Text, s", "displayFormat and startingNumber apply to AutoNumber "
                            "name fields only", "", TOOL, 1))


def test_a_field_declared_twice_names_the_first(tmp_path: Path) -> None:
    text = widget(fields_="        - {name: a, type: Text, length: 10}\n        - {name: b, type: Text, length: 10}\n"
                          "        - {name: A, type: Text, length: 10}\n        - {name: a, type: Text, length: 10}\n")
    expect(tmp_path, text, ("A, type", "field 'A' is declared twice on Widget", "the first is fields[0]", TOOL, 1),
           ("a, type", "field 'a' is declared twice on Widget", "the first is fields[0]", TOOL, 2))


# -- field sizes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["{name: a, type: Text, length: 255}", "{name: a, type: Text, length: 1}",
                                   "{name: a, type: LongTextArea, length: 256, visibleLines: 3}",
                                   "{name: a, type: LongTextArea, length: 131072}",
                                   "{name: a, type: Number, length: 16, decimalPlaces: 2}",
                                   "{name: a, type: Currency, length: 18}",
                                   "{name: a, type: Percent, length: 3, decimalPlaces: 0}",
                                   "{name: a, type: Checkbox}",
                                   "{name: a, type: Text, length: 20, unique: true, caseSensitive: true}",
                                   "{name: a, type: Email, externalId: true, unique: true}",
                                   "{name: a, type: Number, length: 10, externalId: true}",
                                   "{name: a, type: Picklist, values: [Live, Replay]}"])
def test_sizes_and_flags_salesforce_allows_get_no_finding(tmp_path: Path, field: str) -> None:
    assert findings_in(tmp_path, fields(field)) == []


@pytest.mark.parametrize("field,needle,message,hint", [
    ("{name: a, type: Text}", "{", "Text field 'a' needs a length", "for example Text(255) is 'length: 255'"),
    ("{name: a, type: LongTextArea}", "{", "LongTextArea field 'a' needs a length",
     "for example LongTextArea(256) is 'length: 256'"),
    ("{name: a, type: Text, length: 256}", "256", "Text length must be between 1 and 255, got 256",
     "use LongTextArea for longer text"),
    ("{name: a, type: LongTextArea, length: 255}", "255", "LongTextArea length must be between 256 and 131072, got 255",
     "use Text for up to 255 characters"),
    ("{name: a, type: LongTextArea, length: 131073}", "131073",
     "LongTextArea length must be between 256 and 131072, got 131073", "use a length from 256 to 131072"),
    ("{name: a, type: Number}", "{", "Number field 'a' needs a length (digits before the decimal point)",
     "Setup's Number(16,2) is 'length: 16, decimalPlaces: 2'"),
    ("{name: a, type: Currency, length: 17, decimalPlaces: 2}", "17",
     "length 17 + decimalPlaces 2 = 19 digits; Salesforce allows at most 18",
     "Setup's Number(16,2) is 'length: 16, decimalPlaces: 2' (precision 18)"),
    ("{name: a, type: Percent, length: 19}", "19", "length 19 + decimalPlaces 0 = 19 digits; Salesforce allows "
     "at most 18", "Setup's Number(16,2) is 'length: 16, decimalPlaces: 2' (precision 18)"),
])
def test_sizes_out_of_range_say_what_fits(tmp_path: Path, field: str, needle: str, message: str, hint: str) -> None:
    text = fields(field)
    expect(tmp_path, text, (needle, message, hint, TYPE, 1 if needle != "{" else 1))


@pytest.mark.parametrize("field,key,message,hint,rule", [
    ("{name: a, type: Email, length: 80}", "length", "Email fields have no length", "remove 'length'", TYPE),
    ("{name: a, type: Text, length: 9, decimalPlaces: 2}", "decimalPlaces",
     "decimalPlaces applies to Number, Currency and Percent, not Text", "remove it", TYPE),
    ("{name: a, type: Text, length: 9, visibleLines: 2}", "visibleLines", "visibleLines applies to LongTextArea only",
     "remove it", TYPE),
    ("{name: a, type: Text, length: 9, relationshipName: Rel}", "relationshipName",
     "'relationshipName' applies to Lookup fields only", "remove it", TOOL),
    ("{name: a, type: Text, length: 9, deleteConstraint: Restrict}", "deleteConstraint",
     "'deleteConstraint' applies to Lookup fields only", "remove it", TOOL),
    ("{name: a, type: Text, length: 9, restricted: true}", "restricted",
     "'values'/'restricted' apply to Picklist fields only", "remove them", TOOL),
    ("{name: a, type: Text, length: 9, values: [x], restricted: true}", "values",
     "'values'/'restricted' apply to Picklist fields only", "remove them", TOOL),
    ("{name: a, type: Checkbox, unique: true}", "unique", "unique is only possible on Text, Number and Email fields, "
     "not Checkbox", "remove 'unique', or keep the key in a Text field", TYPE),
    ("{name: a, type: Date, externalId: true}", "externalId", "externalId is only possible on Text, Number and Email "
     "fields, not Date", "remove 'externalId', or keep the key in a Text field", TYPE),
    ("{name: a, type: Text, length: 9, caseSensitive: true}", "caseSensitive",
     "caseSensitive only matters together with 'unique: true'", "add unique: true or remove it", TYPE),
    ("{name: a, type: Checkbox, required: true}", "required", "Checkbox fields cannot be required; they are always "
     "true or false", "remove 'required'", TYPE),
])
def test_a_key_that_does_not_apply_is_pointed_at(tmp_path: Path, field: str, key: str, message: str, hint: str,
                                                  rule: str) -> None:
    expect(tmp_path, fields(field), (key + ":", message, hint, rule, 1))


# -- lookups and picklists ------------------------------------------------------------------------------

@pytest.mark.parametrize("field,needle,message,hint", [
    ("{name: a, type: Lookup}", "{", "Lookup field 'a' needs referenceTo", "for example 'referenceTo: Lead'"),
    ("{name: a, type: Lookup, referenceTo: Widget__c}", "Widget__c", "referenceTo 'Widget__c' ends in __c",
     "write 'Widget'; the tool adds __c"),
    ("{name: a, type: Lookup, referenceTo: Gadget}", "Gadget", "Lookup target 'Gadget' is not a standard object or "
     "a custom object of these manifests", "declare the object, or check its spelling"),
])
def test_a_lookup_must_point_at_a_known_object(tmp_path: Path, field: str, needle: str, message: str,
                                               hint: str) -> None:
    expect(tmp_path, fields(field), (needle, message, hint, TOOL, 1))


def test_a_lookup_to_a_custom_object_of_another_manifest_is_fine(tmp_path: Path) -> None:
    text = widget() + "---\n" + fields("{name: w, type: Lookup, referenceTo: Widget}").replace("name: sf", "name: sf2")
    assert findings_in(tmp_path, text) == []
    declared_standard = text.replace("    - name: Widget\n", "    - name: Widget\n      custom: false\n", 1)
    assert any("Lookup target 'Widget'" in f[2] for f in findings_in(tmp_path, declared_standard))


def test_relationship_names_follow_the_developer_name_rules_under_their_own_rule(tmp_path: Path) -> None:
    text = fields("{name: a, type: Lookup, referenceTo: Lead, relationshipName: Sessions_}",
                  "{name: b, type: Lookup, referenceTo: Lead, relationshipName: Polls__r}",
                  "{name: c, type: Lookup, referenceTo: Lead, relationshipName: Polls_r}")
    expect(tmp_path, text,
           ("Sessions_", "relationshipName 'Sessions_' ends with an underscore", "remove the trailing underscore",
            REL, 1),
           ("Polls__r", "relationshipName 'Polls__r' ends in the reserved suffix '__r'",
            "write the name without the suffix: 'Polls'; Salesforce adds __r", RESERVED, 1),
           ("Polls_r", "relationshipName 'Polls_r' ends in the reserved suffix '_r'",
            "write the name without the suffix: 'Polls'; Salesforce adds __r", RESERVED, 1))


def test_a_required_lookup_may_not_clear_itself(tmp_path: Path) -> None:
    hint = "set 'deleteConstraint: Restrict' (parents with children cannot be deleted), or make the field optional"
    default = fields("{name: a, type: Lookup, referenceTo: Lead, required: true}")
    expect(tmp_path, default, ("true", "required Lookup field 'a' cannot use deleteConstraint SetNull (the default)",
                               hint, "salesforce.required-lookup-delete", 1))
    explicit = fields("{name: a, type: Lookup, referenceTo: Lead, required: true, deleteConstraint: SetNull}")
    expect(tmp_path, explicit, ("SetNull", "required Lookup field 'a' cannot use deleteConstraint SetNull", hint,
                                "salesforce.required-lookup-delete", 1))
    for fine in ("required: true, deleteConstraint: Restrict", "deleteConstraint: SetNull"):
        assert findings_in(tmp_path, fields(f"{{name: a, type: Lookup, referenceTo: Lead, {fine}}}")) == []


def test_two_lookups_may_not_give_their_parent_one_child_relationship_twice(tmp_path: Path) -> None:
    text = fields("{name: a, type: Lookup, referenceTo: Lead}",
                  "{name: b, type: Lookup, referenceTo: Lead, relationshipName: A}",
                  "{name: c, type: Lookup, referenceTo: Lead, relationshipName: C, ensure: absent}",
                  "{name: d, type: Lookup, referenceTo: Lead, relationshipName: C}",
                  "{name: e, type: Text, length: 9}",
                  "{name: E, type: Lookup, referenceTo: Contact}")
    line, column = at(text, "{name: a")
    expect(tmp_path, text, ("A}", "relationshipName 'A' is already a child relationship of Lead "
                            f"(from CampaignMember.a at {tmp_path / 'm.yaml'}:{line}:{column})",
                            "give this lookup its own relationshipName", REL, 1),
           ("E, type: Lookup", "field 'E' is declared twice on CampaignMember", "the first is fields[4]", TOOL, 1))
    twice = fields("{name: a, type: Lookup, referenceTo: Lead}", "{name: a2, type: Lookup, referenceTo: Lead, "
                   "relationshipName: a}")
    assert [f[2] for f in findings_in(tmp_path, twice)] == [
        "relationshipName 'a' is already a child relationship of Lead (from CampaignMember.a at "
        f"{tmp_path / 'm.yaml'}:{at(twice, '{name: a,')[0]}:{at(twice, '{name: a,')[1]})"]


def test_a_lookup_without_relationship_name_uses_its_field_name_as_one(tmp_path: Path) -> None:
    text = fields("{name: a, type: Lookup, referenceTo: Lead, relationshipName: Sessions}",
                  "{name: Sessions, type: Lookup, referenceTo: Lead}")
    line, column = at(text, "{name: a")
    expect(tmp_path, text, ("Sessions, type", "relationshipName 'Sessions' is already a child relationship of Lead "
                            f"(from CampaignMember.a at {tmp_path / 'm.yaml'}:{line}:{column})",
                            "give this lookup its own relationshipName", REL, 1))


def test_picklist_values(tmp_path: Path) -> None:
    expect(tmp_path, fields("{name: a, type: Picklist}"), ("{", "Picklist field 'a' needs values", "", TOOL, 1))
    text = fields("{name: a, type: Picklist, values: [Live, Replay, live, Other]}")
    expect(tmp_path, text, ("[Live", "picklist value 'Live' is listed twice", "", TOOL, 1),
           ("[Live", "picklist value 'live' is listed twice", "", TOOL, 1))


# -- campaign member statuses ---------------------------------------------------------------------------

def statuses(*rows: str, extra: str = "") -> str:
    return SF + f"  campaignMemberStatuses:\n    - campaign: Webinar\n{extra}      statuses:\n" + "".join(
        f"        - {r}\n" for r in rows)


def test_a_campaign_needs_one_default_and_a_responded_status(tmp_path: Path) -> None:
    none = statuses("{label: Registered}", "{label: Attended}")
    expect(tmp_path, none,
           ("statuses:", "campaign 'Webinar' has no default status",
            "mark exactly one status 'default: true' (the status new members get)", STATUS, 1),
           ("statuses:", "campaign 'Webinar' has no responded status",
            "Salesforce needs at least one status with 'responded: true'", STATUS, 1))
    three = statuses("{label: Registered, default: true}", "{label: Attended, default: true, responded: true}",
                     "{label: Missed, default: true}")
    expect(tmp_path, three,
           ("default: true, r", "campaign 'Webinar' has more than one default status",
            "only one status may be default; the first is 'Registered'", STATUS, 1),
           ("default: true}", "campaign 'Webinar' has more than one default status",
            "only one status may be default; the first is 'Registered'", STATUS, 2))
    assert findings_in(tmp_path, statuses("{label: Registered, default: true}", "{label: Attended, responded: true}")) \
        == []


def test_status_labels_are_unique_per_campaign_ignoring_case_and_spaces(tmp_path: Path) -> None:
    text = statuses("{label: Registered, default: true, responded: true}", "{label: Attended}",
                    "{label: ' attended '}", "{label: ATTENDED}")
    hint = "labels are unique per campaign (case-insensitive); the first is statuses[1]"
    expect(tmp_path, text,
           ("' attended '", "status ' attended ' is listed twice on campaign 'Webinar'", hint, STATUS, 1),
           ("ATTENDED", "status 'ATTENDED' is listed twice on campaign 'Webinar'", hint, STATUS, 1))


def test_campaign_dates_and_parent(tmp_path: Path) -> None:
    text = statuses("{label: R, default: true, responded: true}",
                    extra="      parent: Webinar\n      startDate: '2026-12-10'\n      endDate: '2026-12-01'\n")
    expect(tmp_path, text, ("Webinar\n", "campaign 'Webinar' is its own parent", "name another campaign, or leave "
                            "parent out", TOOL, 2),
           ("'2026-12-01'", "endDate 2026-12-01 is before startDate 2026-12-10", "swap them, or fix the end date",
            TOOL, 1))
