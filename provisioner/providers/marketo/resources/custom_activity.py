"""``marketo.custom_activity``: a custom activity type (primary attribute at creation, secondary attributes
in one batch, then approve). Changes Marketo refuses after approval are planned as manual steps."""

from __future__ import annotations

from typing import Any

from ....manifest.model import ActivityAttribute, MarketoCustomActivity
from ....plan import Change, Desired, Live, Result, batches
from .. import permissions
from ..client import MarketoClient
from ..errors import MarketoError
from .common import WritesAreas, approves, MarketoLive, address, apply_each, classify_type, state_name, write_verified

KIND = "marketo.custom_activity"
BASE = "/rest/v1/activities/external"
TOP = ("name", "triggerName", "filterName", "description")
BATCH = 300


def _attribute(a: ActivityAttribute) -> dict[str, Any]:
    return {"apiName": a.api_name, "name": a.name or a.api_name, "dataType": a.data_type,
            "description": a.description or ""}


def desired_custom_activity(activity: MarketoCustomActivity) -> Desired:
    """The type in manifest terms; ``state: approved`` unless the manifest says ``approve: false``."""
    attrs: dict[str, Any] = {"name": activity.name, "triggerName": activity.trigger_name,
                             "filterName": activity.filter_name, "description": activity.description or "",
                             "primaryAttribute": _attribute(activity.primary_attribute),
                             "attributes": [_attribute(a) for a in activity.attributes]}
    if activity.approve:
        attrs["state"] = "approved"
    return Desired(address(KIND, activity.api_name), KIND, attrs, ensure=activity.ensure,
                   location=activity.location)


def _live_attribute(a: dict[str, Any]) -> dict[str, Any]:
    return {"apiName": a.get("apiName"), "name": a.get("name") or a.get("apiName"),
            "dataType": a.get("dataType") or "string", "description": a.get("description") or ""}


def normalise(record: dict[str, Any], state: str) -> dict[str, Any]:
    """A types/describe record in manifest terms (ids and timestamps dropped)."""
    return {"name": record.get("name"), "triggerName": record.get("triggerName"),
            "filterName": record.get("filterName"), "description": record.get("description") or "",
            "primaryAttribute": _live_attribute(record.get("primaryAttribute") or {}),
            "attributes": [_live_attribute(a) for a in record.get("attributes") or []],
            "state": state}


