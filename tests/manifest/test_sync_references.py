"""validate on a Sync manifest and what it refers to: every finding a user gets, exactly, with its line and
column, message and hint; and none on a sync whose references all resolve.

The rules are the Sync manifest's own: each target names a loaded manifest of its kind (or the only one);
the campaign, channel, program, custom object and activity it writes exist there; every status it maps to
is a status of that campaign or channel; idempotency and mapped columns are event-data columns (or in the
sample header); a sync that creates Leads has fallbacks for Salesforce's required LastName and Company, one
that creates Contacts for LastName.
"""

from __future__ import annotations

from pathlib import Path

from .helpers import MK_HEAD, SF_HEAD, findings_in
from .test_salesforce_findings import at

SF = SF_HEAD.format(name="sf") + """  campaignMemberStatuses:
    - campaign: T
      statuses:
        - {label: Registered, default: true}
        - {label: Attended, responded: true}
  objects:
    - name: CampaignMember
      fields:
        - {name: entry_key, type: Text, length: 80, externalId: true, unique: true}
    - name: Poll
      label: Poll
      pluralLabel: Polls
      nameField: {label: Name, type: Text}
      fields: []
---
"""
MK = MK_HEAD.format(name="mk") + """  channels:
    - name: Ev
      programType: event
      statuses: [{name: Registered, step: 10}, {name: Attended, step: 20, success: true}]
  programs:
    - {name: Webinar, type: Event, channel: Ev, folder: Marketing Activities/F}
  customObjects:
    - apiName: engagement
      displayName: Engagement
      dedupeFields: [key]
      fields: [{name: key, dataType: string}]
  customActivities:
    - {apiName: engaged, name: Engaged, triggerName: T, filterName: F, primaryAttribute: {apiName: k, dataType: string}}
---
"""
HEAD = """apiVersion: provisioner/v1
kind: Sync
metadata:
  name: s
spec:
  source: {platform: kaltura}
"""
FALLBACKS = "    matching: {fallbacks: {Company: x, LastName: y}}\n"
SF_TARGET = "  salesforce:\n    manifest: sf\n    campaign: T\n" + FALLBACKS
MK_TARGET = "  marketo:\n    manifest: mk\n    program: Webinar\n"
CROSS = "crossref"


def expect(tmp: Path, text: str, *expected: tuple[str, str, str, str, int]) -> None:
    """The findings of ``text`` are exactly ``expected``: (needle, message, hint, rule, nth needle)."""
    want = sorted((*at(text, needle, nth), message, hint, rule) for needle, message, hint, rule, nth in expected)
    assert sorted(findings_in(tmp, text)) == want


def test_a_sync_whose_references_resolve_is_valid(tmp_path: Path) -> None:
    text = SF + MK + HEAD + SF_TARGET + """    campaignMemberExternalId: entry_key
    pollsObject: Poll
    engagementObject: CampaignMember
  marketo: {manifest: mk, channel: Ev, program: Webinar, customObject: engagement, customActivity: engaged}
  idempotency: {registration: [email, session, Title]}
  statusMap:
    - {source: registered, salesforce: Registered, marketo: Registered}
    - {source: attended, displayedAs: Attended, marketo: Attended}
"""
    assert findings_in(tmp_path, text.replace("session, Title]", "session]")) == []
    # an idempotency column may also be a mapped one (case does not matter)
    mapped = text.replace("    campaignMemberExternalId", "    fieldMappings: {Lead: {Title: title}}\n"
                                                          "    campaignMemberExternalId")
    assert findings_in(tmp_path, mapped) == []


def test_a_target_without_manifest_uses_the_only_one_of_its_kind(tmp_path: Path) -> None:
    text = SF + MK + HEAD + "  salesforce:\n    campaign: T\n" + FALLBACKS + "  marketo: {channel: Ev}\n"
    assert findings_in(tmp_path, text) == []
    # and a sync that names no campaign writes the statuses of the only one declared
    only = text.replace("    campaign: T\n", "") + "  statusMap:\n    - {source: came, salesforce: Attended}\n"
    assert findings_in(tmp_path, only) == []
    expect(tmp_path, only.replace("salesforce: Attended}", "salesforce: Came}"),
           ("Came", "salesforce status 'Came' (for source status 'came') does not exist on the campaign",
            "add it to the campaign, or map to one of: Registered, Attended", CROSS, 1))
    two = text.replace(HEAD, SF.replace("name: sf", "name: sf2").replace("campaign: T", "campaign: T2") + HEAD)
    expect(tmp_path, two, ("salesforce:\n    campaign", "sync target 'salesforce' does not say which Salesforce "
                           "manifest it uses", "add 'manifest: <metadata.name>'", CROSS, 1))


