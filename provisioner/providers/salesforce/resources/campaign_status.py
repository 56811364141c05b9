"""Kind ``salesforce.status``: campaign member statuses, which are data (CampaignMemberStatus), not metadata.

Salesforce's rules shape how they are written: exactly one default (setting one unsets the
other), SortOrder and labels unique per campaign, and a default or in-use status cannot be
deleted, so statuses are only created, reordered and re-flagged, never deleted. Statuses the
manifest does not name (e.g. the "Sent"/"Responded" every new campaign gets) keep their
places; managed statuses take the free sort positions in manifest order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ....plan.resource import Change, Desired, Live, Result
from ..connection import SalesforceConnection
from ..data_client import RecordResult

KIND = "salesforce.status"
TEMP_BASE = 100_000  # out-of-the-way SortOrders for moves that would otherwise collide

_FIELDS = "Id, CampaignId, Label, SortOrder, IsDefault, HasResponded"


class CampaignStatusKind:
    name = KIND
    depends_on: tuple[str, ...] = ("salesforce.campaign",)

    def __init__(self) -> None:
        self._labels: dict[str, list[str]] = {}  # campaign → managed labels in manifest order

    def read(self, conn: SalesforceConnection, desired: list[Desired]) -> dict[str, Live]:
        by_campaign: dict[str, list[Desired]] = defaultdict(list)
        for d in desired:
            by_campaign[d.attributes["campaign"]].append(d)
        self._labels = {c: [d.attributes["label"] for d in ds] for c, ds in by_campaign.items()}
        campaigns = conn.read_campaigns(list(by_campaign))
        ids = {c["Id"]: name for name, c in campaigns.items() if c}
        rows = conn.data.query_in(f"SELECT {_FIELDS} FROM CampaignMemberStatus WHERE CampaignId IN ({{values}}) "
                                  "ORDER BY SortOrder ASC", list(ids), what="read campaign statuses") if ids else []
        live: dict[str, Live] = {}
        for campaign, ds in by_campaign.items():
            records = {r["Label"]: r for r in rows if ids.get(r["CampaignId"]) == campaign}
            managed = sorted((r for label, r in records.items() if label in self._labels[campaign]),
                             key=lambda r: r["SortOrder"])
            rank = {r["Label"]: i + 1 for i, r in enumerate(managed)}
            for d in ds:
                r = records.get(d.attributes["label"])
                live[d.address] = Live(d.address, None if r is None else {
                    "campaign": campaign, "label": r["Label"], "order": rank[r["Label"]],
                    "default": bool(r["IsDefault"]), "responded": bool(r["HasResponded"])})
        return live

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        results: list[Result] = []
        by_campaign: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            if change.action in ("create", "update"):
                by_campaign[change.after["campaign"]].append(change)
            else:
                results.append(Result(change.address, False, change.action,
                                      "campaign member statuses are never deleted by provisioner"))
        for campaign, group in by_campaign.items():
            results.extend(self._apply_campaign(conn, campaign, group))
        return results

    def _apply_campaign(self, conn: SalesforceConnection, campaign: str, changes: list[Change]) -> list[Result]:
        record = conn.read_campaigns([campaign]).get(campaign)
        if record is None:
            return [Result(c.address, False, c.action, f"campaign '{campaign}' does not exist") for c in changes]
        rows = conn.data.query(f"SELECT {_FIELDS} FROM CampaignMemberStatus WHERE CampaignId = '{record['Id']}'",
                               what="read campaign statuses")
        existing = {r["Label"]: r for r in rows}
        labels = self._labels.get(campaign) or [c.after["label"] for c in sorted(changes, key=lambda c: c.after["order"])]
        wanted = {c.after["label"]: c.after for c in changes}
        target = _target_orders(labels, [r["SortOrder"] for label, r in existing.items() if label not in labels])

        moving = [existing[l] for l in labels if l in existing and existing[l]["SortOrder"] != target[l]]
        targets_taken = {target[l] for l in labels if l not in existing} | {target[r["Label"]] for r in moving}
        blocking = [r for r in moving if r["SortOrder"] in targets_taken]
        if blocking:  # move out of the way first, so no two statuses ever share a SortOrder
            conn.data.update("CampaignMemberStatus", [{"Id": r["Id"], "SortOrder": TEMP_BASE + i}
                                                      for i, r in enumerate(blocking)])
        outcome: dict[str, RecordResult] = {}
        new = [l for l in labels if l in wanted and l not in existing]
        if new:
            records = [{"CampaignId": record["Id"], "Label": l, "SortOrder": target[l],
                        "HasResponded": wanted[l]["responded"], "IsDefault": wanted[l]["default"]} for l in new]

            def already_created(batch: Any) -> list[RecordResult] | None:
                seen = {r["Label"]: r for r in conn.data.query(
                    f"SELECT {_FIELDS} FROM CampaignMemberStatus WHERE CampaignId = '{record['Id']}'")}
                return [RecordResult(seen[b["Label"]]["Id"], True, created=True) for b in batch] \
                    if all(b["Label"] in seen for b in batch) else None

            outcome.update(zip(new, conn.data.create("CampaignMemberStatus", records, verify=already_created)))
        updates = []
        for label in labels:
            row = existing.get(label)
            if row is None:
                continue
            after = wanted.get(label)
            patch: dict[str, Any] = {}
            if row["SortOrder"] != target[label]:
                patch["SortOrder"] = target[label]
            if after is not None and bool(row["HasResponded"]) != after["responded"]:
                patch["HasResponded"] = after["responded"]
            if after is not None and after["default"] and not row["IsDefault"]:
                patch["IsDefault"] = True  # Salesforce unsets the previous default itself
            if patch:
                updates.append((label, dict(patch, Id=row["Id"])))
        if updates:
            outcome.update(zip([l for l, _ in updates], conn.data.update("CampaignMemberStatus",
                                                                         [p for _, p in updates])))
        results = []
        for change in changes:
            result = outcome.get(change.after["label"])
            if result is None or result.success:
                results.append(Result(change.address, True, change.action))
            else:
                results.append(Result(change.address, False, change.action, result.message()))
        return results


def _target_orders(labels: list[str], unmanaged_orders: list[int]) -> dict[str, int]:
    """Sort positions for managed labels: the free positions, in manifest order, around unmanaged ones."""
    taken = set(unmanaged_orders)
    target: dict[str, int] = {}
    position = 1
    for label in labels:
        while position in taken:
            position += 1
        target[label] = position
        position += 1
    return target
