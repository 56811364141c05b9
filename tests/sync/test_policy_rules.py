"""The Sync manifest's policy as a user sets it: who a row matches (``spec.salesforce.matching``), which
status it gets (``spec.statusMap``), and why a row whose session has no campaign or program is rejected
(``spec.sessions``), with the reason and hint the rejects file shows.

Expected values are written out from the Sync manifest's documented keys and Salesforce's SOQL, by hand.
These run in-process in milliseconds, so the mutation run (``.ci/mutation``) can use them for every policy
mutant; tests/sync/test_sync_policy.py checks the same keys end to end against the sandbox org.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from provisioner.manifest.findings import Location
from provisioner.manifest.model import StatusMapping
from provisioner.sync.policy import (Matching, Sessions, choose_people, map_status, match_soql, may_create,
                                     missing_session, nearest, same_name, status_map)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HERE = Location("sync.yaml", 1, 1)


# -- matching -------------------------------------------------------------------------------------------

def test_matching_defaults_are_contact_first_oldest_record_and_converted_leads_ignored() -> None:
    assert Matching.from_spec({}) == Matching(("Contact", "Lead"), "oldest", True)
    assert Matching.from_spec({"order": [], "duplicates": "newest", "ignoreConvertedLeads": False}) == \
        Matching(("Contact", "Lead"), "newest", False)
    assert Matching.from_spec({"order": ["Lead", "Contact"]}).order == ("Lead", "Contact")


@pytest.mark.parametrize("obj,matching,expected", [
    ("Lead", Matching(), "SELECT Id, Email, CreatedDate FROM Lead WHERE Email IN ({values}) AND IsConverted = false "
                         "ORDER BY CreatedDate ASC, Id ASC"),
    ("Lead", Matching(duplicates="newest", ignore_converted_leads=False),
     "SELECT Id, Email, CreatedDate FROM Lead WHERE Email IN ({values}) ORDER BY CreatedDate DESC, Id DESC"),
    ("Contact", Matching(), "SELECT Id, Email, CreatedDate FROM Contact WHERE Email IN ({values}) "
                            "ORDER BY CreatedDate ASC, Id ASC"),  # Contacts are never converted
])
def test_the_match_query_puts_the_winning_record_first(obj: str, matching: Matching, expected: str) -> None:
    assert match_soql(obj, matching) == expected


def test_the_first_object_of_the_order_wins_then_the_first_record_of_its_query() -> None:
    found = {
        "Lead": [{"Id": "00Q1", "Email": "both@example.com"}, {"Id": "00Q2", "Email": "Lead.Only@Example.com"},
                 {"Id": "00Q3", "Email": "lead.only@example.com"}, {"Id": "00Q4", "Email": None}],
        "Contact": [{"Id": "0031", "Email": "both@example.com"}, {"Id": "0032", "Email": "stranger@example.com"}],
    }
    wanted = ["both@example.com", "lead.only@example.com", "nobody@example.com"]
    assert choose_people(found, wanted, Matching()) == {
        "both@example.com": ("Contact", "0031"), "lead.only@example.com": ("Lead", "00Q2")}
    assert choose_people(found, wanted, Matching(order=("Lead", "Contact"))) == {
        "both@example.com": ("Lead", "00Q1"), "lead.only@example.com": ("Lead", "00Q2")}
    assert choose_people(found, wanted, Matching(order=("Contact",))) == {"both@example.com": ("Contact", "0031")}


# -- statuses -------------------------------------------------------------------------------------------

def test_a_status_map_entry_without_the_targets_own_status_writes_displayed_as() -> None:
    entries = [StatusMapping(" Attended ", HERE, displayed_as="Attended", marketo="Attended Live"),
               StatusMapping("REGISTERED", HERE, salesforce="Registered", marketo="Registered"),
               StatusMapping("no_show", HERE)]  # nothing to write: left out of both maps
    salesforce, marketo = status_map(entries, "salesforce"), status_map(entries, "marketo")
    assert salesforce == {"attended": "Attended", "registered": "Registered"}
    assert marketo == {"attended": "Attended Live", "registered": "Registered"}
    assert map_status(salesforce, "ATTENDED") == "Attended"
    assert map_status(marketo, "  registered") == "Registered"
    assert map_status(salesforce, "no_show") is None


# -- sessions -------------------------------------------------------------------------------------------

def test_sessions_are_declared_unless_the_manifest_says_create() -> None:
    assert Sessions.from_spec(None) == Sessions("declared", False) == Sessions.from_spec({})
    assert not Sessions.from_spec(None).create
    assert Sessions.from_spec({"policy": "create", "includePast": True}) == Sessions("create", True)
    assert Sessions.from_spec({"policy": "create"}).create


@pytest.mark.parametrize("sessions,data,expected", [
    (Sessions(), {}, "spec.sessions.policy is declared"),
    (Sessions(), {"session_start": "2027-01-01T10:00"}, "spec.sessions.policy is declared"),
    (Sessions("create"), {}, None),  # no start: nothing says it is past
    (Sessions("create"), {"session_start": "2026-06-02"}, None),  # tomorrow
    (Sessions("create"), {"session_start": "2026-05-31T09:30:00Z"},
     "the session started 2026-05-31 09:30 UTC: past sessions get none (spec.sessions.includePast)"),
    (Sessions("create"), {"session_start": "2026-06-01T13:00+02:00"},  # 11:00 UTC, an hour ago
     "the session started 2026-06-01 13:00 UTC: past sessions get none (spec.sessions.includePast)"),
    (Sessions("create"), {"session_start": "2026-06-01T12:00:00Z"}, None),  # starts now: not yet past
    (Sessions("create", include_past=True), {"session_start": "2026-05-31"}, None),
    (Sessions("create"), {"session_start": "2026-05-31", "session_type": " On Demand"}, None),
    (Sessions("create"), {"session_start": "2026-05-31", "session_type": "ondemand"}, None),
    (Sessions("create"), {"session_start": "2026-05-31", "session_type": "ON-DEMAND"}, None),
    (Sessions("create"), {"session_start": "2026-05-31", "session_type": "live"},
     "the session started 2026-05-31 00:00 UTC: past sessions get none (spec.sessions.includePast)"),
])
def test_a_campaign_or_program_is_created_only_for_sessions_that_have_not_started(
        sessions: Sessions, data: dict[str, str], expected: str | None) -> None:
    assert may_create(sessions, data, now=NOW) == expected


def test_without_a_clock_past_means_before_the_real_now() -> None:
    assert may_create(Sessions("create"), {"session_start": "2001-01-01"}) is not None
    assert may_create(Sessions("create"), {"session_start": "2999-01-01"}) is None


def test_a_session_without_a_campaign_is_rejected_with_what_to_do() -> None:
    existing = ["Spring Webinar", "", "Autumn Summit"]
    assert missing_session("campaign", "spring webinar!", existing, "spec.sessions.policy is declared") == (
        "no campaign named 'spring webinar!' (did you mean 'Spring Webinar'?); create it with "
        "`provisioner event new`, fix the session name, or set spec.sessions.policy: create in the Sync manifest")
    assert missing_session("Marketo program", "Quarterly Review", existing, "the session started 2026-05-31 "
                           "00:00 UTC: past sessions get none (spec.sessions.includePast)") == (
        "no Marketo program named 'Quarterly Review'; not created: the session started 2026-05-31 00:00 UTC: "
        "past sessions get none (spec.sessions.includePast)")


def test_the_did_you_mean_hint_is_the_closest_name_ignoring_case() -> None:
    names = ["Spring Webinar", "Spring Webinars Recap", ""]
    assert nearest("SPRING WEBINAR", names) == "Spring Webinar"
    assert nearest("Sprng Webinar", names) == "Spring Webinar"
    assert nearest("Payroll", names) is None
    assert nearest("Spring", ["Spring Webinar"]) == "Spring Webinar"  # similarity 2*6/20 = 0.6, the cutoff
    assert nearest("Sprin", ["Spring Webinar"]) is None  # 2*5/19 = 0.53
    assert nearest("Spring Web", ["Spring Webinar"]) == "Spring Webinar"  # 20/24 = 0.83
    assert nearest("anything", []) is None


def test_names_equal_but_for_case_are_the_same_campaign_or_program() -> None:
    names = ["Spring Webinar", "Autumn Summit"]
    assert same_name("AUTUMN summit", names) == "Autumn Summit"
    assert same_name("Autumn Summit 2", names) is None
