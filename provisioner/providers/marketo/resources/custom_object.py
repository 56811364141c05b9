"""``marketo.custom_object``: a custom object type, edited as a draft (type, then fields) and approved.

After approval Marketo refuses some changes (dedupe fields, link fields, a field's type); those are
planned as manual steps with the reason and the way out (delete and recreate), never attempted.
"""

from __future__ import annotations

from typing import Any

from ....manifest.model import MarketoCustomObject
from ....plan import Change, Desired, Live, Result, batches
from .. import permissions
from ..client import MarketoClient
from .common import WritesAreas, approves, MarketoLive, address, apply_each, classify_type, state_name, write_verified

KIND = "marketo.custom_object"
SCHEMA = "/rest/v1/customobjects/schema"
SYSTEM_FIELDS = frozenset({"createdAt", "updatedAt", "marketoGUID"})
#: Manifest object names → the names Marketo's linkable objects go by.
LINK_OBJECTS = {"lead": "Lead", "company": "Company"}
BATCH = 300  # records per call


def desired_custom_object(obj: MarketoCustomObject) -> Desired:
    """The type in manifest terms; ``state: approved`` is wanted unless the manifest says ``approve: false``."""
    attrs: dict[str, Any] = {"displayName": obj.display_name}
    if obj.plural_name is not None:
        attrs["pluralName"] = obj.plural_name
    if obj.description is not None:
        attrs["description"] = obj.description
    attrs["showInLeadDetail"] = obj.show_in_lead_detail
    attrs["dedupeFields"] = sorted(obj.dedupe_fields)
    fields = []
    for f in obj.fields:
        field: dict[str, Any] = {"name": f.name, "displayName": f.display_name or f.name, "dataType": f.data_type,
                                 "description": f.description or ""}
        if f.data_type == "link":
            field["relatedTo"] = {"object": (f.related_object or "lead").lower(), "field": f.related_field or "id"}
        fields.append(field)
    attrs["fields"] = fields
    if obj.approve:
        attrs["state"] = "approved"
    return Desired(address(KIND, obj.api_name), KIND, attrs, ensure=obj.ensure, location=obj.location)


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    """A describe/list record in manifest terms; link fields are found in ``relationships``."""
    links = {r.get("field"): r.get("relatedTo") or {} for r in record.get("relationships") or []}
    fields = []
    for f in record.get("fields") or []:
        if f.get("name") in SYSTEM_FIELDS:
            continue
        field = {"name": f.get("name"), "displayName": f.get("displayName") or f.get("name"),
                 "dataType": f.get("dataType"), "description": f.get("description") or ""}
        if f.get("name") in links:
            related = links[f["name"]]
            field["dataType"] = "link"
            field["relatedTo"] = {"object": str(related.get("name", "")).lower(), "field": related.get("field")}
        fields.append(field)
    return {"displayName": record.get("displayName"), "pluralName": record.get("pluralName") or "",
            "description": record.get("description") or "", "showInLeadDetail": bool(record.get("showInLeadDetail")),
            "dedupeFields": sorted(record.get("dedupeFields") or []), "fields": fields,
            "state": state_name(record.get("state"))}


