"""What the orgs must hold after syncing an export, computed from the input files and the manifests alone.

This helper never imports the sync code (``provisioner.sync``): it reads the CSV files and the manifests
as plain YAML and applies the rules a user can read in them and in the vendors' documentation —

- a row is refused when its e-mail is not an address, its status is not in the Sync manifest's status
  map, or a value does not fit the Salesforce field of the same name (``Text(n)`` length, ``Number(p,s)``
  digits before the point);
- Salesforce: one CampaignMember per (session, e-mail), in the session's campaign, with the status of
  the latest row (``time``; file order on a tie); an existing Contact wins over a Lead, a converted Lead
  does not count, anyone else becomes a new Lead with the manifest's fallbacks for empty required
  fields; one engagement record per (session, e-mail, entry), one polls record per (session, e-mail,
  entry) carrying each poll's type, question and answer;
- Marketo: one lead per e-mail; one program member per (session program, lead) whose status only moves
  forward along the channel's steps (a run sends the latest row of each member in its whole input, and
  Marketo keeps the highest step it was ever sent); one custom object record
  and one activity per engagement row.

:func:`org_content` reads the same shapes out of the sandbox's own state (``GET /__sandbox/state``),
so a test compares ``expected(...)`` with ``org_content(...)`` key by key.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

import yaml

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REPO = Path(__file__).resolve().parents[2]
SYNC_MANIFEST = REPO / "manifests" / "kaltura-sync.yaml"
SALESFORCE_MANIFEST = REPO / "manifests" / "kaltura-salesforce.yaml"
MARKETO_MANIFEST = REPO / "manifests" / "kaltura-marketo.yaml"
ENGAGEMENT_OBJECT = "UserSessionEngagement"
#: Columns compared value by value (the others are checked by record count only).
ENGAGEMENT_VALUES = ("entry_id", "entry_name", "plays", "live_minutes_viewed")


@dataclass
class Expected:
    """The org content one export must produce (keys lower-case the e-mail)."""

    refused_rows: int = 0
    sf_members: dict[tuple[str, str], str] = field(default_factory=dict)  # (campaign, email) -> status
    sf_new_leads: dict[str, dict[str, str]] = field(default_factory=dict)  # email -> field values
    sf_engagement: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    sf_polls: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    mk_leads: set[str] = field(default_factory=set)
    mk_members: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)  # -> (status, success)
    mk_objects: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (entry_id, email)
    mk_activities: Counter[tuple[str, str]] = field(default_factory=Counter)  # (email, entry_id) -> count

    def totals(self) -> dict[str, int]:
        """How many of each the orgs must hold (for messages and quick checks)."""
        return {"sf_members": len(self.sf_members), "sf_new_leads": len(self.sf_new_leads),
                "sf_engagement": len(self.sf_engagement), "sf_polls": len(self.sf_polls),
                "mk_leads": len(self.mk_leads), "mk_members": len(self.mk_members),
                "mk_objects": len(self.mk_objects), "mk_activities": sum(self.mk_activities.values())}


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _engagement_fields() -> dict[str, dict[str, Any]]:
    spec = _yaml(SALESFORCE_MANIFEST)["spec"]
    obj = next(o for o in spec["objects"] if o["name"] == ENGAGEMENT_OBJECT)
    return {f["name"]: f for f in obj["fields"]}


def _fits(f: dict[str, Any], value: str) -> bool:
    """Whether ``value`` fits Salesforce field ``f`` (empty always fits)."""
    if value == "":
        return True
    if f["type"] == "Text":
        return len(value) <= f["length"]
    if f["type"] == "Number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return False
        return len(str(abs(int(number)))) <= f["length"]
    return True


def _rows(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _kind(path: str) -> str:
    name = Path(path).name
    return "registration" if "registration" in name else "engagement" if "engagement" in name else "poll"


def expected(paths: Iterable[str], *, existing_contacts: Iterable[str] = (), existing_leads: Iterable[str] = ()
             ) -> Expected:
    """The org content ``paths`` (registrations, engagement, polls CSVs, read in that order) must produce
    against orgs holding ``existing_contacts`` / unconverted ``existing_leads`` (e-mails) beforehand."""
    sync = _yaml(SYNC_MANIFEST)["spec"]
    status_map = {s["source"]: s for s in sync["statusMap"]}
    fallbacks = sync["salesforce"]["matching"]["fallbacks"]
    channel = _yaml(MARKETO_MANIFEST)["spec"]["channels"][0]
    steps = {s["name"]: (s["step"], bool(s.get("success"))) for s in channel["statuses"]}
    fields = _engagement_fields()
    known = {e.lower() for e in existing_contacts} | {e.lower() for e in existing_leads}
    out = Expected()
    stream = [(_kind(p), row) for p in paths for row in _rows(p)]
    good: list[tuple[int, str, dict[str, str]]] = []
    for n, (kind, row) in enumerate(stream):
        email = row.get("email", "")
        ok = bool(EMAIL.match(email))
        if kind == "registration":
            ok = ok and row["status"] in status_map
        else:
            ok = ok and all(_fits(fields[c], v) for c, v in row.items() if c in fields)
        if ok:
            good.append((n, kind, row))
        else:
            out.refused_rows += 1

    latest: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    mk_step: dict[tuple[str, str], tuple[int, str]] = {}
    for n, kind, row in good:
        email, session = row["email"].lower(), row["session"]
        if kind == "registration":
            key = (session, email)
            if key not in latest or row["time"] >= latest[key][0]:
                latest[key] = (row["time"], row)
            if email not in known:
                out.sf_new_leads[email] = {
                    "FirstName": row["first_name"], "LastName": row["last_name"] or fallbacks["LastName"],
                    "Company": row["company"] or fallbacks["Company"], "Title": row["title"]}
            out.mk_leads.add(email)
        elif kind == "engagement":
            key3 = (session, email, row["entry_id"])
            out.sf_engagement[key3] = {c: row[c] for c in ENGAGEMENT_VALUES}
            out.mk_objects[(row["entry_id"], email)] = {c: row[c] for c in ENGAGEMENT_VALUES}
            out.mk_activities[(email, row["entry_id"])] += 1
        else:
            key3 = (session, email, row["entry_id"])
            record = out.sf_polls.setdefault(key3, {})
            for part in ("type", "question", "answer"):
                record[f"poll_{row['poll_number']}_{part}__c"] = row[part]
    for key, (_, row) in latest.items():
        out.sf_members[key] = status_map[row["status"]]["salesforce"]
    # Marketo: the run sends the latest row of each member; Marketo keeps the highest step it was sent.
    for key, (_, row) in latest.items():
        status = status_map[row["status"]]["marketo"]
        if key not in mk_step or steps[status][0] > mk_step[key][0]:
            mk_step[key] = (steps[status][0], status)
    for key, (_, status) in mk_step.items():
        out.mk_members[key] = (status, steps[status][1])
    return out


@dataclass
class OrgContent:
    """The same shapes as :class:`Expected`, read from the sandbox's state; counters catch duplicates."""

    sf_members: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (campaign, email, status)
    sf_leads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sf_engagement: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    sf_engagement_values: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    sf_polls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    sf_poll_values: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    mk_leads: Counter[str] = field(default_factory=Counter)
    mk_members: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)
    mk_objects: Counter[tuple[str, str]] = field(default_factory=Counter)
    mk_object_values: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    mk_activities: Counter[tuple[str, str]] = field(default_factory=Counter)

    def totals(self) -> dict[str, int]:
        return {"sf_members": sum(self.sf_members.values()), "sf_engagement": sum(self.sf_engagement.values()),
                "sf_polls": sum(self.sf_polls.values()), "mk_leads": sum(self.mk_leads.values()),
                "mk_members": len(self.mk_members), "mk_objects": sum(self.mk_objects.values()),
                "mk_activities": sum(self.mk_activities.values())}


