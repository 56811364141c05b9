"""Kind ``salesforce.campaign``: a template campaign that carries the member statuses, or a per-event
campaign (status, dates, parent, active flag) rendered from one by ``provisioner event new``.

Campaign names are not unique in Salesforce, so the oldest campaign of a name is the one
managed, and a create whose reply was lost is looked up by name before it is repeated.
Salesforce has no clone call for a campaign and its statuses: a new campaign is created, and
the ``salesforce.status`` kind then creates its statuses (all campaigns' in one collection call).
"""

from __future__ import annotations

from typing import Any

from ....plan.engine import will_exist
from ....plan.errors import MissingReference
from ....plan.resource import Change, Desired, Live, Result
from ..connection import SalesforceConnection
from ....plan.forecast import batches
from ..data_client import MAX_COLLECTION, RecordResult
from .common import quoted

KIND = "salesforce.campaign"

#: Manifest attribute → Campaign field, for the attributes written as they are.
FIELDS = {"type": "Type", "description": "Description", "status": "Status", "startDate": "StartDate",
          "endDate": "EndDate", "isActive": "IsActive"}


def live_campaign(record: dict[str, Any]) -> dict[str, Any]:
    """A Campaign record (as ``read_campaigns`` returns it) in manifest terms."""
    return {"name": record["Name"], "type": record.get("Type"), "description": record.get("Description") or None,
            "status": record.get("Status"), "startDate": record.get("StartDate"), "endDate": record.get("EndDate"),
            "isActive": record.get("IsActive"), "parent": record.get("ParentName")}


def _parent_names(items: list[dict[str, Any]]) -> list[str]:
    return [a["parent"] for a in items if a.get("parent")]


class CampaignKind:
    name = KIND
    depends_on: tuple[str, ...] = ()

    def read(self, conn: SalesforceConnection, desired: list[Desired]) -> dict[str, Live]:
        """One query for every campaign and parent named (memoised for the status kind and apply)."""
        names = [d.attributes["name"] for d in desired]
        found = conn.read_campaigns(names + _parent_names([d.attributes for d in desired]))
        return {d.address: Live(d.address, live_campaign(found[d.attributes["name"]])  # type: ignore[index]
                                if found.get(d.attributes["name"]) else None) for d in desired}

    def missing_references(self, conn: SalesforceConnection, desired: list[Desired],
                           planned: dict[str, Change]) -> list[MissingReference]:
        """A parent campaign must exist in the org or be created by the same plan."""
        parents = _parent_names([d.attributes for d in desired])
        found = conn.read_campaigns(parents)  # memoised: read() already asked for the parents
        missing = []
        for d in desired:
            parent = d.attributes.get("parent")
            if not parent:
                continue
            planned_exists = will_exist(planned.get(f"{KIND}.{quoted(parent)}"))
            if planned_exists is False or (planned_exists is None and not found.get(parent)):
                missing.append(MissingReference(
                    d.address, f"parent campaign '{parent}' does not exist in the org and this plan does not create it",
                    "create the parent campaign first, or declare it in a manifest of this plan", d.location))
        return missing

    def calls_for(self, changes: list[Change]) -> int:
        """Creates, then updates, MAX_COLLECTION records a call (the campaigns and parents were read by the plan)."""
        creates = sum(c.action == "create" for c in changes)
        updates = sum(c.action == "update" for c in changes)
        return batches(creates, MAX_COLLECTION) + batches(updates, MAX_COLLECTION)

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        results: list[Result] = []
        creates = [c for c in changes if c.action == "create"]
        updates = [c for c in changes if c.action == "update"]
        parents = conn.read_campaigns(_parent_names([c.after or {} for c in creates + updates]))
        missing = {p for p, record in parents.items() if record is None}
        for change in [c for c in creates + updates if (c.after or {}).get("parent") in missing]:
            results.append(Result(change.address, False, change.action,
                                  f"parent campaign '{change.after['parent']}' does not exist; "  # type: ignore[index]
                                  "declare it in a manifest or create it first"))
        creates = [c for c in creates if (c.after or {}).get("parent") not in missing]
        updates = [c for c in updates if (c.after or {}).get("parent") not in missing]
        if creates:
            records = [dict(_record(c.after or {}, parents), Name=c.after["name"],  # type: ignore[index]
                            IsActive=(c.after or {}).get("isActive", True)) for c in creates]

            def already_created(batch: Any) -> Any:
                names = [r["Name"] for r in batch]
                conn.forget_campaign_names(names)
                found = conn.read_campaigns(names)
                if all(found.get(n) for n in names):
                    return [RecordResult(found[n]["Id"], True, created=True) for n in names]  # type: ignore[index]
                return None

            outcome = conn.data.create("Campaign", records, verify=already_created)
            for change, result in zip(creates, outcome):
                results.append(Result(change.address, result.success, change.action,
                                      "" if result.success else result.message()))
        if updates:
            current = conn.read_campaigns([c.after["name"] for c in updates])  # type: ignore[index]
            records = [dict(_record({k: (c.after or {}).get(k) for k in _changed(c)}, parents),
                            Id=current[c.after["name"]]["Id"]) for c in updates]  # type: ignore[index]
            for change, result in zip(updates, conn.data.update("Campaign", records)):
                results.append(Result(change.address, result.success, change.action,
                                      "" if result.success else result.message()))
        for change in changes:
            if change.action not in ("create", "update"):
                results.append(Result(change.address, False, change.action,
                                      "campaigns are never deleted by provisioner; delete it in Salesforce"))
        conn.forget_campaign_names([c.after["name"] for c in creates + updates])  # type: ignore[index]
        return results


def _changed(change: Change) -> list[str]:
    """The attributes an update writes: those the plan shows as different."""
    return list(dict.fromkeys(d.path.split(".")[0].split("[")[0] for d in change.diff))


def _record(attributes: dict[str, Any], parents: dict[str, Any]) -> dict[str, Any]:
    """Campaign fields for the manifest attributes given; ``parent`` becomes ParentId."""
    record = {FIELDS[k]: v for k, v in attributes.items() if k in FIELDS}
    if "parent" in attributes:
        parent = parents.get(attributes["parent"]) if attributes["parent"] else None
        record["ParentId"] = parent["Id"] if parent else None
    return record
