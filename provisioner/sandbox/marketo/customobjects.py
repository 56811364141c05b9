"""Custom object types (draft/approved schema) and their records (``/rest/v1/customobjects/``)."""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any

from . import drafts, errors
from .context import CallContext
from .errors import ApiError, reason
from .leads import LEAD_FIELDS, lead_matching
from .records import batch_size, check_value, paged
from .state import now_iso

if TYPE_CHECKING:
    from .app import MarketoApp

API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
FIELD_TYPES = ("string", "boolean", "integer", "float", "currency", "date", "datetime", "email", "phone",
               "text", "url", "link")
DEDUPE_TYPES = ("string", "integer", "email", "link")
MAX_DEDUPE = 3
#: Objects a link field may point at, with their linkable fields and those fields' types.
LINKABLE = {"Lead": {name: spec["dataType"] for name, spec in LEAD_FIELDS.items() if spec.get("linkable")}}


def linked_object(name: Any) -> str | None:
    """The linkable object a ``relatedTo.name`` names, as describe spells it (``"Lead"``), or None.

    Adobe's examples and marketorestpython write ``"lead"``; describe answers ``"Lead"``: object
    names are matched without regard to case.
    """
    wanted = str(name or "").lower()
    return next((o for o in LINKABLE if o.lower() == wanted), None)


SYSTEM_FIELDS = [
    {"name": "createdAt", "displayName": "Created At", "dataType": "datetime", "updateable": False,
     "crmManaged": False},
    {"name": "marketoGUID", "displayName": "Marketo GUID", "dataType": "string", "length": 36,
     "updateable": False, "crmManaged": False},
    {"name": "updatedAt", "displayName": "Updated At", "dataType": "datetime", "updateable": False,
     "crmManaged": False},
]


# -- schema ------------------------------------------------------------------------

def _entry(app: "MarketoApp", api_name: str) -> dict[str, Any]:
    return drafts.entry_named(app.state["customObjectTypes"], api_name, "Custom object type")


def _describe(api_name: str, entry: dict[str, Any], version: str) -> dict[str, Any]:
    model = entry[version]
    fields = copy.deepcopy(SYSTEM_FIELDS)
    relationships = []
    for f in model["fields"]:
        shown = {"name": f["name"], "displayName": f["displayName"], "description": f.get("description", ""),
                 "dataType": f["dataType"], "updateable": True, "crmManaged": False}
        if f["dataType"] in ("string", "email", "phone", "url"):
            shown["length"] = 255
        if f["dataType"] == "link":
            related = f["relatedTo"]
            shown["dataType"] = LINKABLE[related["name"]][related["field"]]
            relationships.append({"field": f["name"], "type": "child",
                                  "relatedTo": {"name": related["name"], "field": related["field"]}})
        fields.append(shown)
    dedupe = [f["name"] for f in model["fields"] if f.get("isDedupeField")]
    searchable = [dedupe] if dedupe else []
    searchable += [["marketoGUID"]] + [[r["field"]] for r in relationships]
    return {
        "name": api_name, "apiName": api_name, "displayName": model["displayName"],
        "pluralName": model.get("pluralName") or model["displayName"] + "s",
        "description": model.get("description", ""), "showInLeadDetail": model.get("showInLeadDetail", False),
        "createdAt": entry["createdAt"], "updatedAt": entry["updatedAt"], "idField": "marketoGUID",
        "dedupeFields": dedupe, "searchableFields": searchable, "fields": fields,
        "relationships": relationships, "state": drafts.state_of(entry), "version": version,
    }