def test_a_target_naming_a_missing_manifest_lists_the_known_ones(tmp_path: Path) -> None:
    text = SF + MK + HEAD + SF_TARGET.replace("manifest: sf", "manifest: mk") + MK_TARGET.replace("manifest: mk",
                                                                                                  "manifest: nope")
    expect(tmp_path, text, ("mk\n    campaign", "no Salesforce manifest named 'mk' is loaded", "known: sf", CROSS, 1),
           ("nope", "no Marketo manifest named 'nope' is loaded", "known: mk", CROSS, 1))
    alone = HEAD + "  marketo: {manifest: mk, channel: Ev}\n"
    expect(tmp_path, alone, ("mk,", "no Marketo manifest named 'mk' is loaded",
                             "pass the Marketo manifest to the command too", CROSS, 1))


def test_the_campaign_and_channel_must_be_declared(tmp_path: Path) -> None:
    text = SF + MK + HEAD + SF_TARGET.replace("campaign: T", "campaign: Nope") + \
        "  marketo: {manifest: mk, channel: Web}\n"
    expect(tmp_path, text, ("Nope", "campaign 'Nope' is not declared in 'sf'", "declared: T", CROSS, 1),
           ("Web}", "channel 'Web' is not declared in 'mk'", "declared: Ev", CROSS, 1))
    two_campaigns = SF.replace("  objects:", "    - campaign: T2\n      statuses: [{label: R, default: true, "
                                             "responded: true}]\n  objects:")
    unnamed = two_campaigns + MK + HEAD + "  salesforce:\n    manifest: sf\n" + FALLBACKS + \
        "  marketo: {manifest: mk, customObject: engagement}\n"
    expect(tmp_path, unnamed,
           ("manifest: sf\n", "sync does not say which campaign's statuses it writes",
            "add 'campaign: <template campaign name>'", CROSS, 1),
           ("{manifest: mk, customObject", "sync does not say which Marketo channel's statuses it writes",
            "add 'channel: <channel name>' or 'program: <program name>'", CROSS, 1))


def test_the_objects_fields_program_and_types_it_writes_must_be_declared(tmp_path: Path) -> None:
    text = SF + MK + HEAD + SF_TARGET + """    campaignMemberExternalId: key__x
    replayStatusField: replay
    engagementObject: Engagement
    pollsObject: Poll
  marketo: {manifest: mk, channel: Ev, program: Other, customObject: poll, customActivity: engaged}
"""
    expect(tmp_path, text,
           ("key__x", "CampaignMember field 'key__x' is not declared in any Salesforce manifest",
            "declare it under objects: CampaignMember", CROSS, 1),
           ("replay\n", "CampaignMember field 'replay' is not declared in any Salesforce manifest",
            "declare it under objects: CampaignMember", CROSS, 1),
           ("Engagement\n", "object 'Engagement' is not declared in any Salesforce manifest",
            "declare it under spec.objects", CROSS, 2),
           ("Other", "program 'Other' is not declared in 'mk'", "declared: Webinar", CROSS, 1),
           ("poll,", "customObject 'poll' is not declared in 'mk'", "declared: engagement", CROSS, 1))


def test_a_campaign_member_object_without_fields_declares_none(tmp_path: Path) -> None:
    declared = "      fields:\n        - {name: entry_key, type: Text, length: 80, externalId: true, unique: true}\n"
    bare = SF.replace(declared, "")
    text = bare + MK + HEAD + SF_TARGET + "    campaignMemberExternalId: entry_key\n"
    expect(tmp_path, text, ("entry_key\n", "CampaignMember field 'entry_key' is not declared in any Salesforce "
                            "manifest", "declare it under objects: CampaignMember", CROSS, 1))


def test_statuses_are_not_checked_against_a_channel_that_is_not_declared(tmp_path: Path) -> None:
    """One finding for the missing channel, not one more per mapped status."""
    text = SF + MK + HEAD + SF_TARGET + "  marketo: {manifest: mk, channel: Web}\n" + \
        "  statusMap:\n    - {source: a, salesforce: Attended, marketo: Registered}\n"
    expect(tmp_path, text, ("Web}", "channel 'Web' is not declared in 'mk'", "declared: Ev", CROSS, 1))