def org_content(sf: dict[str, Any], mk: dict[str, Any]) -> OrgContent:
    """Both orgs' sync-relevant records from the sandbox states (``GET /__sandbox/state`` on each port)."""
    records = sf["records"]
    people = {rid: (r.get("Email") or "").lower() for obj in ("Lead", "Contact")
              for rid, r in records.get(obj, {}).items()}
    campaigns = {rid: r["Name"] for rid, r in records.get("Campaign", {}).items()}
    out = OrgContent()
    for m in records.get("CampaignMember", {}).values():
        email = people.get(m.get("ContactId") or "") or people.get(m.get("LeadId") or "", "")
        out.sf_members[(campaigns.get(m["CampaignId"], "?"), email, m["Status"])] += 1
    for lead in records.get("Lead", {}).values():
        out.sf_leads.setdefault((lead.get("Email") or "").lower(), []).append(lead)
    for obj, counter, values in (("UserSessionEngagement__c", out.sf_engagement, out.sf_engagement_values),
                                 ("Kaltura_User_Polls__c", out.sf_polls, out.sf_poll_values)):
        for r in records.get(obj, {}).values():
            member_campaign = (r.get("campaign_member__c") or "").split("_")[0]
            key = (campaigns.get(member_campaign, "?"), (r.get("email__c") or "").lower(), r.get("entry_id__c") or "")
            counter[key] += 1
            values[key] = r
    emails = {str(lid): (lead.get("email") or "").lower() for lid, lead in mk["leads"].items()}
    for email in emails.values():
        out.mk_leads[email] += 1
    programs = {str(pid): p["name"] for pid, p in mk["programs"].items()}
    for pid, members in mk["members"].items():
        for m in (members.values() if isinstance(members, dict) else members):
            key = (programs.get(str(pid), "?"), emails.get(str(m["leadId"]), "?"))
            out.mk_members[key] = (m["progressionStatus"], bool(m.get("reachedSuccess")))
    for records_of_type in mk["customObjects"].values():
        for r in records_of_type.values() if isinstance(records_of_type, dict) else records_of_type:
            key = (r.get("entry_id", ""), (r.get("email") or "").lower())
            out.mk_objects[key] += 1
            out.mk_object_values[key] = r
    for a in mk["activities"]:
        out.mk_activities[(emails.get(str(a["leadId"]), "?"), a.get("primaryAttributeValue", ""))] += 1
    return out


