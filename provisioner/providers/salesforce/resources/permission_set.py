"""Kind ``salesforce.permission_set``: field-level security for the managed fields, and its assignment.

New fields are invisible to every profile until a permission set grants them; required
fields are visible anyway and must not be listed ("You cannot deploy to a required field").
The permission set is the tool's own: it lists exactly the manifest's non-required fields,
and it is assigned to the user the tool connects as, so the integration can use them.
"""

from __future__ import annotations

from typing import Any

from ....plan.errors import MissingReference
from ....plan.resource import Change, Desired, Live, Result
from ..connection import SalesforceConnection
from ..metadata_client import as_list
from ..soql import quote
from ....plan.forecast import batches
from ..data_client import MAX_COLLECTION
from ..soql import in_chunks
from .common import metadata_calls, metadata_results
from .custom_field import objects_missing

IDS_QUERY = "SELECT Id, Name FROM PermissionSet WHERE Name IN ({values})"


def _to_assign(change: Change) -> bool:
    """True when the change assigns the permission set to the API user (the plan read it is not)."""
    return bool((change.after or {}).get("assignedToApiUser") and not (change.before or {}).get("assignedToApiUser"))

KIND = "salesforce.permission_set"


class PermissionSetKind:
    name = KIND
    depends_on: tuple[str, ...] = ("salesforce.field",)
    list_keys = {"fieldPermissions": "field"}

    def read(self, conn: SalesforceConnection, desired: list[Desired]) -> dict[str, Live]:
        names = [d.attributes["name"] for d in desired]
        found = conn.metadata.read("PermissionSet", names)
        assigned = self._assigned(conn, [n for n in names if found.get(n)])
        live: dict[str, Live] = {}
        for d in desired:
            md = found.get(d.attributes["name"])
            if md is None:
                live[d.address] = Live(d.address, None)
                continue
            grants = sorted(({"field": p.get("field"), "readable": bool(p.get("readable")),
                              "editable": bool(p.get("editable"))}
                             for p in as_list(md.get("fieldPermissions")) if p.get("readable") or p.get("editable")),
                            key=lambda p: p["field"])
            live[d.address] = Live(d.address, {
                "name": d.attributes["name"], "label": md.get("label"), "description": md.get("description") or None,
                "fieldPermissions": grants, "assignedToApiUser": d.attributes["name"] in assigned})
        return live

    def before_read(self, conn: SalesforceConnection, desired: list[Desired]) -> None:
        """The objects the sets grant fields on (the reference check reads them): with the first object read."""
        conn.want_objects([p["field"].split(".", 1)[0] for d in desired for p in d.attributes["fieldPermissions"]])

    def missing_references(self, conn: SalesforceConnection, desired: list[Desired],
                           planned: dict[str, Change]) -> list[MissingReference]:
        """Every object the permission set grants fields on must exist in the org or be created by the plan."""
        wanted = [(d, "granted", name) for d in desired
                  for name in dict.fromkeys(p["field"].split(".", 1)[0] for p in d.attributes["fieldPermissions"])]
        return objects_missing(conn, wanted, planned)

    def _assigned(self, conn: SalesforceConnection, names: list[str]) -> set[str]:
        """Which of the permission sets are assigned to the API user (one query)."""
        if not names:
            return set()
        rows = conn.data.query_in(f"SELECT PermissionSetId, PermissionSet.Name FROM PermissionSetAssignment "
                                  f"WHERE AssigneeId = {quote(conn.user_id)} AND PermissionSet.Name IN ({{values}})",
                                  names, what="read permission set assignments")
        return {(r.get("PermissionSet") or {}).get("Name") for r in rows}

    def calls_for(self, changes: list[Change]) -> int:
        """upsertMetadata per MAX_COMPONENTS; to assign: the ids query, then one create per MAX_COLLECTION."""
        writes = [c for c in changes if c.action in ("create", "update")]
        names = [c.after["name"] for c in writes if _to_assign(c)]  # type: ignore[index]
        assign = len(list(in_chunks(IDS_QUERY, names))) + batches(len(names), MAX_COLLECTION) if names else 0
        return metadata_calls(writes) + assign

    def apply(self, conn: SalesforceConnection, changes: list[Change]) -> list[Result]:
        writes = [c for c in changes if c.action in ("create", "update")]
        results = [Result(c.address, False, c.action, "permission sets are not deleted by provisioner")
                   for c in changes if c.action not in ("create", "update")]
        if not writes:
            return results
        components = [conn.metadata.make("PermissionSet", fullName=c.after["name"], label=c.after["label"],
                                          description=c.after.get("description"),
                                          fieldPermissions=[dict(p) for p in c.after["fieldPermissions"]])
                      for c in writes]
        saved = metadata_results(writes, conn.metadata.upsert(components), [c.after["name"] for c in writes])
        to_assign = [c.after["name"] for c, r in zip(writes, saved)
                     if r.ok and _to_assign(c)]
        failures = self._assign(conn, to_assign) if to_assign else {}
        for change, result in zip(writes, saved):
            if result.ok and change.after["name"] in failures:
                result = Result(change.address, False, change.action,
                                f"saved, but not assigned to the API user: {failures[change.after['name']]}")
            results.append(result)
        return results

    def _assign(self, conn: SalesforceConnection, names: list[str]) -> dict[str, str]:
        """Assign the permission sets to the API user (the plan read that they are not); name → error."""
        pending = list(names)
        ids = {r["Name"]: r["Id"] for r in conn.data.query_in(IDS_QUERY, pending)}
        records = [{"AssigneeId": conn.user_id, "PermissionSetId": ids[n]} for n in pending if n in ids]

        def already_done(batch: Any) -> Any:
            done = self._assigned(conn, pending)
            from ..data_client import RecordResult
            return [RecordResult(None, True) for _ in batch] if all(n in done for n in pending) else None

        outcome = conn.data.create("PermissionSetAssignment", records, verify=already_done)
        errors = {n: "permission set not found after saving it" for n in pending if n not in ids}
        for name, result in zip([n for n in pending if n in ids], outcome):
            if not result.success and "DUPLICATE" not in result.message():
                errors[name] = result.message()
        return errors
