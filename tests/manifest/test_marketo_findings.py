"""validate on Marketo manifests: every finding a user gets, exactly, with line and column, message, hint
and rule; and none at the limits Marketo allows.

Expected findings come from Marketo's documented limits (provisioner/manifest/vendor_rules.py has the
documents): API names start with a letter and use letters, digits and underscores; a custom object has at
most 50 fields and dedupes on 1 to 3 string, integer, email or link fields; a custom activity has at most 20
secondary attributes; an instance holds at most 10 custom object types and 10 activity types; the REST
endpoint is the https domain without /rest or /identity; start and end dates belong to event programs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import MK_HEAD, findings_in
from .test_salesforce_findings import at

MK = MK_HEAD.format(name="mk")
API = "marketo.api-name"
DEDUPE = "marketo.dedupe-type"
LIMITS = "marketo.type-limits"
TOOL = "marketo"


def expect(tmp: Path, text: str, *expected: tuple[str, str, str, str, int]) -> None:
    """The findings of ``text`` are exactly ``expected``: (needle, message, hint, rule, nth needle)."""
    want = sorted((*at(text, needle, nth), message, hint, rule) for needle, message, hint, rule, nth in expected)
    assert sorted(findings_in(tmp, text)) == want


def custom_object(fields: str = "        - {name: key, dataType: string}\n", dedupe: str = "[key]",
                  api_name: str = "engagement", n: int = 1) -> str:
    return MK + "  customObjects:\n" + "".join(
        f"    - apiName: {api_name}{i if n > 1 else ''}\n      displayName: E{i}\n      dedupeFields: {dedupe}\n"
        f"      fields:\n{fields}" for i in range(n))


def activity(attributes: str = "", primary: str = "{apiName: entry, dataType: string}", api_name: str = "engaged",
             n: int = 1) -> str:
    return MK + "  customActivities:\n" + "".join(
        f"    - apiName: {api_name}{i if n > 1 else ''}\n      name: A{i}\n      triggerName: T{i}\n"
        f"      filterName: F{i}\n      primaryAttribute: {primary}\n"
        + (f"      attributes:\n{attributes}" if attributes else "") for i in range(n))


# -- the endpoint ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ["https://123-ABC-456.mktorest.com", "https://123-ABC-456.mktorest.com/",
                                      "https://123-ABC-456.mktorest.com/restful"])
def test_an_https_domain_is_a_good_endpoint(tmp_path: Path, endpoint: str) -> None:
    assert findings_in(tmp_path, MK + f"  endpoint: {endpoint}\n") == []


@pytest.mark.parametrize("endpoint,message,hint", [
    ("https://123-ABC-456.mktorest.com/rest/", "the Marketo endpoint ends in '/rest'",
     "use the domain only: 'https://123-ABC-456.mktorest.com' (Admin > Web Services shows the REST endpoint; "
     "leave out '/rest')"),
    ("https://123-ABC-456.mktorest.com/identity", "the Marketo endpoint ends in '/identity'",
     "use the domain only: 'https://123-ABC-456.mktorest.com' (Admin > Web Services shows the REST endpoint; "
     "leave out '/identity')"),
    ("http://123-ABC-456.mktorest.com", "the Marketo endpoint must start with https://",
     "copy it from Admin > Web Services"),
])
def test_a_pasted_endpoint_gets_the_domain_to_use(tmp_path: Path, endpoint: str, message: str, hint: str) -> None:
    text = MK + f"  endpoint: {endpoint}\n"
    expect(tmp_path, text, ("http", message, hint, TOOL, 1))


def test_an_endpoint_with_a_password_is_refused_without_repeating_it(tmp_path: Path) -> None:
    text = MK + "  endpoint: https://api-user:s3cret-pw@123-ABC-456.mktorest.com/\n"
    expect(tmp_path, text, ("https", "the Marketo endpoint carries a user name and password (user:password@host)",
                            "remove them: 'https://123-ABC-456.mktorest.com'; the API user's credentials come from "
                            "MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET, never from a manifest", TOOL, 1))


# -- channels and programs ------------------------------------------------------------------------------

def test_channel_statuses_are_unique_and_leave_out_the_built_in_step(tmp_path: Path) -> None:
    text = MK + ("  channels:\n    - name: Ev\n      programType: event\n      statuses:\n"
                 "        - {name: Registered, step: 10}\n        - {name: Not in Program, step: 0}\n"
                 "        - {name: registered, step: 20, success: true}\n")
    expect(tmp_path, text, ("Not in Program", "'Not in Program' is Marketo's built-in step 0",
                            "leave it out; it is always there", TOOL, 1),
           ("registered,", "status 'registered' is listed twice on channel 'Ev'", "", TOOL, 1))


def programs(*rows: str, channels: str = "    - {name: Ev, programType: event, statuses: [{name: R, step: 10}]}\n"
                                           "    - {name: Web, programType: webinar, statuses: [{name: R, step: 10}]}\n"
                                           "    - {name: Op, programType: program, statuses: [{name: R, step: 10}]}\n"
             ) -> str:
    return MK + "  channels:\n" + channels + "  programs:\n" + "".join(
        f"    - {{folder: Marketing Activities/F, {r}}}\n" for r in rows)


def test_only_event_programs_keep_dates(tmp_path: Path) -> None:
    good = programs("name: A, type: Event, channel: Ev, startDate: '2026-12-10', endDate: '2026-12-10'",
                    "name: B, type: Event with Webinar, channel: Web, endDate: '2026-12-11'", "name: C, type: Default, "
                    "channel: Op")
    assert findings_in(tmp_path, good) == []
    text = programs("name: A, type: Default, channel: Op, endDate: '2026-12-11'",
                    "name: B, type: Event, channel: Ev, startDate: '2026-02-30', endDate: '2026-12-01'")
    expect(tmp_path, text,
           ("endDate", "program 'A' is of type Default; Marketo keeps start and end dates on Event and Event with "
            "Webinar programs only", "remove the dates, or use an event program", TOOL, 1),
           ("'2026-02-30'", "startDate '2026-02-30' is not a date", "write it as YYYY-MM-DD, e.g. 2026-12-10", TOOL, 1))


def test_a_programs_channel_must_exist_and_fit_its_type(tmp_path: Path) -> None:
    text = programs("name: A, type: Event, channel: Web", "name: B, type: Default, channel: Nope",
                    "name: C, type: Event with Webinar, channel: Web", "name: D, type: Default, channel: Op")
    expect(tmp_path, text,
           ("Web}", "channel 'Web' is for webinar programs; program 'A' is of type Event",
            "use a channel of type event",
            TOOL, 1),
           ("Nope", "program 'B' uses channel 'Nope', which no Marketo manifest declares",
            "declare the channel under spec.channels (it is verified, never written)", TOOL, 1))


def test_a_clone_keeps_its_sources_type_and_channel(tmp_path: Path) -> None:
    text = programs("name: Template, type: Event, channel: Ev",
                    "name: Copy, type: Event with Webinar, channel: Web, cloneFrom: Template",
                    "name: Good, type: Event, channel: Ev, cloneFrom: Template",
                    "name: Other, type: Event, channel: Ev, cloneFrom: Elsewhere")
    expect(tmp_path, text, ("Template}", "program 'Copy' is cloned from 'Template' (Event, channel Ev) but declares "
                            "Event with Webinar, channel Web", "a clone keeps its source's type and channel: declare "
                            "the same ones", TOOL, 1))


# -- custom objects -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,suggestion", [("Entry ID", "entryID"), ("1entry", "x1entry"), ("'--'", "name"),
                                             ("entry-id x", "entryIdX")])
def test_a_bad_api_name_gets_a_name_marketo_takes(tmp_path: Path, name: str, suggestion: str) -> None:
    shown = name.strip("'")
    text = custom_object(fields=f"        - {{name: {name}, dataType: string}}\n", dedupe=f"[{name}]")
    expect(tmp_path, text, (name + ",", f"custom object field name '{shown}' must start with a letter and use only "
                            "letters, digits and underscores", f"for example '{suggestion}'", API, 1))


def test_a_bad_custom_object_api_name_is_named_as_such(tmp_path: Path) -> None:
    text = custom_object(api_name="Session Engagement")
    expect(tmp_path, text, ("Session Engagement", "custom object apiName 'Session Engagement' must start with a letter "
                            "and use only letters, digits and underscores", "for example 'sessionEngagement'", API, 1))


def test_custom_object_fields_are_unique_and_links_say_what_they_link(tmp_path: Path) -> None:
    fields = ("        - {name: key, dataType: string}\n        - {name: key, dataType: integer}\n"
              "        - {name: lead, dataType: link}\n"
              "        - {name: note, dataType: text, relatedTo: {object: lead, field: email}}\n")
    text = custom_object(fields=fields)
    expect(tmp_path, text, ("key, dataType: integer", "field 'key' is declared twice", "", TOOL, 1),
           ("{name: lead", "link field 'lead' needs relatedTo", "for example relatedTo: {object: lead, field: email}",
            TOOL, 1),
           ("relatedTo", "relatedTo applies to link fields only", "", TOOL, 1))


def test_fifty_fields_fit_fifty_one_do_not(tmp_path: Path) -> None:
    def rows(n: int) -> str:
        return "".join(f"        - {{name: f{i}, dataType: string}}\n" for i in range(n))
    assert findings_in(tmp_path, custom_object(fields=rows(50), dedupe="[f0]")) == []
    text = custom_object(fields=rows(51), dedupe="[f0]")
    expect(tmp_path, text, ("fields:", "custom object 'engagement' has 51 fields; Marketo allows 50", "", TOOL, 1))


@pytest.mark.parametrize("dedupe,ok", [("[a]", True), ("[a, b, c]", True), ("[a, b, c, d]", False)])
def test_one_to_three_dedupe_fields(tmp_path: Path, dedupe: str, ok: bool) -> None:
    fields = "".join(f"        - {{name: {n}, dataType: string}}\n" for n in "abcd")
    text = custom_object(fields=fields, dedupe=dedupe)
    if ok:
        assert findings_in(tmp_path, text) == []
    else:
        expect(tmp_path, text, ("dedupeFields", "custom object 'engagement' has 4 dedupe fields; Marketo needs 1 to 3",
                                "", DEDUPE, 1))


def test_dedupe_fields_exist_and_have_a_dedupe_type(tmp_path: Path) -> None:
    fields = ("        - {name: s, dataType: string}\n        - {name: i, dataType: integer}\n"
              "        - {name: when, dataType: datetime}\n")
    assert findings_in(tmp_path, custom_object(fields=fields, dedupe="[s, i]")) == []
    text = custom_object(fields=fields, dedupe="[when, nope]")
    expect(tmp_path, text,
           ("when,", "dedupe field 'when' is of type datetime; Marketo dedupes custom objects on string, integer, "
            "email, link fields only", "pick another field, or change its type", DEDUPE, 1),
           ("nope", "dedupe field 'nope' is not a field of 'engagement'", "list names from 'fields'", TOOL, 1))


# -- custom activities ----------------------------------------------------------------------------------

def test_activity_api_names_and_duplicate_attributes(tmp_path: Path) -> None:
    attributes = ("        - {apiName: plays, dataType: integer}\n        - {apiName: entry, dataType: string}\n"
                  "        - {apiName: plays, dataType: integer}\n        - {apiName: 2nd, dataType: string}\n")
    text = activity(attributes, primary="{apiName: entry, dataType: string}", api_name="Session Engaged")
    expect(tmp_path, text,
           ("Session Engaged", "custom activity apiName 'Session Engaged' must start with a letter and use only "
            "letters, digits and underscores", "for example 'sessionEngaged'", API, 1),
           ("entry, dataType: string}\n        - {apiName: plays", "attribute 'entry' is declared twice (it is the "
            "primary attribute)", "", TOOL, 1),
           ("plays", "attribute 'plays' is declared twice", "", TOOL, 2),
           ("2nd", "attribute apiName '2nd' must start with a letter and use only letters, digits and underscores",
            "for example 'x2nd'", API, 1))
    expect(tmp_path, activity(primary="{apiName: _key, dataType: string}"),
           ("_key", "primary attribute apiName '_key' must start with a letter and use only letters, digits and "
            "underscores", "for example 'key'", API, 1))


def test_twenty_secondary_attributes_fit_twenty_one_do_not(tmp_path: Path) -> None:
    def rows(n: int) -> str:
        return "".join(f"        - {{apiName: a{i}, dataType: string}}\n" for i in range(n))
    assert findings_in(tmp_path, activity(rows(20))) == []
    expect(tmp_path, activity(rows(21)), ("attributes:", "custom activity 'engaged' has 21 secondary attributes; "
                                          "Marketo allows 20", "keep the most useful ones, or move the rest to a "
                                          "custom object", TOOL, 1))


# -- across documents -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["customObjects", "customActivities"])
def test_ten_types_fit_an_instance_the_eleventh_is_pointed_at(tmp_path: Path, kind: str) -> None:
    make = custom_object if kind == "customObjects" else activity
    what = "custom object types" if kind == "customObjects" else "custom activity types"
    six, five = make(n=6), make(n=5).replace("name: mk", "name: mk2").replace("apiName: ", "apiName: more_")
    assert findings_in(tmp_path, make(n=10)) == []
    text = six + "---\n" + five  # 11 over two manifests: the 11th is the fifth of the second
    last = "more_engagement4" if kind == "customObjects" else "more_engaged4"
    expect(tmp_path, text, (f"apiName: {last}", f"11 {what} declared; a Marketo instance holds at most 10",
                            "remove or merge some", LIMITS, 1))


def test_a_type_declared_in_two_manifests_names_the_first(tmp_path: Path) -> None:
    first = custom_object()
    text = first + "---\n" + custom_object().replace("name: mk", "name: mk2")
    line, column = at(text, "- apiName: engagement")
    expect(tmp_path, text, ("engagement", "'engagement' is declared twice",
                            f"the first is at {tmp_path / 'm.yaml'}:{line}:{column + 2}", TOOL, 2))


def test_a_programs_folder_path_starts_at_marketing_activities(tmp_path: Path) -> None:
    head = MK + "  channels:\n    - {name: Ev, programType: event, statuses: [{name: R, step: 10}]}\n  programs:\n"
    good = head + "".join(f"    - {{name: P{i}, type: Event, channel: Ev, folder: '{folder}'}}\n" for i, folder in
                          enumerate(["Marketing Activities", "Marketing Activities/Events",
                                     "/Marketing Activities/ Events /2027/"]))
    assert findings_in(tmp_path, good) == []
    text = head + ("    - {name: A, type: Event, channel: Ev, folder: Events}\n"
                   "    - {name: B, type: Event, channel: Ev, folder: 'marketing activities/Events'}\n"
                   "    - {name: C, type: Event, channel: Ev, folder: Design Studio/Default/Webinars}\n")
    rule = "marketo.program-folder"
    expect(tmp_path, text,
           ("Events}", "program 'A' is in folder 'Events', outside Marketing Activities",
            "start the path with 'Marketing Activities/', for example 'Marketing Activities/Events'; leave out any "
            "workspace name", rule, 1),
           ("'marketing", "program 'B' is in folder 'marketing activities/Events', outside Marketing Activities",
            "start the path with 'Marketing Activities/', for example 'Marketing Activities/Events'; leave out any "
            "workspace name", rule, 1),
           ("Design", "program 'C' is in folder 'Design Studio/Default/Webinars', outside Marketing Activities",
            "start the path with 'Marketing Activities/', for example 'Marketing Activities/Webinars'; leave out "
            "any workspace name", rule, 1))