class CustomActivityKind(WritesAreas):
    """Read every type with one ``types.json`` call (plus one describe per type that has a pending draft)."""

    name = KIND
    areas = (permissions.ACTIVITY_METADATA,)
    depends_on: tuple[str, ...] = ()
    list_keys = {"attributes": "apiName"}

    def read(self, conn: MarketoClient, desired: list[Desired]) -> dict[str, Live]:
        wanted = {d.address for d in desired}
        found: dict[str, Live] = {}
        for record in conn.get(f"{BASE}/types.json"):
            key = address(KIND, str(record.get("apiName")))
            if key not in wanted:
                continue
            state = state_name(record.get("status"))
            approved = normalise(record, state) if state != "draft" else None
            latest = record
            if state == "approved with draft":
                drafts = conn.get(f"{BASE}/type/{record['apiName']}/describe.json", {"draft": "true"})
                latest = drafts[0] if drafts else record
            attrs = normalise(latest, state)
            found[key] = MarketoLive(key, attrs, {"state": state, "id": record.get("id")}, approved=approved)
        return found

    def classify(self, desired: Desired, live: Live) -> Change:
        """Default diff over the manifest's attributes only; forbidden-after-approval changes become manual."""
        return classify_type(KIND, desired, live, "attributes", "apiName", self.list_keys, forbidden_after_approval,
                             "activity type", _manual_steps)

    def calls_for(self, changes: list[Change]) -> int:
        """Per type: its create or update, new and changed attributes BATCH a call each, the approval."""
        calls = 0
        for change in changes:
            want, have = change.after or {}, change.before or {}
            if change.actions == ["delete"]:
                calls += 1
                continue
            new, changed = _attribute_writes(want, have)
            writes = int(not have or bool(_type_update(want, have))) + batches(len(new), BATCH) + \
                batches(len(changed), BATCH)
            calls += writes + int(approves(want, have, bool(writes)))
        return calls

    def apply(self, conn: MarketoClient, changes: list[Change]) -> list[Result]:
        conn.ensure_preflight(self.areas)
        return apply_each(changes, lambda change: self._apply_one(conn, change))

    def _apply_one(self, conn: MarketoClient, change: Change) -> Result:
        name = change.address[len(KIND) + 1:]
        want, have = change.after or {}, change.before or {}
        if change.actions == ["delete"]:
            conn.post_json(f"{BASE}/type/{name}/delete.json", None)
            return Result(change.address, True, change.action)
        done = []
        if not have:
            body = {"apiName": name, **{k: want[k] for k in TOP}, "primaryAttribute": _api(want["primaryAttribute"])}
            # A second create is refused (the apiName exists): after a lost reply, describe before retrying.
            write_verified(lambda: conn.post_json(f"{BASE}/type.json", body),
                           lambda: bool(self._describe(conn, name)))
            done.append("type created")
        elif _type_update(want, have):
            # Setting the same values again changes nothing: idempotent.
            conn.post_json(f"{BASE}/type/{name}.json", _type_update(want, have), idempotent=True)
            done.append("type updated")
        new, changed = _attribute_writes(want, have)
        for start in range(0, len(new), BATCH):
            pending = new[start:start + BATCH]
            # attributes/create refuses an existing apiName: after a lost reply, re-read, create what is missing.
            write_verified(lambda: conn.post_json(f"{BASE}/type/{name}/attributes/create.json",
                                                  {"attributes": pending}),
                           lambda: self._still_missing(conn, name, pending) == [])
        if new:
            done.append(f"{len(new)} attribute{'s' if len(new) != 1 else ''} added")
        for start in range(0, len(changed), BATCH):
            conn.post_json(f"{BASE}/type/{name}/attributes/update.json", {"attributes": changed[start:start + BATCH]},
                           idempotent=True)
        if changed:
            done.append(f"{len(changed)} attribute{'s' if len(changed) != 1 else ''} updated")
        if approves(want, have, bool(done)):
            # approve with no draft is refused: after a lost reply, check the state first.
            write_verified(lambda: conn.post_json(f"{BASE}/type/{name}/approve.json", None),
                           lambda: state_name((self._describe(conn, name) or {}).get("status")) == "approved")
            done.append("approved")
        return Result(change.address, True, change.action, ", ".join(done))

    @staticmethod
    def _describe(conn: MarketoClient, name: str, draft: bool = False) -> dict[str, Any] | None:
        try:
            found = conn.get(f"{BASE}/type/{name}/describe.json", {"draft": "true"} if draft else None)
        except MarketoError as exc:
            if exc.code == "1013":  # not found
                return None
            raise
        return found[0] if found else None

    def _still_missing(self, conn: MarketoClient, name: str, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop from ``pending`` (in place) the attributes the type's latest version already has."""
        found = self._describe(conn, name, draft=True) or self._describe(conn, name) or {}
        present = {a.get("apiName") for a in found.get("attributes") or []}
        pending[:] = [a for a in pending if a["apiName"] not in present]
        return pending


def _type_update(want: dict[str, Any], have: dict[str, Any]) -> dict[str, Any]:
    """What an existing type's update sends: its own attributes that differ, and the primary attribute."""
    top = {k: want[k] for k in TOP if want.get(k) != have.get(k)}
    if want["primaryAttribute"] != have.get("primaryAttribute"):
        top["primaryAttribute"] = _api(want["primaryAttribute"])
    return top


def _attribute_writes(want: dict[str, Any], have: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The attributes to create and to update, as the API takes them."""
    current = {a["apiName"]: a for a in have.get("attributes", [])}
    new = [_api(a) for a in want.get("attributes", []) if a["apiName"] not in current]
    changed = [_api(a) for a in want.get("attributes", []) if a["apiName"] in current and current[a["apiName"]] != a]
    return new, changed


def _api(attribute: dict[str, Any]) -> dict[str, Any]:
    return {"apiName": attribute["apiName"], "name": attribute["name"], "dataType": attribute["dataType"],
            "description": attribute.get("description", "")}


def forbidden_after_approval(want: dict[str, Any], approved: dict[str, Any]) -> list[str]:
    """Why the manifest's changes cannot be made to the approved activity type (empty when they can)."""
    why = []
    old_primary, new_primary = approved.get("primaryAttribute") or {}, want.get("primaryAttribute") or {}
    if old_primary.get("apiName") != new_primary.get("apiName"):
        why.append(f"the primary attribute cannot change "
                   f"({old_primary.get('apiName')} → {new_primary.get('apiName')})")
    elif old_primary.get("dataType") != new_primary.get("dataType"):
        why.append(f"the primary attribute's type cannot change "
                   f"({old_primary.get('dataType')} → {new_primary.get('dataType')})")
    old = {a["apiName"]: a for a in approved.get("attributes", [])}
    for a in want.get("attributes", []):
        before = old.get(a["apiName"])
        if before is not None and before["dataType"] != a["dataType"]:
            why.append(f"attribute {a['apiName']} cannot change type ({before['dataType']} → {a['dataType']})")
    return why


def _manual_steps(name: str) -> list[str]:
    """The clicks that replace an approved activity type the API cannot change."""
    return [
        f"In Marketo, open Admin > Marketo Custom Activities and select {name}.",
        "If it has a draft, click Discard Draft.",
        "Remove it from the smart lists and campaigns that use it, then click Delete Activity "
        "(activities already logged with it are lost; export them first if you need them).",
        "Run apply again: the type is created from the manifest, with its attributes, and approved.",
    ]