def test_every_status_it_maps_to_exists_on_the_campaign_or_channel(tmp_path: Path) -> None:
    text = SF + MK + HEAD + SF_TARGET + MK_TARGET + """  statusMap:
    - {source: Registered, salesforce: Registered, marketo: Signed Up}
    - {source: ' registered', salesforce: Registered}
    - {source: Attended, salesforce: Came}
"""
    expect(tmp_path, text,
           ("Signed Up", "marketo status 'Signed Up' (for source status 'Registered') does not exist on the channel",
            "add it to the channel, or map to one of: Registered, Attended", CROSS, 1),
           ("' registered'", "source status ' registered' is mapped twice (case does not matter)",
            "the first is statusMap[0]", CROSS, 1),
           ("Came", "salesforce status 'Came' (for source status 'Attended') does not exist on the campaign",
            "add it to the campaign, or map to one of: Registered, Attended", CROSS, 1))
    no_marketo = SF + MK + HEAD + SF_TARGET + "  statusMap:\n    - {source: a, salesforce: Attended, marketo: X}\n"
    expect(tmp_path, no_marketo, ("X}", "status map writes to marketo, but the sync has no 'marketo' target",
                                  "add spec.marketo or remove the value", CROSS, 1))


def test_names_and_campaigns_are_declared_once(tmp_path: Path) -> None:
    text = SF + SF.replace("name: sf", "name: sf2").replace("  objects:\n    - name: CampaignMember\n      fields:\n"
                                                            "        - {name: entry_key, type: Text, length: 80, "
                                                            "externalId: true, unique: true}\n", "  objects:\n") + \
        MK.replace("name: mk", "name: sf").removesuffix("---\n")
    expect(tmp_path, text,
           ("T\n      statuses:", "campaign 'T' is declared twice", "keep one declaration", CROSS, 2),
           ("sf\n", "manifest name 'sf' is used twice", f"the first is in {tmp_path / 'm.yaml'}; names must be unique",
            CROSS, 2))


# -- columns and fallbacks (rules_sync) -----------------------------------------------------------------

def test_columns_must_be_event_data_columns_or_in_the_sample_header(tmp_path: Path) -> None:
    body = SF + MK + HEAD.replace("  source: {platform: kaltura}\n", "  source:\n    platform: kaltura\n"
                                  "    headers: {registration: [Email, Session, Job Title]}\n") + SF_TARGET + \
        "    fieldMappings: {Lead: {Title: Job Title, Phone: phone}}\n" + \
        "  idempotency: {registration: [email, time], poll: [email, Answer]}\n"
    known = sorted({"answer", "combined_live_engaged_users_play_time_ratio", "company", "email", "entry_id",
                    "entry_name", "first_name", "kind", "last_name", "live_minutes_viewed", "plays", "poll_number",
                    "question", "session", "session_start", "session_type", "status", "time", "title", "type",
                    "vod_minutes_viewed", "job title", "phone"})
    expect(tmp_path, body,
           ("time]", "idempotency column 'time' is not in the registration header of spec.source.headers",
            "columns there: Email, Session, Job Title", "sync", 1),
           ("phone}", "mapped column 'phone' is in no header of spec.source.headers",
            "fix the column name or the sample header", "sync", 1))
    typo = SF + MK + HEAD + SF_TARGET + "  idempotency: {registration: [emial]}\n"
    known.remove("job title")
    known.remove("phone")
    expect(tmp_path, typo, ("emial", "idempotency column 'emial' is neither an event-data column nor a mapped one: "
                            "every row would share one key for it", f"known columns: {', '.join(known)}", "sync", 1))


def test_created_records_need_fallbacks_for_salesforces_required_fields(tmp_path: Path) -> None:
    lead = SF + MK + HEAD + "  salesforce:\n    manifest: sf\n    campaign: T\n" \
        "    fieldMappings: {Lead: {LastName: last_name}}\n"
    hint = 'add matching.fallbacks.{}, e.g. "[not provided]"'
    expect(tmp_path, lead,
           ("manifest: sf\n", "this sync creates Leads but has no fallback for their required LastName "
            "(mapped from 'last_name', which may be empty)", hint.format("LastName"), "sync", 1),
           ("manifest: sf\n", "this sync creates Leads but has no fallback for their required Company",
            hint.format("Company"), "sync", 1))
    contact = SF + MK + HEAD + SF_TARGET.replace(FALLBACKS,
                                                 "    matching: {createAs: Contact, fallbacks: {Company: x}}\n")
    expect(tmp_path, contact, ("{createAs", "this sync creates Contacts but has no fallback for their required "
                               "LastName", hint.format("LastName"), "sync", 1))
    good = contact.replace("fallbacks: {Company: x}", "fallbacks: {LastName: x}")
    assert findings_in(tmp_path, good) == []
