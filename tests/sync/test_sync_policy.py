"""Every key of the Sync manifest's policy changes what lands in the org: matching order, duplicates,
converted Leads, accepted formats, a status's displayedAs and the idempotency columns. Each test runs the
same data under two settings and reads the sandbox org."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from damage import HEADER, reg, run, sync_manifests
from provisioner.providers.marketo.client import connect
from provisioner.providers.salesforce.connection import SalesforceConnection
from synchelp import MANIFESTS


def member_person(box: Any, session: str, email: str) -> tuple[str | None, str | None, str | None]:
    """``(LeadId, ContactId, Status)`` of the one CampaignMember of ``email`` in campaign ``session``."""
    conn = SalesforceConnection.from_env(box.env())
    rows = conn.data.query("SELECT LeadId, ContactId, Status, Lead.Email, Contact.Email FROM CampaignMember "
                           f"WHERE Campaign.Name = '{session}'")
    found = [r for r in rows if ((r.get("Lead") or r.get("Contact") or {}).get("Email") or "").lower() == email]
    assert len(found) <= 1
    return (found[0]["LeadId"], found[0]["ContactId"], found[0]["Status"]) if found else (None, None, None)


def registration(tmp: Path, name: str, *lines: str) -> Path:
    path = tmp / f"{name}-registrations.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", "utf-8")
    return path


def test_matching_order_decides_between_a_contact_and_a_lead(provisioned: Any, tmp_path: Path) -> None:
    box, ids = provisioned
    email = "shared.person@example.com"  # a Contact and a Lead share it
    data = registration(tmp_path, "o", reg(email, session="Order Default"), )
    assert run(box, tmp_path / "a", [data])[0] == 0
    assert member_person(box, "Order Default", email)[:2] == (None, ids["contact"])

    def lead_first(doc: dict[str, Any]) -> None:
        doc["spec"]["salesforce"]["matching"]["order"] = ["Lead", "Contact"]
    data = registration(tmp_path, "o2", reg(email, session="Order Lead First"))
    assert run(box, tmp_path / "b", [data], sync_manifests(tmp_path / "m", lead_first))[0] == 0
    assert member_person(box, "Order Lead First", email)[:2] == (ids["lead"], None)


def test_duplicates_oldest_or_newest(provisioned: Any, tmp_path: Path) -> None:
    box, _ = provisioned
    conn = SalesforceConnection.from_env(box.env())
    email = "twice@example.com"
    first = conn.data.create("Lead", [{"LastName": "One", "Company": "C", "Email": email}])[0].id
    second = conn.data.create("Lead", [{"LastName": "Two", "Company": "C", "Email": email}])[0].id
    assert run(box, tmp_path / "a", [registration(tmp_path, "d", reg(email, session="Dup Oldest"))])[0] == 0
    assert member_person(box, "Dup Oldest", email)[0] == first

    def newest(doc: dict[str, Any]) -> None:
        doc["spec"]["salesforce"]["matching"]["duplicates"] = "newest"
    data = registration(tmp_path, "d2", reg(email, session="Dup Newest"))
    assert run(box, tmp_path / "b", [data], sync_manifests(tmp_path / "m", newest))[0] == 0
    assert member_person(box, "Dup Newest", email)[0] == second


def test_ignore_converted_leads(provisioned: Any, tmp_path: Path) -> None:
    box, _ = provisioned
    conn = SalesforceConnection.from_env(box.env())
    email = "was.converted@example.com"
    lead = conn.data.create("Lead", [{"LastName": "Conv", "Company": "C", "Email": email}])[0].id
    requests.post(f"{box.salesforce_url}/__sandbox/leads/{lead}/convert", json={},
                  verify=box.ca_bundle).raise_for_status()

    def count() -> int:
        return len(conn.data.query(f"SELECT Id FROM Lead WHERE Email = '{email}'"))

    def matched(doc: dict[str, Any]) -> None:
        doc["spec"]["salesforce"]["matching"]["ignoreConvertedLeads"] = False
    data = registration(tmp_path, "c", reg(email, session="Converted Matched"))
    code, out, _ = run(box, tmp_path / "a", [data], sync_manifests(tmp_path / "m", matched))
    assert count() == 1  # the converted Lead was the match: no Lead created ...
    assert member_person(box, "Converted Matched", email) == (None, None, None)  # ... and Salesforce refuses it
    assert out["accounts"]["rejected"] == 1
    data = registration(tmp_path, "c2", reg(email, session="Converted Ignored"))
    assert run(box, tmp_path / "b", [data])[0] == 0  # default: ignored, so a new Lead is created
    assert count() == 2
    assert member_person(box, "Converted Ignored", email)[0] not in (None, lead)


def test_formats_refuse_a_file_of_another_format(provisioned: Any, tmp_path: Path) -> None:
    box, _ = provisioned
    data = tmp_path / "export.jsonl"
    data.write_text(json.dumps({"kind": "registration", "email": "fmt@example.com", "session": "Fmt",
                                "status": "Registered"}) + "\n", "utf-8")

    def csv_only(doc: dict[str, Any]) -> None:
        doc["spec"]["source"]["formats"] = ["csv"]
    code, out, _ = run(box, tmp_path / "a", [data], sync_manifests(tmp_path / "m", csv_only))
    assert code == 1 and "spec.source.formats" in out["error"]
    assert member_person(box, "Fmt", "fmt@example.com") == (None, None, None)
    assert run(box, tmp_path / "b", [data])[0] == 0
    assert member_person(box, "Fmt", "fmt@example.com")[2] == "Registered"


def marketo_status(box: Any, session: str, email: str) -> str | None:
    client = connect(box.env())
    program = client.get("/rest/asset/v1/program/byName.json", {"name": session})[0]["id"]
    lead = client.get("/rest/v1/leads.json", {"filterType": "email", "filterValues": email})[0]["id"]
    found = client.get(f"/rest/v1/programs/{program}/members.json", {"filterType": "leadId", "filterValues": lead})
    return found[0]["progressionStatus"] if found else None


@pytest.mark.parametrize("shown", ["Registered", "Invited"])
def test_displayed_as_is_the_marketo_status_when_the_entry_has_none(provisioned: Any, tmp_path: Path,
                                                                     shown: str) -> None:
    box, _ = provisioned

    def displayed(doc: dict[str, Any]) -> None:
        entry = next(e for e in doc["spec"]["statusMap"] if e["source"] == "Confirmed email")
        entry.pop("marketo")
        entry["displayedAs"] = shown
    email = f"shown.{shown.lower()}@example.com"
    data = registration(tmp_path, "s", reg(email, session=f"Shown {shown}", status="Confirmed email"))
    assert run(box, tmp_path / "a", [data], sync_manifests(tmp_path / "m", displayed))[0] == 0
    assert marketo_status(box, f"Shown {shown}", email) == shown
    assert member_person(box, f"Shown {shown}", email)[2] == "Confirmed email"  # Salesforce keeps its own


def test_idempotency_columns_decide_which_row_wins(provisioned: Any, tmp_path: Path) -> None:
    """Same person and session twice: keyed on [session, email] the later *time* wins (Attended); keyed on
    [session, email, time] both rows are distinct and written in file order, so the last line wins."""
    box, _ = provisioned
    email = "keyed@example.com"
    lines = [reg(email, session="{s}", status="Attended").replace("10:00:00", "10:05:00"),
             reg(email, session="{s}", status="Registered")]

    def with_time(doc: dict[str, Any]) -> None:
        doc["spec"]["idempotency"]["registration"] = ["session", "email", "time"]
    for session, manifests, expected in (("Keyed Default", MANIFESTS, "Attended"),
                                         ("Keyed By Time", sync_manifests(tmp_path / "m", with_time), "Registered")):
        data = registration(tmp_path, session[-4:], *(line.replace("{s}", session) for line in lines))
        assert run(box, tmp_path / session[-4:], [data], manifests)[0] == 0
        assert member_person(box, session, email)[2] == expected