def differences(want: Expected, got: OrgContent) -> list[str]:
    """Every way ``got`` differs from ``want`` (empty: the orgs hold exactly what the input says)."""
    problems: list[str] = []

    def same(label: str, expected_keys: Any, found: Counter[Any]) -> None:
        extra = sorted(k for k in found if k not in expected_keys)
        missing = sorted(k for k in expected_keys if k not in found)
        twice = sorted(k for k, n in found.items() if n > 1)
        for what, keys in (("missing", missing), ("not in the input", extra), ("more than once", twice)):
            if keys:
                problems.append(f"{label} {what}: {keys[:5]}{' …' if len(keys) > 5 else ''} ({len(keys)})")

    same("Salesforce campaign member", {(c, e, s) for (c, e), s in want.sf_members.items()}, got.sf_members)
    same("Salesforce engagement", want.sf_engagement, got.sf_engagement)
    same("Salesforce polls record", want.sf_polls, got.sf_polls)
    same("Marketo lead", want.mk_leads, got.mk_leads)
    same("Marketo custom object record", want.mk_objects, got.mk_objects)
    same("Marketo activity", want.mk_activities, got.mk_activities)
    for email, values in want.sf_new_leads.items():
        leads = [lead for lead in got.sf_leads.get(email, []) if not lead.get("IsConverted")]
        if len(leads) != 1:
            problems.append(f"Salesforce Lead {email}: {len(leads)} unconverted, expected 1")
        elif any(leads[0].get(k) != v for k, v in values.items() if v):
            problems.append(f"Salesforce Lead {email}: {[(k, leads[0].get(k), v) for k, v in values.items()]}")
    for key, values in want.sf_engagement.items():
        record = got.sf_engagement_values.get(key)
        if record is not None:
            for column, value in values.items():
                stored = record.get(f"{column}__c")
                ok = (stored == value) if column in ("entry_id", "entry_name") else (
                    stored is not None and abs(float(stored) - float(value)) < 0.005)
                if not ok:
                    problems.append(f"Salesforce engagement {key} {column}: {stored!r}, expected {value!r}")
    for key, values in want.sf_polls.items():
        record = got.sf_poll_values.get(key)
        if record is not None and any(record.get(k) != v for k, v in values.items()):
            problems.append(f"Salesforce polls record {key}: {[(k, record.get(k), v) for k, v in values.items()]}")
    for key, values in want.mk_objects.items():
        record = got.mk_object_values.get(key)
        if record is not None and any(str(record.get(c)) != v for c, v in values.items()):
            problems.append(f"Marketo custom object {key}: {[(c, record.get(c), v) for c, v in values.items()]}")
    if got.mk_members != want.mk_members:
        diff = sorted(set(got.mk_members.items()) ^ set(want.mk_members.items()))
        problems.append(f"Marketo program members differ: {diff[:6]} ({len(diff)})")
    return problems
