"""Kind ``salesforce.object``: custom objects (created, updated by full replace, deleted).

Standard objects named by a manifest are carried as read-only entries so their custom fields
are read in the same ``readMetadata`` call; they never produce a change.
"""

from __future__ import annotations

from typing import Any

from ....plan.classify import as_manual, classify_default
from ....plan.resource import Change, Desired, Live, Result
from ..connection import SalesforceConnection
from ..normalize import live_object_attributes, object_metadata
from .common import metadata_calls, metadata_results

KIND = "salesforce.object"


class CustomObjectKind:
    name = KIND
    depends_on: tuple[str, ...] = ()

    def read(self, conn: SalesforceConnection, desired: list[Desired]) -> dict[str, Live]:
        api_names = [d.attributes["apiName"] for d in desired]
        found = conn.read_objects(api_names)
        live: dict[str, Live] = {}
        for d in desired:
            md = found.get(d.attributes["apiName"])
            if md is None:
                live[d.address] = Live(d.address, None)
                continue
            if d.attributes.get("standard"):
                live[d.address] = Live(d.address, dict(d.attributes))
                continue
            attrs = dict(live_object_attributes(md), apiName=d.attributes["apiName"])
            info: dict[str, Any] = {}
            if d.ensure == "absent":
                info["records"] = conn.data.count(f"SELECT COUNT() FROM {d.attributes['apiName']}")
            live[d.address] = Live(d.address, attrs, info)
        return live

    def classify(self, desired: Desired, live: Live) -> Change:
        change = classify_default(desired, live)
        if desired.attributes.get("standard") and not live.exists:
            return as_manual(change, f"standard object {desired.attributes['apiName']} does not exist in this org",
                             ["Check the object's API name in Setup > Object Manager",
                              "If it is a custom object, set 'custom: true' in the manifest"])
        return change

    def calls_for(self, changes: list[Change]) -> int:
        """One upsertMetadata (or deleteMetadata) call per MAX_COMPONENTS changes."""
        return metadata_calls(changes)

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        upserts = [c for c in changes if c.action in ("create", "update")]
        deletes = [c for c in changes if c.action == "delete"]
        results: list[Result] = []
        if upserts:
            components = [conn.metadata.make("CustomObject", **object_metadata(
                c.after["apiName"], c.after, starting_number=c.after.get("startingNumber"))) for c in upserts]
            results += metadata_results(upserts, conn.metadata.upsert(components), [c.after["apiName"] for c in upserts])
        if deletes:
            names = [c.before["apiName"] for c in deletes]
            results += metadata_results(deletes, conn.metadata.delete("CustomObject", names), names)
        conn.wrote_metadata()
        return results
