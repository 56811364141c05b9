"""Custom activity types (draft/approved) and activities (``/rest/v1/activities*``)."""

from __future__ import annotations

import copy
import functools
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import drafts, errors
from .context import CallContext
from .customobjects import API_NAME
from .errors import ApiError, reason
from .records import batch_size, check_value, decode_page_token, encode_page_token
from .state import next_id, now_iso, parse_iso

if TYPE_CHECKING:
    from .app import MarketoApp

ATTRIBUTE_TYPES = ("string", "boolean", "integer", "float", "link", "email", "currency", "date", "datetime",
                   "phone", "text")
MAX_ACTIVITY_TYPE_IDS = 10
MAX_LEAD_IDS = 30
STANDARD_TYPES_FILE = Path(__file__).resolve().parent.parent / "data" / "marketo-activity-types.json"


@functools.lru_cache(maxsize=1)
def standard_types() -> tuple[dict[str, Any], ...]:
    """Marketo's standard activity types (Visit Webpage = 1, Fill Out Form = 2, ...), as every instance has them."""
    return tuple(json.loads(STANDARD_TYPES_FILE.read_text(encoding="utf-8"))["types"])


def _status(entry: dict[str, Any]) -> str:
    """Activity types spell the mixed state "approved with draft"."""
    return {"approvedWithDraft": "approved with draft"}.get(drafts.state_of(entry), drafts.state_of(entry))


def _view(entry: dict[str, Any], version: str) -> dict[str, Any]:
    model = copy.deepcopy(entry[version])
    return {"id": entry["id"], "apiName": entry["apiName"], "name": model["name"],
            "description": model.get("description", ""), "triggerName": model["triggerName"],
            "filterName": model["filterName"], "primaryAttribute": model["primaryAttribute"],
            "attributes": model["attributes"], "createdAt": entry["createdAt"], "updatedAt": entry["updatedAt"],
            "status": _status(entry)}


def _latest(entry: dict[str, Any]) -> dict[str, Any]:
    return _view(entry, "draft" if entry["draft"] is not None else "approved")


def _entry(app: "MarketoApp", api_name: str) -> dict[str, Any]:
    return drafts.entry_named(app.state["activityTypes"], api_name, "Activity type")


def _attribute(spec: Any, primary: bool) -> dict[str, Any]:
    if not isinstance(spec, dict) or not spec.get("apiName") or not spec.get("name"):
        raise ApiError(errors.BLANK, "apiName and name of an attribute cannot be blank")
    if not API_NAME.match(str(spec["apiName"])):
        raise ApiError(errors.INVALID_DATA, f"Invalid attribute apiName '{spec['apiName']}'")
    data_type = spec.get("dataType") or "string"
    if data_type not in ATTRIBUTE_TYPES:
        raise ApiError(errors.INVALID_DATA, f"Invalid dataType '{data_type}' for attribute '{spec['apiName']}'")
    return {"apiName": spec["apiName"], "name": spec["name"], "dataType": data_type,
            "description": spec.get("description", ""), "isPrimary": primary}


def _check_unique_names(app: "MarketoApp", api_name: str, model: dict[str, Any]) -> None:
    for other_name, other in app.state["activityTypes"].items():
        if other_name == api_name:
            continue
        for version in ("approved", "draft"):
            o = other[version]
            if o is None:
                continue
            for key in ("name", "triggerName", "filterName"):
                if o[key] == model[key]:
                    raise ApiError(errors.OBJECT_EXISTS, f"Activity type {key} '{model[key]}' is already used by "
                                   f"'{other_name}'")