def _pick_version(entry: dict[str, Any], wanted: str | None) -> str | None:
    if wanted in (None, ""):
        return "approved" if entry["approved"] is not None else "draft"
    if wanted not in ("draft", "approved", "approvedWithDraft"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{wanted}' for 'state'")
    if wanted == "draft":
        return "draft" if entry["draft"] is not None else None
    if wanted == "approved":
        return "approved" if entry["approved"] is not None else None
    return "draft" if drafts.state_of(entry) == "approvedWithDraft" else None


def list_types(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET schema.json``: types by ``names``, in the version ``state`` asks for."""
    names = ctx.query_list("names")
    wanted = ctx.query("state")
    result = []
    for api_name in sorted(app.state["customObjectTypes"]):
        if names and api_name not in names:
            continue
        entry = app.state["customObjectTypes"][api_name]
        version = _pick_version(entry, wanted)
        if version:
            result.append(_describe(api_name, entry, version))
    return {"result": result}


def describe_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET schema/{apiName}/describe.json``: one version with fields, dedupe fields and relationships."""
    api_name = ctx.path_params["apiName"]
    entry = _entry(app, api_name)
    version = _pick_version(entry, ctx.query("state"))
    if version is None:
        raise ApiError(errors.OBJECT_NOT_FOUND, f"Custom object type '{api_name}' has no such version")
    return {"result": [_describe(api_name, entry, version)]}


def list_objects(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """The approved custom objects (what the records API can use)."""
    names = ctx.query_list("names")
    return {"result": [_describe(name, entry, "approved")
                       for name, entry in sorted(app.state["customObjectTypes"].items())
                       if entry["approved"] is not None and (not names or name in names)]}


def describe_object(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """The approved model of one custom object (1013 when it is not approved)."""
    name = ctx.path_params["customObjectName"]
    approved_model(app, name)
    return {"result": [_describe(name, app.state["customObjectTypes"][name], "approved")]}


def sync_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST schema.json``: create (draft) or update a type's names and description (≤ 10 types)."""
    action = ctx.field("action") or "createOrUpdate"
    if action not in ("createOnly", "updateOnly", "createOrUpdate"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{action}' for 'action'")
    api_name = ctx.field("apiName")
    display_name = ctx.field("displayName")
    if not api_name:
        raise ApiError(errors.BLANK, "apiName cannot be blank")
    if not API_NAME.match(str(api_name)):
        raise ApiError(errors.INVALID_DATA, f"Invalid apiName '{api_name}': letters, digits and underscores, "
                       "starting with a letter, at most 50 characters")
    attrs = {key: ctx.field(key) for key in ("pluralName", "description", "showInLeadDetail")}
    types = app.state["customObjectTypes"]
    entry = types.get(api_name)
    if entry is None:
        if action == "updateOnly":
            raise ApiError(errors.OBJECT_NOT_FOUND, f"Custom object type '{api_name}' not found")
        if not display_name:
            raise ApiError(errors.BLANK, "displayName cannot be blank")
        if len(types) >= app.config.max_custom_object_types:
            raise ApiError(errors.TYPE_LIMIT, f"Max custom object type limit reached "
                           f"({app.config.max_custom_object_types})")
        stamp = now_iso()
        types[api_name] = {"approved": None, "createdAt": stamp, "updatedAt": stamp, "draft": {
            "displayName": display_name, "pluralName": attrs["pluralName"] or "",
            "description": attrs["description"] or "", "showInLeadDetail": bool(attrs["showInLeadDetail"]),
            "fields": []}}
        return {"result": [{"seq": 0, "apiName": api_name, "status": "created"}]}
    if action == "createOnly":
        raise ApiError(errors.OBJECT_EXISTS, f"Custom object type '{api_name}' already exists")
    draft = drafts.editable(entry)
    if display_name:
        draft["displayName"] = display_name
    for key, value in attrs.items():
        if value is not None:
            draft[key] = value
    return {"result": [{"seq": 0, "apiName": api_name, "status": "updated"}]}


def _check_field_spec(spec: Any, existing: list[dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(spec, dict) or not spec.get("name"):
        raise ApiError(errors.BLANK, "name cannot be blank")
    name = spec["name"]
    if not API_NAME.match(str(name)):
        raise ApiError(errors.INVALID_DATA, f"Invalid field name '{name}'")
    if name in {f["name"] for f in existing} | {f["name"] for f in SYSTEM_FIELDS}:
        raise ApiError(errors.OBJECT_EXISTS, f"Field '{name}' already exists")
    data_type = spec.get("dataType")
    if data_type not in FIELD_TYPES:
        raise ApiError(errors.INVALID_DATA, f"Invalid dataType '{data_type}' for field '{name}'")
    if not spec.get("displayName"):
        raise ApiError(errors.BLANK, f"displayName of field '{name}' cannot be blank")
    field = {"name": name, "displayName": spec["displayName"], "dataType": data_type,
             "description": spec.get("description", ""), "isDedupeField": bool(spec.get("isDedupeField"))}
    if data_type == "link":
        related = spec.get("relatedTo")
        target = linked_object(related.get("name")) if isinstance(related, dict) else None
        if target is None or related.get("field") not in LINKABLE[target]:
            raise ApiError(errors.INVALID_DATA, f"Link field '{name}' needs relatedTo {{name, field}} naming a "
                           f"linkable object field: {sorted((o, f) for o in LINKABLE for f in LINKABLE[o])}")
        field["relatedTo"] = {"name": target, "field": related["field"]}
    elif spec.get("relatedTo"):
        raise ApiError(errors.INVALID_DATA, f"relatedTo applies only to link fields ('{name}')")
    if field["isDedupeField"] and data_type not in DEDUPE_TYPES:
        raise ApiError(errors.INVALID_DATA, f"Field '{name}' of type {data_type} cannot be a dedupe field")
    return field


def _check_dedupe_count(fields: list[dict[str, Any]]) -> None:
    if sum(1 for f in fields if f.get("isDedupeField")) > MAX_DEDUPE:
        raise ApiError(errors.INVALID_DATA, f"At most {MAX_DEDUPE} dedupe fields are allowed")


def add_fields(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``schema/{apiName}/addField.json``: add fields to the draft (no dedupe or link field after approval)."""
    api_name = ctx.path_params["apiName"]
    entry = _entry(app, api_name)
    specs = ctx.input_list("input", app.config.max_batch)
    approved = entry["approved"]
    fields = list((entry["draft"] or approved)["fields"])
    added = []
    for spec in specs:
        field = _check_field_spec(spec, fields + added)
        if approved is not None and field["isDedupeField"]:
            raise ApiError(errors.BUSINESS_RULE, f"Cannot add dedupe field '{field['name']}': "
                           "custom object type is already approved")
        if approved is not None and field["dataType"] == "link":
            raise ApiError(errors.BUSINESS_RULE, f"Cannot add link field '{field['name']}': "
                           "custom object type is already approved")
        added.append(field)
    if len(fields) + len(added) > app.config.max_custom_object_fields:
        raise ApiError(errors.FIELD_LIMIT, f"Max field limit reached ({app.config.max_custom_object_fields})")
    _check_dedupe_count(fields + added)
    drafts.editable(entry)["fields"].extend(added)
    return {"result": [{"seq": i, "name": f["name"], "status": "created"} for i, f in enumerate(added)]}


def update_field(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``schema/{apiName}/{fieldApiName}/updateField.json``: change a field in the draft.

    After approval a field keeps its name, dedupe flag, link and data type.
    """
    api_name, field_name = ctx.path_params["apiName"], ctx.path_params["fieldApiName"]
    entry = _entry(app, api_name)
    current = next((f for f in drafts.current(entry)["fields"] if f["name"] == field_name), None)
    if current is None:
        raise ApiError(errors.FIELD_NOT_FOUND, f"Field '{field_name}' not found")
    spec = {key: ctx.field(key) for key in ("name", "displayName", "dataType", "description", "isDedupeField",
                                             "relatedTo")}
    merged = {**current, **{k: v for k, v in spec.items() if v is not None}}
    merged["isDedupeField"] = bool(merged.get("isDedupeField"))
    others = [f for f in drafts.current(entry)["fields"] if f["name"] != field_name]
    field = _check_field_spec(merged, others)
    approved_field = next((f for f in (entry["approved"] or {"fields": []})["fields"] if f["name"] == field_name),
                          None)
    if approved_field is not None:
        if field["name"] != field_name:
            raise ApiError(errors.BUSINESS_RULE, f"Cannot rename field '{field_name}' of an approved type")
        if field["isDedupeField"] != approved_field.get("isDedupeField", False):
            raise ApiError(errors.BUSINESS_RULE, f"Cannot change dedupe setting of field '{field_name}' "
                           "after approval")
        if (field["dataType"] == "link") != (approved_field["dataType"] == "link") \
                or field.get("relatedTo") != approved_field.get("relatedTo"):
            raise ApiError(errors.BUSINESS_RULE, f"Cannot change the link of field '{field_name}' after approval")
        if field["dataType"] != approved_field["dataType"]:
            raise ApiError(errors.BUSINESS_RULE, f"Cannot change dataType of field '{field_name}' after approval")
    _check_dedupe_count(others + [field])
    draft = drafts.editable(entry)
    draft["fields"] = [field if f["name"] == field_name else f for f in draft["fields"]]
    return {"result": [{"seq": 0, "name": field["name"], "status": "updated"}]}


def delete_fields(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``schema/{apiName}/deleteField.json``: remove fields from the draft (not approved dedupe or link fields)."""
    api_name = ctx.path_params["apiName"]
    entry = _entry(app, api_name)
    names = []
    for spec in ctx.input_list("input", app.config.max_batch):
        name = spec.get("name") if isinstance(spec, dict) else None
        current = {f["name"]: f for f in drafts.current(entry)["fields"]}
        if name not in current:
            raise ApiError(errors.FIELD_NOT_FOUND, f"Field '{name}' not found")
        approved = {f["name"]: f for f in (entry["approved"] or {"fields": []})["fields"]}
        if name in approved and (approved[name].get("isDedupeField") or approved[name]["dataType"] == "link"):
            raise ApiError(errors.BUSINESS_RULE, f"Cannot delete dedupe or link field '{name}' of an approved type")
        names.append(name)
    draft = drafts.editable(entry)
    draft["fields"] = [f for f in draft["fields"] if f["name"] not in names]
    return {"result": [{"seq": i, "name": n, "status": "deleted"} for i, n in enumerate(names)]}


def approve_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``schema/{apiName}/approve.json``: publish the draft (it needs a dedupe field)."""
    api_name = ctx.path_params["apiName"]
    entry = _entry(app, api_name)
    if entry["draft"] is None:
        raise ApiError(errors.BUSINESS_RULE, f"Custom object type '{api_name}' has no draft to approve")
    if not any(f.get("isDedupeField") for f in entry["draft"]["fields"]):
        raise ApiError(errors.BUSINESS_RULE, f"Custom object type '{api_name}' needs at least one dedupe field "
                       "before approval")
    drafts.publish(entry)
    return {"result": [{"seq": 0, "apiName": api_name, "status": "approved"}]}


def discard_draft(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``schema/{apiName}/discardDraft.json``: drop the draft of an approved type."""
    api_name = ctx.path_params["apiName"]
    entry = _entry(app, api_name)
    drafts.discard(entry, f"Custom object type '{api_name}'")
    return {"result": [{"seq": 0, "apiName": api_name, "status": "discarded"}]}


def delete_type(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``schema/{apiName}/delete.json``: remove the type and its records."""
    api_name = ctx.path_params["apiName"]
    _entry(app, api_name)
    del app.state["customObjectTypes"][api_name]
    app.state["customObjects"].pop(api_name, None)
    return {"result": [{"seq": 0, "apiName": api_name, "status": "deleted"}]}


# -- records ----------------------------------------------------------------------

def approved_model(app: "MarketoApp", api_name: str) -> dict[str, Any]:
    """The approved model of a type (1013 when it is missing or only a draft: records need approval)."""
    entry = app.state["customObjectTypes"].get(api_name)
    if entry is None or entry["approved"] is None:
        raise ApiError(errors.OBJECT_NOT_FOUND, f"Custom object type '{api_name}' not found or not approved")
    return entry["approved"]


def _record_problem(app: "MarketoApp", model: dict[str, Any], record: dict[str, Any]) -> dict[str, str] | None:
    fields = {f["name"]: f for f in model["fields"]}
    for key, value in record.items():
        if key == "marketoGUID":
            continue
        if key not in fields:
            return reason(errors.FIELD_NOT_FOUND, f"Field '{key}' not found")
        field = fields[key]
        if field["dataType"] == "link":
            related = field["relatedTo"]
            if lead_matching(app, related["field"], value) is None:
                return reason(errors.OBJECT_NOT_FOUND, f"{related['name']} with {related['field']} "
                              f"'{value}' not found for link field '{key}'")
            continue
        problem = check_value(key, field["dataType"], value)
        if problem:
            return problem
    return None


def sync_records(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST {name}.json``: upsert records (≤ 300) with per-record status and ``marketoGUID``."""
    api_name = ctx.path_params["customObjectName"]
    model = approved_model(app, api_name)
    action = ctx.field("action") or "createOrUpdate"
    if action not in ("createOnly", "updateOnly", "createOrUpdate"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{action}' for 'action'")
    dedupe_by = ctx.field("dedupeBy") or "dedupeFields"
    if dedupe_by not in ("dedupeFields", "idField"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{dedupe_by}' for 'dedupeBy'")
    records = ctx.input_list("input", app.config.max_batch)
    if action == "createOnly" and dedupe_by == "idField":
        raise ApiError(errors.INVALID_DATA, "createOnly needs dedupeBy dedupeFields")
    if not (app.race and dedupe_by == "dedupeFields"):
        return {"result": upsert_records(app, api_name, records, action, dedupe_by)}
    dedupe = [f["name"] for f in model["fields"] if f.get("isDedupeField")]
    keys = {("customObject", api_name, tuple(str(r.get(d)) for d in dedupe)) for r in records if isinstance(r, dict)}
    with app.contention.writing(keys, refuse_if_busy=True):  # race mode: see .race
        return {"result": upsert_records(app, api_name, records, action, dedupe_by)}


def _dedupe_index(app: "MarketoApp", api_name: str, store: dict[str, Any], dedupe: list[str]
                  ) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Records by dedupe key (beside the state, never in the snapshot; rebuilt when the store is replaced or
    its size changed elsewhere): an import of many records would otherwise scan the store for each one."""
    indexes = getattr(app, "_dedupe_indexes", None)
    if indexes is None:
        indexes = app._dedupe_indexes = {}  # type: ignore[attr-defined]
    cached = indexes.get(api_name)
    if cached is None or cached[0] is not store or cached[1] != len(store) or cached[2] != dedupe:
        index: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in store.values():
            index.setdefault(tuple(str(r.get(d)) for d in dedupe), []).append(r)
        cached = indexes[api_name] = [store, len(store), list(dedupe), index]
    return cached[3]


def upsert_records(app: "MarketoApp", api_name: str, records: list[Any], action: str,
                   dedupe_by: str) -> list[dict[str, Any]]:
    """Create/update records of an approved type with per-record outcomes (shared with the bulk import)."""
    model = approved_model(app, api_name)
    store = app.state["customObjects"].setdefault(api_name, {})
    dedupe = [f["name"] for f in model["fields"] if f.get("isDedupeField")]
    result: list[dict[str, Any]] = []
    for seq, record in enumerate(records):
        if not isinstance(record, dict):
            result.append({"seq": seq, "status": "skipped", "reasons": [reason(errors.INVALID_DATA, "Invalid record")]})
            continue
        problem = _record_problem(app, model, record)
        if dedupe_by == "dedupeFields":
            missing = [d for d in dedupe if record.get(d) in (None, "")]
            if not problem and missing:
                problem = reason(errors.MISSING_PARAMETER, f"Value for required field '{missing[0]}' not specified")
            key = tuple(str(record.get(d)) for d in dedupe)
            existing = next((r for r in _dedupe_index(app, api_name, store, dedupe).get(key, [])
                             if tuple(str(r.get(d)) for d in dedupe) == key), None)
        else:
            if not problem and not record.get("marketoGUID"):
                problem = reason(errors.MISSING_PARAMETER, "Value for required field 'marketoGUID' not specified")
            existing = store.get(str(record.get("marketoGUID")))
        if problem is None and existing is None and action == "updateOnly":
            problem = reason(errors.OBJECT_NOT_FOUND, "Object not found")
        if problem is None and existing is not None and action == "createOnly":
            problem = reason(errors.OBJECT_EXISTS, "Object already exists")
        if problem:
            result.append({"seq": seq, "status": "skipped", "reasons": [problem]})
            continue
        stamp = now_iso()
        values = {k: v for k, v in record.items() if k != "marketoGUID"}
        if existing is None:
            guid = str(uuid.uuid4())
            store[guid] = {"marketoGUID": guid, "createdAt": stamp, "updatedAt": stamp, **values}
            cached = getattr(app, "_dedupe_indexes", {}).get(api_name)
            if cached is not None and cached[0] is store and cached[1] == len(store) - 1:
                cached[1] += 1  # the index stays current
                cached[3].setdefault(tuple(str(values.get(d)) for d in dedupe), []).append(store[guid])
            result.append({"seq": seq, "marketoGUID": guid, "status": "created"})
        else:
            existing.update(values)
            existing["updatedAt"] = stamp
            result.append({"seq": seq, "marketoGUID": existing["marketoGUID"], "status": "updated"})
    return result


def _lookup_keys(ctx: CallContext, model: dict[str, Any], max_batch: int) -> tuple[list[dict[str, Any]], Any]:
    """The lookup as a list of ``{field: value}`` keys, and the requested fields.

    Two forms, as in Marketo: ``GET ?filterType=&filterValues=`` for one field, or a JSON body
    (``POST …?_method=GET``) whose ``input`` holds whole keys, needed for compound dedupe keys.
    """
    dedupe = [f["name"] for f in model["fields"] if f.get("isDedupeField")]
    links = [f["name"] for f in model["fields"] if f["dataType"] == "link"]
    in_body = bool(ctx.request.body)
    filter_type = ctx.field("filterType") if in_body else ctx.query("filterType")
    if not filter_type:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'filterType'")
    if in_body:
        keys = ctx.input_list("input", max_batch)
        if not all(isinstance(k, dict) and k for k in keys):
            raise ApiError(errors.INVALID_DATA, "input must be a list of key objects")
        expected = set(dedupe) if filter_type == "dedupeFields" else \
            {"marketoGUID"} if filter_type in ("idField", "marketoGUID") else {filter_type}
        if filter_type != "dedupeFields" and filter_type not in links + ["idField", "marketoGUID"] + dedupe:
            raise ApiError(errors.UNSUPPORTED_FILTER, f"Unsupported filter type '{filter_type}'")
        if any(set(k) != expected for k in keys):
            raise ApiError(errors.INVALID_DATA, f"Each input key must name exactly {sorted(expected)}")
        return keys, ctx.field("fields") or []
    values = ctx.query_list("filterValues")
    if len(values) > max_batch:
        raise ApiError(errors.INVALID_DATA, f"Too many filterValues: {len(values)} > {max_batch}")
    if filter_type == "dedupeFields" and len(dedupe) == 1:
        field = dedupe[0]
    elif filter_type in ("idField", "marketoGUID"):
        field = "marketoGUID"
    elif filter_type in links or [filter_type] == dedupe:
        field = filter_type
    else:
        raise ApiError(errors.UNSUPPORTED_FILTER, f"Unsupported filter type '{filter_type}' (a compound "
                       "dedupe key is looked up with a JSON body and _method=GET)")
    return [{field: v} for v in values], ctx.query_list("fields")


def query_records(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET {name}.json`` (or ``POST …?_method=GET``): records by one field or by whole keys."""
    api_name = ctx.path_params["customObjectName"]
    model = approved_model(app, api_name)
    keys, wanted = _lookup_keys(ctx, model, app.config.max_batch)
    known = {f["name"] for f in model["fields"]} | {"marketoGUID", "createdAt", "updatedAt"}
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise ApiError(errors.FIELD_NOT_FOUND, f"Field '{unknown[0]}' not found")
    dedupe = [f["name"] for f in model["fields"] if f.get("isDedupeField")]
    shown = wanted or (["marketoGUID"] + dedupe + ["createdAt", "updatedAt"])
    matches: list[dict[str, Any]] = []
    for record in app.state["customObjects"].get(api_name, {}).values():
        if any(all(str(record.get(k)) == str(v) for k, v in key.items()) for key in keys):
            matches.append(record)
    in_body = bool(ctx.request.body)
    token = ctx.field("nextPageToken") if in_body else ctx.query("nextPageToken")
    size = batch_size(ctx.field("batchSize") if in_body else ctx.query("batchSize"), app.config.max_batch)
    page, offset, extras = paged(matches, token, size)
    return {"result": [{"seq": offset + i, **{k: r.get(k) for k in shown}} for i, r in enumerate(page)], **extras}


def delete_records(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST {name}/delete.json``: delete records by dedupe fields or ``marketoGUID``."""
    api_name = ctx.path_params["customObjectName"]
    model = approved_model(app, api_name)
    delete_by = ctx.field("deleteBy") or "dedupeFields"
    if delete_by not in ("dedupeFields", "idField"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{delete_by}' for 'deleteBy'")
    records = ctx.input_list("input", app.config.max_batch)
    store = app.state["customObjects"].setdefault(api_name, {})
    dedupe = [f["name"] for f in model["fields"] if f.get("isDedupeField")]
    result = []
    for seq, record in enumerate(records):
        record = record if isinstance(record, dict) else {}
        if delete_by == "idField":
            found = store.get(str(record.get("marketoGUID")))
        else:
            key = tuple(str(record.get(d)) for d in dedupe)
            found = next((r for r in store.values() if tuple(str(r.get(d)) for d in dedupe) == key), None)
        if found is None:
            result.append({"seq": seq, "status": "skipped", "reasons": [reason(errors.OBJECT_NOT_FOUND,
                                                                                "Object not found")]})
            continue
        del store[found["marketoGUID"]]
        result.append({"seq": seq, "marketoGUID": found["marketoGUID"], "status": "deleted"})
    return {"result": result}
