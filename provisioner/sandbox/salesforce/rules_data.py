"""Object-specific data rules: Lead, Contact, Campaign, CampaignMemberStatus, CampaignMember.

Called by :mod:`.dml` around every write, for REST, collections and Bulk API 2.0 alike.
``before_*`` return errors (and may fill derived fields); ``after_*`` apply side effects.
"""

from __future__ import annotations

from typing import Any

from .errors import error
from .schema import SObjectType, to15
from .store import OrgStore

CONVERTED_LEAD = ("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")


def _same(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and to15(str(a)) == to15(str(b))


def _full_name(record: dict[str, Any]) -> str:
    return " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)


def _campaign_of(status: dict[str, Any]) -> str | None:
    return to15(str(status["CampaignId"])) if status.get("CampaignId") else None


def _statuses(store: OrgStore, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's statuses, through an index: a scan per insert made an org of N campaigns O(N²)."""
    return store.lookup("CampaignMemberStatus", "by-campaign", _campaign_of, to15(str(campaign_id)))


def before_write(store: OrgStore, obj: SObjectType, new: dict[str, Any],
                 old: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Errors Salesforce returns for this insert (``old`` None) or update."""
    check = _BEFORE.get(obj.name)
    return check(store, new, old) if check else []


def _lead(store: OrgStore, new: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    if old is not None and old.get("IsConverted"):
        return [error(*CONVERTED_LEAD)]
    new["Name"] = _full_name(new)
    return []


def _contact(store: OrgStore, new: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    new["Name"] = _full_name(new)
    return []


def _status(store: OrgStore, new: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    others = [s for s in _statuses(store, new["CampaignId"]) if not old or s["Id"] != old["Id"]]
    for s in others:
        if str(s["Label"]).lower() == str(new["Label"]).lower():
            return [error("DUPLICATE_VALUE", f"duplicate value found: Label duplicates value on record with id: "
                                             f"{s['Id']}", ["Label"])]
    if new.get("SortOrder") is None:
        new["SortOrder"] = max([s.get("SortOrder") or 0 for s in others] + [0]) + 1
    for s in others:
        if s.get("SortOrder") == new["SortOrder"]:
            return [error("DUPLICATE_VALUE", f"duplicate value found: SortOrder duplicates value on record with "
                                             f"id: {s['Id']}", ["SortOrder"])]
    if old is not None:
        if old.get("IsDefault") and not new.get("IsDefault"):
            return [error("FIELD_INTEGRITY_EXCEPTION", "A campaign must have exactly one default member status. "
                                                       "Set another status as the default instead.", ["IsDefault"])]
        if old.get("HasResponded") and not new.get("HasResponded") and not any(s.get("HasResponded") for s in others):
            return [error("FIELD_INTEGRITY_EXCEPTION", "At least one campaign member status must be marked as "
                                                       "Responded.", ["HasResponded"])]
        if old.get("Label") != new.get("Label"):
            for member in store.all("CampaignMember"):
                if _same(member["CampaignId"], new["CampaignId"]) and member.get("Status") == old.get("Label"):
                    member["Status"] = new["Label"]
    return []


def _member(store: OrgStore, new: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    if new.get("ContactId") and new.get("LeadId") and old is None:
        new["LeadId"] = None  # as documented: with both, only the ContactId is kept
    person_field = "ContactId" if new.get("ContactId") else "LeadId"
    person_id = new.get(person_field)
    if not person_id:
        return [error("REQUIRED_FIELD_MISSING", "Required fields are missing: [ContactId, LeadId]",
                      ["ContactId", "LeadId"])]
    person = store.get("Contact" if person_field == "ContactId" else "Lead", person_id)
    if person is None:
        return [error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [person_field])]
    if person_field == "LeadId" and person.get("IsConverted"):
        return [error(*CONVERTED_LEAD)]
    if old is None:
        def membership(r: dict[str, Any]) -> Any:
            return (to15(r["CampaignId"]), to15(r[person_field])) if r.get(person_field) else None
        if store.lookup("CampaignMember", f"membership:{person_field}", membership,
                        (to15(new["CampaignId"]), to15(person_id))):
            return [error("DUPLICATE_VALUE", "Already a campaign member.")]
    statuses = _statuses(store, new["CampaignId"])
    if new.get("Status") in (None, ""):
        default = next((s for s in statuses if s.get("IsDefault")), None)
        new["Status"] = default["Label"] if default else None
    match = next((s for s in statuses if str(s["Label"]).lower() == str(new["Status"]).lower()), None)
    if match is None:
        return [error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                      f"Status: bad value for restricted picklist field: {new['Status']}", ["Status"])]
    new["Status"] = match["Label"]
    new["HasResponded"] = bool(match.get("HasResponded"))
    for key in ("FirstName", "LastName", "Email"):
        new[key] = person.get(key)
    new["Name"] = _full_name(person)
    return []


def _assignment(store: OrgStore, new: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    for a in store.all("PermissionSetAssignment"):
        if _same(a["AssigneeId"], new["AssigneeId"]) and _same(a["PermissionSetId"], new["PermissionSetId"]):
            return [error("DUPLICATE_VALUE", f"Duplicate PermissionSetAssignment: the permission set is already "
                                             f"assigned to this user (id {a['Id']})")]
    return []


_BEFORE = {
    "Lead": _lead, "Contact": _contact, "CampaignMemberStatus": _status, "CampaignMember": _member,
    "PermissionSetAssignment": _assignment,
}


def after_write(store: OrgStore, obj: SObjectType, record: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Side effects: a new Campaign's two statuses; one default status per campaign."""
    if obj.name == "Campaign" and old is None:
        store.insert_raw("CampaignMemberStatus", {"CampaignId": record["Id"], "Label": "Sent", "SortOrder": 1,
                                                  "IsDefault": True, "HasResponded": False})
        store.insert_raw("CampaignMemberStatus", {"CampaignId": record["Id"], "Label": "Responded",
                                                  "SortOrder": 2, "IsDefault": False, "HasResponded": True})
    if obj.name == "CampaignMemberStatus" and record.get("IsDefault"):
        for s in _statuses(store, record["CampaignId"]):
            if s["Id"] != record["Id"] and s.get("IsDefault"):
                s["IsDefault"] = False


def _children(store: OrgStore, obj: SObjectType, record: dict[str, Any]) -> list[tuple[SObjectType, Any, dict[str, Any]]]:
    """Records whose custom lookup or master-detail field points at ``record``: (type, field, child)."""
    found = []
    for other in list(store.objects.values()):
        for f in other.fields.values():
            if not f.custom or obj.name not in f.reference_to:
                continue
            for child in store.all(other.name):
                if _same(child.get(f.name), record["Id"]):
                    found.append((other, f, child))
    return found


def _constraint(f: Any) -> str:
    md = f.metadata or {}
    return "Cascade" if md.get("type") == "MasterDetail" else str(md.get("deleteConstraint") or "SetNull")


def before_delete(store: OrgStore, obj: SObjectType, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Restrict lookups block the delete; a default or in-use campaign member status cannot be deleted."""
    restricted = sorted({other.label for other, f, _c in _children(store, obj, record) if _constraint(f) == "Restrict"})
    if restricted:
        return [error("DELETE_FAILED", f"Your attempt to delete {record.get('Name') or record['Id']} could not be "
                                       f"completed because it is associated with the following "
                                       f"{', '.join(restricted)}.")]
    if obj.name == "CampaignMemberStatus":
        if record.get("IsDefault"):
            return [error("DELETE_FAILED", "You can't delete a campaign member status that is the default status.")]
        for m in store.all("CampaignMember"):
            if _same(m["CampaignId"], record["CampaignId"]) and m.get("Status") == record["Label"]:
                return [error("DELETE_FAILED", "You can't delete a campaign member status that is in use by "
                                               "campaign members.")]
        others = [s for s in _statuses(store, record["CampaignId"]) if s["Id"] != record["Id"]]
        if record.get("HasResponded") and not any(s.get("HasResponded") for s in others):
            return [error("DELETE_FAILED", "At least one campaign member status must be marked as Responded.")]
    return []


def after_delete(store: OrgStore, obj: SObjectType, record: dict[str, Any]) -> None:
    """Cascade: a Campaign takes its statuses and members; a Lead or Contact its memberships;
    custom lookups are cleared (SetNull) or their records deleted (Cascade, master-detail)."""
    for other, f, child in _children(store, obj, record):
        if _constraint(f) == "Cascade":
            store.delete_raw(other.name, child["Id"])
            after_delete(store, other, child)
        else:
            child[f.name] = None
    if obj.name == "Campaign":
        for child in ("CampaignMemberStatus", "CampaignMember"):
            for r in store.all(child):
                if _same(r["CampaignId"], record["Id"]):
                    store.delete_raw(child, r["Id"])
    if obj.name in ("Lead", "Contact"):
        key = "LeadId" if obj.name == "Lead" else "ContactId"
        for r in store.all("CampaignMember"):
            if _same(r.get(key), record["Id"]):
                store.delete_raw("CampaignMember", r["Id"])