def list_types(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET …/external/types.json``: every custom activity type, approved version first."""
    entries = sorted(app.state["activityTypes"].values(), key=lambda e: e["id"])
    return {"result": [_view(e, "approved" if e["approved"] is not None else "draft") for e in entries]}


def list_activity_types(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/activities/types.json``: Marketo's standard types, then the approved custom ones."""
    result = copy.deepcopy(list(standard_types()))
    for entry in sorted(app.state["activityTypes"].values(), key=lambda e: e["id"]):
        model = entry["approved"]
        if model is None:
            continue
        result.append({"id": entry["id"], "apiName": entry["apiName"], "name": model["name"],
                       "description": model.get("description", ""),
                       "primaryAttribute": {k: model["primaryAttribute"][k] for k in ("apiName", "name", "dataType")},
                       "attributes": [{k: a[k] for k in ("apiName", "name", "dataType")} for a in model["attributes"]]})
    return {"result": result}


def describe_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET …/type/{apiName}/describe.json``: the approved version, or the draft with ``draft=true``."""
    entry = _entry(app, ctx.path_params["apiName"])
    draft = (ctx.query("draft") or "false").lower() == "true"
    if draft and entry["draft"] is None:
        raise ApiError(errors.OBJECT_NOT_FOUND, f"Activity type '{entry['apiName']}' has no draft")
    version = "draft" if draft or entry["approved"] is None else "approved"
    return {"result": [_view(entry, version)]}


def _type_fields(ctx: CallContext) -> dict[str, Any]:
    return {key: ctx.field(key) for key in ("apiName", "name", "triggerName", "filterName", "description",
                                             "primaryAttribute")}


def create_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST …/external/type.json``: a new type as a draft (unique apiName, name, trigger, filter; ≤ 10 types)."""
    spec = _type_fields(ctx)
    for key in ("apiName", "name", "triggerName", "filterName", "primaryAttribute"):
        if not spec[key]:
            raise ApiError(errors.BLANK, f"{key} cannot be blank")
    api_name = spec["apiName"]
    if not API_NAME.match(str(api_name)):
        raise ApiError(errors.INVALID_DATA, f"Invalid apiName '{api_name}'")
    if api_name in app.state["activityTypes"]:
        raise ApiError(errors.OBJECT_EXISTS, f"Activity type '{api_name}' already exists")
    if len(app.state["activityTypes"]) >= app.config.max_activity_types:
        raise ApiError(errors.TYPE_LIMIT, f"Max activity type limit reached ({app.config.max_activity_types})")
    model = {"name": spec["name"], "triggerName": spec["triggerName"], "filterName": spec["filterName"],
             "description": spec["description"] or "", "primaryAttribute": _attribute(spec["primaryAttribute"], True),
             "attributes": []}
    _check_unique_names(app, api_name, model)
    stamp = now_iso()
    entry = {"id": next_id(app.state, "activityType"), "apiName": api_name, "approved": None, "draft": model,
             "createdAt": stamp, "updatedAt": stamp}
    app.state["activityTypes"][api_name] = entry
    return {"result": [_latest(entry)]}


def update_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST …/type/{apiName}.json``: change names/description/primary attribute in the draft."""
    entry = _entry(app, ctx.path_params["apiName"])
    spec = _type_fields(ctx)
    if spec["apiName"] not in (None, entry["apiName"]):
        raise ApiError(errors.BUSINESS_RULE, "The apiName of an activity type cannot be changed")
    changed = copy.deepcopy(drafts.current(entry))
    for key in ("name", "triggerName", "filterName", "description"):
        if spec[key] is not None:
            changed[key] = spec[key]
    if spec["primaryAttribute"] is not None:
        primary = _attribute(spec["primaryAttribute"], True)
        if entry["approved"] is not None and primary["dataType"] != entry["approved"]["primaryAttribute"]["dataType"]:
            raise ApiError(errors.BUSINESS_RULE, "The primary attribute's dataType cannot change after approval")
        changed["primaryAttribute"] = primary
    _check_unique_names(app, entry["apiName"], changed)
    drafts.editable(entry).update(changed)
    return {"result": [_latest(entry)]}


def create_attributes(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/attributes/create.json``: add secondary attributes to the draft (≤ 20)."""
    entry = _entry(app, ctx.path_params["apiName"])
    specs = ctx.input_list("attributes", app.config.max_batch)
    current = drafts.current(entry)
    taken = {a["apiName"] for a in current["attributes"]} | {current["primaryAttribute"]["apiName"]}
    added = []
    for spec in specs:
        attribute = _attribute(spec, False)
        if attribute["apiName"] in taken:
            raise ApiError(errors.OBJECT_EXISTS, f"Attribute '{attribute['apiName']}' already exists")
        taken.add(attribute["apiName"])
        added.append(attribute)
    if len(current["attributes"]) + len(added) > app.config.max_activity_attributes:
        raise ApiError(errors.FIELD_LIMIT, f"Max field limit reached ({app.config.max_activity_attributes} "
                       "secondary attributes)")
    drafts.editable(entry)["attributes"].extend(added)
    return {"result": [_latest(entry)]}


def update_attributes(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/attributes/update.json``: change attributes by apiName (no dataType change after approval)."""
    entry = _entry(app, ctx.path_params["apiName"])
    specs = ctx.input_list("attributes", app.config.max_batch)
    approved = {a["apiName"]: a for a in (entry["approved"] or {"attributes": []})["attributes"]}
    current = {a["apiName"]: a for a in drafts.current(entry)["attributes"]}
    updates = {}
    for spec in specs:
        name = spec.get("apiName") if isinstance(spec, dict) else None
        if name not in current:
            raise ApiError(errors.FIELD_NOT_FOUND, f"Attribute '{name}' not found")
        merged = _attribute({**current[name], **spec}, False)
        if name in approved and merged["dataType"] != approved[name]["dataType"]:
            raise ApiError(errors.BUSINESS_RULE, f"Cannot change dataType of attribute '{name}' after approval")
        updates[name] = merged
    draft = drafts.editable(entry)
    draft["attributes"] = [updates.get(a["apiName"], a) for a in draft["attributes"]]
    return {"result": [_latest(entry)]}


def delete_attributes(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/attributes/delete.json``: remove attributes from the draft."""
    entry = _entry(app, ctx.path_params["apiName"])
    specs = ctx.input_list("attributes", app.config.max_batch)
    names = {s.get("apiName") for s in specs if isinstance(s, dict)}
    current = {a["apiName"] for a in drafts.current(entry)["attributes"]}
    missing = sorted(str(n) for n in names - current)
    if missing:
        raise ApiError(errors.FIELD_NOT_FOUND, f"Attribute '{missing[0]}' not found")
    draft = drafts.editable(entry)
    draft["attributes"] = [a for a in draft["attributes"] if a["apiName"] not in names]
    return {"result": [_latest(entry)]}


def approve_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/approve.json``: publish the draft (activities can then be written with the type's id)."""
    entry = _entry(app, ctx.path_params["apiName"])
    if entry["draft"] is None:
        raise ApiError(errors.BUSINESS_RULE, f"Activity type '{entry['apiName']}' has no draft to approve")
    drafts.publish(entry)
    return {"result": [_latest(entry)]}


def discard_draft(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/discardDraft.json``: drop the draft of an approved type."""
    entry = _entry(app, ctx.path_params["apiName"])
    drafts.discard(entry, f"Activity type '{entry['apiName']}'")
    return {"result": [_latest(entry)]}


def delete_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/delete.json``: remove the type."""
    entry = _entry(app, ctx.path_params["apiName"])
    view = _latest(entry)
    del app.state["activityTypes"][entry["apiName"]]
    view["status"] = "deleted"
    return {"result": [view]}


# -- activities --------------------------------------------------------------------------

def _activity_problem(app: "MarketoApp", record: Any) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    if not isinstance(record, dict):
        return None, reason(errors.INVALID_DATA, "Invalid activity")
    type_id = record.get("activityTypeId")
    entry = next((e for e in app.state["activityTypes"].values() if e["id"] == type_id), None)
    if entry is None or entry["approved"] is None:
        return None, reason(errors.OBJECT_NOT_FOUND, f"Activity type '{type_id}' not found or not approved")
    if str(record.get("leadId")) not in app.state["leads"]:
        return None, reason(errors.LEAD_NOT_FOUND, "Lead not found")
    if not record.get("activityDate") or parse_iso(str(record["activityDate"])) is None:
        return None, reason(errors.INVALID_VALUE, f"Invalid value '{record.get('activityDate')}' for field "
                            "'activityDate'. Required of type 'datetime'")
    model = entry["approved"]
    primary = model["primaryAttribute"]
    if record.get("primaryAttributeValue") in (None, ""):
        return None, reason(errors.MISSING_PARAMETER, "Value for required field 'primaryAttributeValue' not specified")
    problem = check_value(primary["apiName"], primary["dataType"], record["primaryAttributeValue"])
    if problem:
        return None, problem
    declared = {a["apiName"]: a for a in model["attributes"]}
    for attribute in record.get("attributes") or []:
        name = attribute.get("apiName") if isinstance(attribute, dict) else None
        if name not in declared:
            return None, reason(errors.FIELD_NOT_FOUND, f"Field '{name}' not found")
        problem = check_value(name, declared[name]["dataType"], attribute.get("value"))
        if problem:
            return None, problem
    return entry, None


def add_activities(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /rest/v1/activities/external.json``: append activities (write-once, ≤ 300, per-record ``errors``)."""
    records = ctx.input_list("input", app.config.max_batch)
    result = []
    for record in records:
        entry, problem = _activity_problem(app, record)
        if problem:
            result.append({"status": "skipped", "errors": [problem]})
            continue
        names = {a["apiName"]: a["name"] for a in entry["approved"]["attributes"]}
        aid = next_id(app.state, "activity")
        app.state["activities"].append({
            "id": aid, "marketoGUID": str(aid), "leadId": int(record["leadId"]),
            "activityDate": record["activityDate"], "activityTypeId": entry["id"],
            "primaryAttributeValue": str(record["primaryAttributeValue"]),
            "attributes": [{"apiName": a["apiName"], "name": names[a["apiName"]], "value": a.get("value")}
                           for a in record.get("attributes") or []],
            "createdAtEpoch": time.time()})
        result.append({"id": aid, "marketoGUID": str(aid), "status": "added"})
    return {"result": result}


def paging_token(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/activities/pagingtoken.json``: a token for activities written since a datetime."""
    since = ctx.query("sinceDatetime")
    moment = parse_iso(since) if since else None
    if moment is None:
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{since}' for 'sinceDatetime'. Required of type "
                       "'datetime'")
    epoch = moment.timestamp()
    index = next((i for i, a in enumerate(app.state["activities"]) if a["createdAtEpoch"] >= epoch),
                 len(app.state["activities"]))
    return {"nextPageToken": encode_page_token(index)}


def get_activities(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/activities.json``: activities after a paging token, by type ids (and lead ids)."""
    token = ctx.query("nextPageToken")
    if not token:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'nextPageToken'")
    start = decode_page_token(token)
    raw_types = ctx.query_list("activityTypeIds")
    raw_leads = ctx.query_list("leadIds")
    try:
        type_ids = {int(v) for v in raw_types}
        lead_ids = {int(v) for v in raw_leads}
    except ValueError:
        raise ApiError(errors.INVALID_DATA, "activityTypeIds and leadIds must be integers")
    if not type_ids:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'activityTypeIds'")
    if len(type_ids) > MAX_ACTIVITY_TYPE_IDS or len(lead_ids) > MAX_LEAD_IDS:
        raise ApiError(errors.INVALID_DATA, f"At most {MAX_ACTIVITY_TYPE_IDS} activityTypeIds and "
                       f"{MAX_LEAD_IDS} leadIds")
    batch = batch_size(ctx.query("batchSize"), app.config.max_batch)
    activities = app.state["activities"]
    found, index = [], start
    while index < len(activities) and len(found) < batch:
        activity = activities[index]
        index += 1
        if activity["activityTypeId"] in type_ids and (not lead_ids or activity["leadId"] in lead_ids):
            found.append({k: v for k, v in activity.items() if k != "createdAtEpoch"})
    reply: dict[str, Any] = {"nextPageToken": encode_page_token(index), "moreResult": index < len(activities)}
    if found:
        reply["result"] = found
    return reply
