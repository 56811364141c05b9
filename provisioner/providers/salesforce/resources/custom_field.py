"""Kind ``salesforce.field``: custom fields on standard and custom objects (upsert, delete)."""

from __future__ import annotations

from typing import Any

from ....plan.classify import classify_default
from ....plan.engine import will_exist
from ....plan.errors import MissingReference
from ....plan.resource import Change, Desired, Live, Result
from ..connection import SalesforceConnection
from ..metadata_client import as_list
from ..normalize import field_metadata, live_field_attributes
from .common import metadata_calls, metadata_results

KIND = "salesforce.field"
OBJECT_KIND = "salesforce.object"


class CustomFieldKind:
    name = KIND
    depends_on: tuple[str, ...] = ("salesforce.object",)

    def before_read(self, conn: SalesforceConnection, desired: list[Desired]) -> None:
        """The fields' objects and lookup targets: read with the plan's first CustomObject read."""
        conn.want_objects([n for d in desired for n in (d.attributes["object"], d.attributes.get("referenceTo"))])

    def read(self, conn: SalesforceConnection, desired: list[Desired]) -> dict[str, Live]:
        objects = conn.read_objects([d.attributes["object"] for d in desired])
        live: dict[str, Live] = {}
        for d in desired:
            obj = objects.get(d.attributes["object"]) or {}
            fields = as_list(obj.get("fields"))
            wanted = d.attributes["apiName"].lower()
            md = next((f for f in fields if str(f.get("fullName", "")).rsplit(".", 1)[-1].lower() == wanted), None)
            if md is None:
                live[d.address] = Live(d.address, None)
                continue
            attrs = dict(live_field_attributes(md), object=d.attributes["object"], apiName=d.attributes["apiName"])
            info: dict[str, Any] = {}
            if d.ensure == "absent":
                info["values"] = conn.data.count(
                    f"SELECT COUNT() FROM {d.attributes['object']} WHERE {d.attributes['apiName']} != null")
            live[d.address] = Live(d.address, attrs, info)
        return live

    def missing_references(self, conn: SalesforceConnection, desired: list[Desired],
                           planned: dict[str, Change]) -> list[MissingReference]:
        """A field's object and a lookup's target object must exist in the org or be created by the plan."""
        wanted = [(d, role, name) for d in desired for role, name in
                  (("object", d.attributes["object"]), ("lookup target", d.attributes.get("referenceTo")))
                  if name]
        return objects_missing(conn, wanted, planned)

    def classify(self, desired: Desired, live: Live) -> Change:
        return classify_default(desired, live)

    def calls_for(self, changes: list[Change]) -> int:
        """One upsertMetadata (or deleteMetadata) call per MAX_COMPONENTS changes."""
        return metadata_calls(changes)

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        upserts = [c for c in changes if c.action in ("create", "update")]
        deletes = [c for c in changes if c.action == "delete"]
        results: list[Result] = []
        if upserts:
            names = [f"{c.after['object']}.{c.after['apiName']}" for c in upserts]
            components = [conn.metadata.make("CustomField", **field_metadata(name, _api_attrs(c.after)))
                          for name, c in zip(names, upserts)]
            results += metadata_results(upserts, conn.metadata.upsert(components), names)
        if deletes:
            names = [f"{c.before['object']}.{c.before['apiName']}" for c in deletes]
            results += metadata_results(deletes, conn.metadata.delete("CustomField", names), names)
        conn.wrote_metadata()
        return results


def _api_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in ("object", "apiName")}


def objects_missing(conn: SalesforceConnection, wanted: list[tuple[Desired, str, str]],
                    planned: dict[str, Change]) -> list[MissingReference]:
    """For each (resource, role, object API name): a finding when the object will not exist after apply."""
    unplanned = [name for _d, _role, name in wanted if will_exist(planned.get(f"{OBJECT_KIND}.{name}")) is None]
    found = conn.read_objects(unplanned) if unplanned else {}
    missing = []
    for d, role, name in wanted:
        exists = will_exist(planned.get(f"{OBJECT_KIND}.{name}"))
        if exists is False or (exists is None and not found.get(name)):
            missing.append(MissingReference(
                d.address, f"{role} object {name} does not exist in the org and this plan does not create it",
                "check the object's API name in Setup > Object Manager, or declare the custom object in a manifest "
                "of this plan", d.location))
    return missing
