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
from ....plan.forecast import batches
from ..connection import SalesforceConnection, campaign_read_calls
from ..data_client import MAX_COLLECTION, RecordResult

KIND = "salesforce.status"
TEMP_BASE = 100_000  # out-of-the-way SortOrders for moves that would otherwise collide


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
        live: dict[str, Live] = {}
        for campaign, ds in by_campaign.items():
            rows = (campaigns.get(campaign) or {}).get("statuses", [])
            records = {r["Label"]: r for r in rows}
            managed = sorted((r for label, r in records.items() if label in self._labels[campaign]),
                             key=lambda r: r["SortOrder"])
            rank = {r["Label"]: i + 1 for i, r in enumerate(managed)}
            for d in ds:
                r = records.get(d.attributes["label"])
                live[d.address] = Live(d.address, None if r is None else {
                    "campaign": campaign, "label": r["Label"], "order": rank[r["Label"]],
                    "default": bool(r["IsDefault"]), "responded": bool(r["HasResponded"])})
        return live

    def calls_for(self, changes: list[Change]) -> int:
        """Reading the campaigns again (their statuses, after the campaign kind wrote them), the moves out of
        the way when an order changes, then creates and updates, MAX_COLLECTION records a call. Exact when
        the campaigns are written in the same apply; one query over when only statuses change (the plan's
        read is reused then), and a reorder may update statuses the manifest does not name."""
        creates = [c for c in changes if c.action == "create"]
        updates = [c for c in changes if c.action == "update"]
        if not creates and not updates:
            return 0
        campaigns = list(dict.fromkeys(c.after["campaign"] for c in creates + updates))  # type: ignore[index]
        moves = any(d.attribute == "order" for c in updates for d in c.diff)
        return (campaign_read_calls(campaigns) + int(moves) + batches(len(creates), MAX_COLLECTION)
                + batches(len(updates), MAX_COLLECTION))

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        """All campaigns at once: at most one move, one create and one update call in all."""
        results: list[Result] = []
        by_campaign: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            if change.action in ("create", "update"):
                by_campaign[change.after["campaign"]].append(change)
            else:
                results.append(Result(change.address, False, change.action,
                                      "campaign member statuses are never deleted by provisioner"))
        campaigns = conn.read_campaigns(list(by_campaign))
        moves: list[dict[str, Any]] = []
        creates: list[tuple[str, str, dict[str, Any]]] = []  # (campaign, label, record)
        updates: list[tuple[str, str, dict[str, Any]]] = []
        for campaign, group in by_campaign.items():
            record = campaigns.get(campaign)
            if record is None:
                results += [Result(c.address, False, c.action, f"campaign '{campaign}' does not exist") for c in group]
                continue
            self._layout(campaign, record, group, moves, creates, updates)
        if moves:  # out of the way first, so no two statuses of a campaign ever share a SortOrder
            conn.data.update("CampaignMemberStatus", moves)
        outcome: dict[tuple[str, str], RecordResult] = {}
        if creates:
            def already_created(batch: Any) -> list[RecordResult] | None:
                conn.forget_campaign_names(list(by_campaign))
                now = conn.read_campaigns(list(by_campaign))
                labels = {(c, r["Label"]) for c, rec in now.items() if rec for r in rec["statuses"]}
                keys = [(c, l) for c, l, _ in creates]
                return [RecordResult(None, True, created=True) for _ in batch] if all(k in labels for k in keys) else None

            created = conn.data.create("CampaignMemberStatus", [r for _, _, r in creates], verify=already_created)
            outcome.update(zip([(c, l) for c, l, _ in creates], created))
        if updates:
            updated = conn.data.update("CampaignMemberStatus", [r for _, _, r in updates])
            outcome.update(zip([(c, l) for c, l, _ in updates], updated))
        conn.forget_campaign_names(list(by_campaign))
        for campaign, group in by_campaign.items():
            if campaigns.get(campaign) is None:
                continue
            for change in group:
                result = outcome.get((campaign, change.after["label"]))
                if result is None or result.success:
                    results.append(Result(change.address, True, change.action))
                else:
                    results.append(Result(change.address, False, change.action, result.message()))
        return results

    def _layout(self, campaign: str, record: dict[str, Any], changes: list[Change], moves: list[dict[str, Any]],
                creates: list[tuple[str, str, dict[str, Any]]], updates: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Plan one campaign's writes: temporary moves, new statuses, and updates of existing ones."""
        existing = {r["Label"]: r for r in record["statuses"]}
        labels = self._labels.get(campaign) or [c.after["label"] for c in sorted(changes, key=lambda c: c.after["order"])]
        wanted = {c.after["label"]: c.after for c in changes}
        target = _target_orders(labels, [r["SortOrder"] for label, r in existing.items() if label not in labels])
        moving = [existing[l] for l in labels if l in existing and existing[l]["SortOrder"] != target[l]]
        taken = {target[l] for l in labels if l not in existing} | {target[r["Label"]] for r in moving}
        for row in (r for r in moving if r["SortOrder"] in taken):
            moves.append({"Id": row["Id"], "SortOrder": TEMP_BASE + len(moves)})
        for label in labels:
            after, row = wanted.get(label), existing.get(label)
            if row is None:
                if after is not None:
                    creates.append((campaign, label, {"CampaignId": record["Id"], "Label": label,
                                                      "SortOrder": target[label], "HasResponded": after["responded"],
                                                      "IsDefault": after["default"]}))
                continue
            patch: dict[str, Any] = {}
            if row["SortOrder"] != target[label]:
                patch["SortOrder"] = target[label]
            if after is not None and bool(row["HasResponded"]) != after["responded"]:
                patch["HasResponded"] = after["responded"]
            if after is not None and after["default"] and not row["IsDefault"]:
                patch["IsDefault"] = True  # Salesforce unsets the previous default itself
            if patch:
                updates.append((campaign, label, dict(patch, Id=row["Id"])))


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
