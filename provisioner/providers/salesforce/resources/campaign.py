"""Kind ``salesforce.campaign``: the template campaign that carries the member statuses.

Campaign names are not unique in Salesforce, so the oldest campaign of a name is the one
managed, and a create whose reply was lost is looked up by name before it is repeated.
"""

from __future__ import annotations

from typing import Any

from ....plan.resource import Change, Desired, Live, Result
from ..connection import SalesforceConnection

KIND = "salesforce.campaign"


def live_campaign(record: dict[str, Any]) -> dict[str, Any]:
    return {"name": record["Name"], "type": record.get("Type"), "description": record.get("Description") or None}


class CampaignKind:
    name = KIND
    depends_on: tuple[str, ...] = ()

    def read(self, conn: SalesforceConnection, desired: list[Desired]) -> dict[str, Live]:
        found = conn.read_campaigns([d.attributes["name"] for d in desired])
        return {d.address: Live(d.address, live_campaign(found[d.attributes["name"]])
                                if found.get(d.attributes["name"]) else None) for d in desired}

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        results: list[Result] = []
        creates = [c for c in changes if c.action == "create"]
        updates = [c for c in changes if c.action == "update"]
        if creates:
            records = [{"Name": c.after["name"], "Type": c.after["type"], "Description": c.after.get("description"),
                        "IsActive": True} for c in creates]

            def already_created(batch: Any) -> Any:
                names = [r["Name"] for r in batch]
                conn.forget_campaign_names(names)
                found = conn.read_campaigns(names)
                if all(found.get(n) for n in names):
                    from ..data_client import RecordResult
                    return [RecordResult(found[n]["Id"], True, created=True) for n in names]
                return None

            outcome = conn.data.create("Campaign", records, verify=already_created)
            for change, result in zip(creates, outcome):
                results.append(Result(change.address, result.success, change.action,
                                      "" if result.success else result.message()))
        if updates:
            current = conn.read_campaigns([c.after["name"] for c in updates])
            records = [{"Id": current[c.after["name"]]["Id"], "Type": c.after["type"],
                        "Description": c.after.get("description")} for c in updates]
            for change, result in zip(updates, conn.data.update("Campaign", records)):
                results.append(Result(change.address, result.success, change.action,
                                      "" if result.success else result.message()))
        for change in changes:
            if change.action not in ("create", "update"):
                results.append(Result(change.address, False, change.action,
                                      "campaigns are never deleted by provisioner; delete it in Salesforce"))
        conn.forget_campaign_names([c.after["name"] for c in creates + updates])
        return results