class CustomObjectKind(WritesAreas):
    """Read all wanted types in one ``schema.json?names=…`` call (plus one for drafts of approved types)."""

    name = KIND
    areas = (permissions.ASSETS,)
    depends_on: tuple[str, ...] = ()
    list_keys = {"fields": "name"}

    def read(self, conn: MarketoClient, desired: list[Desired]) -> dict[str, Live]:
        names = [d.address[len(KIND) + 1:] for d in desired]
        latest = {r["apiName"]: r for r in conn.get(f"{SCHEMA}.json", {"names": ",".join(names)})}
        with_draft = [n for n, r in latest.items() if state_name(r.get("state")) == "approved with draft"]
        approved = {n: normalise(r) for n, r in latest.items() if state_name(r.get("state")) != "draft"}
        if with_draft:
            for r in conn.get(f"{SCHEMA}.json", {"names": ",".join(with_draft), "state": "draft"}):
                state = latest[r["apiName"]].get("state")
                latest[r["apiName"]] = {**r, "state": state}
        found: dict[str, Live] = {}
        for name, record in latest.items():
            attrs = normalise(record)
            key = address(KIND, name)
            found[key] = MarketoLive(key, attrs, {"state": attrs["state"]}, approved=approved.get(name))
        return found

    def classify(self, desired: Desired, live: Live) -> Change:
        """Default diff over the manifest's fields only; forbidden-after-approval changes become manual."""
        return classify_type(KIND, desired, live, "fields", "name", self.list_keys, forbidden_after_approval,
                             "type", _manual_steps)

    def calls_for(self, changes: list[Change]) -> int:
        """Per type: the type save, new fields BATCH a call, one call per changed field, the approval."""
        calls = 0
        for change in changes:
            want, have = change.after or {}, change.before or {}
            if change.actions == ["delete"]:
                calls += 1
                continue
            writes = int(_saves_type(want, have)) + batches(len(_new_fields(want, have)), BATCH) + \
                len(_updated_fields(want, have))
            calls += writes + int(approves(want, have, bool(writes)))
        return calls

    def apply(self, conn: MarketoClient, changes: list[Change]) -> list[Result]:
        conn.ensure_preflight(self.areas)
        return apply_each(changes, lambda change: self._apply_one(conn, change))

    def _apply_one(self, conn: MarketoClient, change: Change) -> Result:
        name = change.address[len(KIND) + 1:]
        want, have = change.after or {}, change.before or {}
        if change.actions == ["delete"]:
            conn.post_json(f"{SCHEMA}/{name}/delete.json", None)
            return Result(change.address, True, change.action)
        done = []
        if _saves_type(want, have):
            body = {"action": "createOrUpdate", "apiName": name, **{k: want[k] for k in TOP if k in want}}
            # createOrUpdate with the same body leaves the same type: safe to repeat after a lost reply.
            conn.post_json(f"{SCHEMA}.json", body, idempotent=True)
            done.append("type saved")
        dedupe = set(want.get("dedupeFields", []))
        new = [_api_field(f, f["name"] in dedupe) for f in _new_fields(want, have)]
        for start in range(0, len(new), BATCH):
            pending = new[start:start + BATCH]
            # addField refuses a field that exists: after a lost reply, re-read and add only what is missing.
            write_verified(lambda: conn.post_json(f"{SCHEMA}/{name}/addField.json", {"input": pending}),
                           lambda: self._still_missing(conn, name, pending) == [])
        if new:
            done.append(f"{len(new)} field{'s' if len(new) != 1 else ''} added")
        for f in _updated_fields(want, have):
            body = {k: v for k, v in _api_field(f, f["name"] in dedupe).items() if k != "name"}
            # updateField sets the same values again on a repeat: idempotent.
            conn.post_json(f"{SCHEMA}/{name}/{f['name']}/updateField.json", body, idempotent=True)
            done.append(f"field {f['name']} updated")
        if approves(want, have, bool(done)):
            # approve of a type with no draft is refused: after a lost reply, check the state first.
            write_verified(lambda: conn.post_json(f"{SCHEMA}/{name}/approve.json", None),
                           lambda: self._state(conn, name) == "approved")
            done.append("approved")
        return Result(change.address, True, change.action, ", ".join(done))

    @staticmethod
    def _state(conn: MarketoClient, name: str) -> str:
        found = conn.get(f"{SCHEMA}.json", {"names": name})
        return state_name(found[0].get("state")) if found else "absent"

    @staticmethod
    def _still_missing(conn: MarketoClient, name: str, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop from ``pending`` (in place) the fields the type's latest version already has."""
        found = conn.get(f"{SCHEMA}.json", {"names": name, "state": "draft"}) or conn.get(f"{SCHEMA}.json",
                                                                                          {"names": name})
        present = {f.get("name") for f in (found[0].get("fields") or [] if found else [])}
        pending[:] = [f for f in pending if f["name"] not in present]
        return pending


#: The type's own attributes (saved with one createOrUpdate call).
TOP = ("displayName", "pluralName", "description", "showInLeadDetail")


def _saves_type(want: dict[str, Any], have: dict[str, Any]) -> bool:
    """True when the type is new or one of its own attributes changes."""
    return not have or any(k in want and want[k] != have.get(k) for k in TOP)


def _new_fields(want: dict[str, Any], have: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's fields the type does not have yet."""
    current = {f["name"] for f in have.get("fields", [])}
    return [f for f in want.get("fields", []) if f["name"] not in current]


def _updated_fields(want: dict[str, Any], have: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's fields the type has, with other values or another dedupe flag."""
    current = {f["name"]: f for f in have.get("fields", [])}
    dedupe, was_dedupe = set(want.get("dedupeFields", [])), set(have.get("dedupeFields", []))
    return [f for f in want.get("fields", []) if f["name"] in current
            and (current[f["name"]] != f or (f["name"] in dedupe) != (f["name"] in was_dedupe))]


def _api_field(field: dict[str, Any], dedupe: bool) -> dict[str, Any]:
    """A manifest field as the schema API takes it (``relatedTo`` with Marketo's object name)."""
    out = {"name": field["name"], "displayName": field["displayName"], "dataType": field["dataType"],
           "description": field.get("description", ""), "isDedupeField": dedupe}
    if field["dataType"] == "link":
        related = field["relatedTo"]
        out["relatedTo"] = {"name": LINK_OBJECTS.get(related["object"], related["object"]), "field": related["field"]}
    return out


def forbidden_after_approval(want: dict[str, Any], approved: dict[str, Any]) -> list[str]:
    """Why the manifest's changes cannot be made to the approved type (empty when they can)."""
    why = []
    if set(want.get("dedupeFields", [])) != set(approved.get("dedupeFields", [])):
        why.append(f"dedupe fields {sorted(approved.get('dedupeFields', []))} cannot change "
                   f"(manifest: {sorted(want.get('dedupeFields', []))})")
    old = {f["name"]: f for f in approved.get("fields", [])}
    for f in want.get("fields", []):
        before = old.get(f["name"])
        if before is None:
            if f["dataType"] == "link":
                why.append(f"link field {f['name']} cannot be added")
            continue
        if before["dataType"] != f["dataType"]:
            why.append(f"field {f['name']} cannot change type ({before['dataType']} → {f['dataType']})")
        elif f["dataType"] == "link" and before.get("relatedTo") != f.get("relatedTo"):
            why.append(f"link field {f['name']} cannot point elsewhere")
    return why


def _manual_steps(name: str) -> list[str]:
    """The clicks that replace an approved custom object type the API cannot change."""
    return [
        f"In Marketo, open Admin > Marketo Custom Objects and select {name}.",
        "If it has a draft, click Discard Draft.",
        "Export the records you need to keep, then delete its records and remove it from the smart lists "
        "and campaigns that use it (Marketo lists them as dependent assets).",
        "Click Delete Object.",
        "Run apply again: the type is created from the manifest, with its fields, and approved.",
    ]
