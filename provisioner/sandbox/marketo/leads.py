"""Leads and program members (``/rest/v1/leads*``, ``/rest/v1/programs/{programId}/members*``)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from . import errors
from .context import CallContext
from .errors import ApiError, reason
from .records import batch_size, check_value, paged
from .state import next_id, now_iso

if TYPE_CHECKING:
    from .app import MarketoApp

#: The lead fields this instance knows: REST name -> describe attributes.
LEAD_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"displayName": "Id", "dataType": "integer", "updateable": False, "linkable": True},
    "email": {"displayName": "Email Address", "dataType": "email", "length": 255, "linkable": True},
    "firstName": {"displayName": "First Name", "dataType": "string", "length": 255},
    "lastName": {"displayName": "Last Name", "dataType": "string", "length": 255},
    "company": {"displayName": "Company Name", "dataType": "string", "length": 255},
    "title": {"displayName": "Job Title", "dataType": "string", "length": 255},
    "phone": {"displayName": "Phone Number", "dataType": "phone", "length": 255},
    "country": {"displayName": "Country", "dataType": "string", "length": 255},
    "leadSource": {"displayName": "Lead Source", "dataType": "string", "length": 255},
    "externalId": {"displayName": "External Id", "dataType": "string", "length": 255, "linkable": True},
    "createdAt": {"displayName": "Created At", "dataType": "datetime", "updateable": False},
    "updatedAt": {"displayName": "Updated At", "dataType": "datetime", "updateable": False},
}
SEARCHABLE = ("email", "id", "externalId")
DEFAULT_FIELDS = ("id", "email", "firstName", "lastName", "updatedAt", "createdAt")


def lead_matching(app: "MarketoApp", field: str, value: Any) -> dict[str, Any] | None:
    """The oldest lead whose ``field`` equals ``value`` (emails compare case-insensitively)."""
    if value in (None, ""):
        return None
    matches = _leads_matching(app, field, value)  # insertion order: oldest first
    return matches[0] if matches else None


def _key(field: str, value: Any) -> str:
    """A lookup value as Marketo compares it (emails case-insensitively)."""
    return str(value).lower() if field == "email" else str(value)


def _email_index(app: "MarketoApp") -> dict[str, list[dict[str, Any]]]:
    """Leads by lowercased email, oldest first: kept beside the state (never in the snapshot), rebuilt when
    the leads dict is replaced or its size changed other than through :func:`upsert_leads` (a million-lead
    bulk import would otherwise scan every lead for every row)."""
    leads = app.state["leads"]
    cached = getattr(app, "_email_index", None)
    if cached is None or cached[0] is not leads or cached[1] != len(leads):
        index: dict[str, list[dict[str, Any]]] = {}
        for lead in leads.values():
            if lead.get("email") is not None:
                index.setdefault(_key("email", lead["email"]), []).append(lead)
        cached = [leads, len(leads), index]
        app._email_index = cached  # type: ignore[attr-defined]
    return cached[2]


def _leads_matching(app: "MarketoApp", field: str, value: Any) -> list[dict[str, Any]]:
    wanted = _key(field, value)
    if field == "id":  # leads are stored by their id
        lead = app.state["leads"].get(wanted)
        return [lead] if lead is not None and _key("id", lead.get("id")) == wanted else []
    candidates = _email_index(app).get(wanted, []) if field == "email" else app.state["leads"].values()
    return [lead for lead in candidates if lead.get(field) is not None and _key(field, lead[field]) == wanted]


def _lead_problem(record: dict[str, Any]) -> dict[str, str] | None:
    for key, value in record.items():
        spec = LEAD_FIELDS.get(key)
        if spec is None:
            return reason(errors.FIELD_NOT_FOUND, f"Field '{key}' not found")
        if key != "id" and spec.get("updateable") is False:
            return reason(errors.INVALID_DATA, f"Field '{key}' is not updateable")
        problem = check_value(key, spec["dataType"], value)
        if problem:
            return problem
    return None


def sync_leads(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /rest/v1/leads.json``: upsert leads (≤ 300) with per-record status and reasons."""
    action = ctx.field("action") or "createOrUpdate"
    if action not in ("createOnly", "updateOnly", "createOrUpdate", "createDuplicate"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{action}' for 'action'")
    lookup = ctx.field("lookupField") or "email"
    if lookup not in SEARCHABLE:
        raise ApiError(errors.INVALID_DATA, f"Invalid lookupField '{lookup}'")
    ctx.field("partitionName")
    ctx.field("asyncProcessing")
    records = ctx.input_list("input", app.config.max_batch)
    return {"result": upsert_leads(app, records, action, lookup, racing=app.race)}


def upsert_leads(app: "MarketoApp", records: list[Any], action: str, lookup: str,
                 racing: bool = False) -> list[dict[str, Any]]:
    """Create/update leads by ``lookup`` with Marketo's per-record outcomes (shared with the bulk import).

    Like Marketo, the lookup and the write are not one atomic step: with ``racing`` (the REST call in
    race mode, see :mod:`.race`) a concurrent request upserting the same key slips in between, and
    both create the lead.
    """
    looked_up = [_leads_matching(app, lookup, r.get(lookup))
                 if isinstance(r, dict) and action != "createDuplicate" and r.get(lookup) not in (None, "") else []
                 for r in records]
    keys = {("lead", lookup, _key(lookup, r.get(lookup))) for r in records if isinstance(r, dict)}
    with app.contention.writing(keys) if racing else contextlib.nullcontext():
        return _write_leads(app, records, looked_up, action, lookup)


def _write_leads(app: "MarketoApp", records: list[Any], looked_up: list[list[dict[str, Any]]], action: str,
                 lookup: str) -> list[dict[str, Any]]:
    created: dict[str, dict[str, Any]] = {}  # lookup key -> lead created earlier in this batch
    result: list[dict[str, Any]] = []
    for seq, (record, matches) in enumerate(zip(records, looked_up)):
        if not isinstance(record, dict):
            result.append({"seq": seq, "status": "skipped", "reasons": [reason(errors.INVALID_DATA, "Invalid record")]})
            continue
        problem = _lead_problem(record)
        key = _key(lookup, record.get(lookup))
        if action != "createDuplicate" and key in created:
            matches = [created[key]]
        if problem is None and action != "createDuplicate" and record.get(lookup) in (None, ""):
            problem = reason(errors.MISSING_PARAMETER, f"Value for lookup field '{lookup}' not specified")
        if problem is None and len(matches) > 1:
            problem = reason(errors.MULTIPLE_LEADS, "Multiple lead match lookup criteria")
        if problem is None and not matches and (action == "updateOnly" or lookup == "id"):
            problem = reason(errors.LEAD_NOT_FOUND, "Lead not found")
        if problem is None and matches and action == "createOnly":
            problem = reason(errors.LEAD_EXISTS, "Lead already exists")
        if problem:
            result.append({"seq": seq, "status": "skipped", "reasons": [problem]})
            continue
        stamp = now_iso()
        values = {k: v for k, v in record.items() if k != "id"}
        if matches:
            lead = matches[0]
            if "email" in values and _key("email", values["email"]) != _key("email", lead.get("email")):
                app._email_index = None  # type: ignore[attr-defined]  # an email changed: rebuild the index
            lead.update(values)
            lead["updatedAt"] = stamp
            result.append({"seq": seq, "id": lead["id"], "status": "updated"})
        else:
            lid = next_id(app.state, "lead")
            index = _email_index(app)
            lead = app.state["leads"][str(lid)] = {"id": lid, **values, "createdAt": stamp, "updatedAt": stamp}
            app._email_index[1] += 1  # type: ignore[attr-defined]  # the index stays current
            if lead.get("email") is not None:
                index.setdefault(_key("email", lead["email"]), []).append(lead)
            created[key] = lead
            result.append({"seq": seq, "id": lid, "status": "created"})
    return result


def get_leads(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/leads.json``: leads by a searchable field (≤ 300 values), paged."""
    filter_type = ctx.query("filterType")
    values = ctx.query_list("filterValues")
    if not filter_type:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'filterType'")
    if filter_type not in SEARCHABLE:
        raise ApiError(errors.UNSUPPORTED_FILTER, f"Unsupported filter type '{filter_type}'")
    if not values:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'filterValues'")
    if len(values) > app.config.max_batch:
        raise ApiError(errors.INVALID_DATA, f"Too many filterValues: {len(values)} > {app.config.max_batch}")
    fields = ctx.query_list("fields") or list(DEFAULT_FIELDS)
    unknown = [f for f in fields if f not in LEAD_FIELDS]
    if unknown:
        raise ApiError(errors.FIELD_NOT_FOUND, f"Field '{unknown[0]}' not found")
    matches = []
    for value in values:
        for lead in _leads_matching(app, filter_type, value):
            if lead not in matches:
                matches.append(lead)
    page, _, extras = paged(matches, ctx.query("nextPageToken"),
                            batch_size(ctx.query("batchSize"), app.config.max_batch))
    return {"result": [{k: lead.get(k) for k in dict.fromkeys(["id", *fields])} for lead in page], **extras}


def describe_leads2(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/leads/describe2.json``: lead fields and searchable fields."""
    fields = [{"name": name, "displayName": spec["displayName"], "dataType": spec["dataType"],
               **({"length": spec["length"]} if "length" in spec else {}),
               "updateable": spec.get("updateable", True), "crmManaged": False}
              for name, spec in LEAD_FIELDS.items()]
    return {"result": [{"name": "API Lead", "searchableFields": [[f] for f in SEARCHABLE], "fields": fields}]}


def describe_leads(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/leads/describe.json``: lead fields with REST and SOAP names."""
    result = []
    for i, (name, spec) in enumerate(LEAD_FIELDS.items(), start=1):
        read_only = spec.get("updateable") is False
        result.append({"id": i, "displayName": spec["displayName"], "dataType": spec["dataType"],
                       **({"length": spec["length"]} if "length" in spec else {}),
                       "rest": {"name": name, "readOnly": read_only},
                       "soap": {"name": name[0].upper() + name[1:], "readOnly": read_only}})
    return {"result": result}


# -- program members ---------------------------------------------------------------

def _program_and_channel(app: "MarketoApp", program_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    program = app.state["programs"].get(program_id)
    if program is None:
        raise ApiError(errors.OBJECT_NOT_FOUND, f"Program '{program_id}' not found")
    channel = next(c for c in app.state["channels"].values() if c["name"] == program["channel"])
    return program, channel


def check_program_status(app: "MarketoApp", program_id: str, status_name: str) -> dict[str, Any]:
    """The channel step called ``status_name`` of the program's channel (1013/1025 when there is none)."""
    _, channel = _program_and_channel(app, program_id)
    target = next((s for s in channel["progressionStatuses"] if s["name"] == status_name), None)
    if target is None or target["step"] == 0:
        raise ApiError(errors.PROGRAM_STATUS_NOT_FOUND, f"Program status '{status_name}' not found in channel "
                       f"'{channel['name']}'")
    return target


def set_member_status(app: "MarketoApp", program_id: str, status_name: str,
                      lead_ids: list[Any]) -> list[dict[str, Any]]:
    """Move leads forward to ``status_name`` in a program (shared by the REST call and the bulk import)."""
    program, channel = _program_and_channel(app, program_id)
    steps = {s["name"]: s for s in channel["progressionStatuses"]}
    target = check_program_status(app, program_id, status_name)
    members = app.state["members"].setdefault(program_id, {})
    result = []
    for seq, raw in enumerate(lead_ids):
        lead = app.state["leads"].get(str(raw))
        if lead is None:
            result.append({"seq": seq, "leadId": raw, "status": "skipped",
                           "reasons": [reason(errors.LEAD_NOT_FOUND, "Lead not found")]})
            continue
        member = members.get(str(lead["id"]))
        current_step = steps.get(member["progressionStatus"], {"step": 0})["step"] if member else 0
        if member is not None and current_step >= target["step"]:
            result.append({"seq": seq, "leadId": lead["id"], "status": "skipped",
                           "reasons": [reason(errors.LEAD_SKIPPED, "Lead already at or past this status")]})
            continue
        stamp = now_iso()
        if member is None:
            member = members[str(lead["id"])] = {"leadId": lead["id"], "programId": program["id"],
                                                 "membershipDate": stamp, "acquiredBy": True,
                                                 "reachedSuccess": False}
        member["progressionStatus"] = status_name
        member["progressionStatusType"] = "success" if target["success"] else "neutral"
        member["reachedSuccess"] = member["reachedSuccess"] or target["success"]
        member["updatedAt"] = stamp
        result.append({"seq": seq, "leadId": lead["id"], "status": "updated"})
    return result


def sync_member_status(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /rest/v1/programs/{programId}/members/status.json``: move leads forward (≤ 300)."""
    status_name = ctx.field("statusName")
    if not status_name:
        raise ApiError(errors.BLANK, "statusName cannot be blank")
    records = ctx.input_list("input", app.config.max_batch)
    lead_ids = [r.get("leadId") if isinstance(r, dict) else None for r in records]
    return {"result": set_member_status(app, ctx.path_params["programId"], status_name, lead_ids)}


def change_lead_program_status(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /rest/v1/leads/programs/{programId}/status.json`` (superseded by members/status.json, still
    served and what marketorestpython's change_lead_program_status calls): only existing members move."""
    program_id = ctx.path_params["programId"]
    _program_and_channel(app, program_id)
    status_name = ctx.field("status")
    if not status_name:
        raise ApiError(errors.BLANK, "status cannot be blank")
    records = ctx.input_list("input", app.config.max_batch)
    members = app.state["members"].get(program_id, {})
    lead_ids = [r.get("id") if isinstance(r, dict) else None for r in records]
    moving = [i for i in lead_ids if str(i) in members]
    moved = iter(set_member_status(app, program_id, status_name, moving)) if moving else iter(())
    result = []
    for lead_id in lead_ids:
        if str(lead_id) not in members:
            result.append({"id": lead_id, "status": "skipped",
                           "reasons": [reason(errors.LEAD_NOT_FOUND, "Lead is not a member of the program")]})
            continue
        outcome = next(moved)
        result.append({"id": outcome["leadId"], "status": outcome["status"],
                       **({"reasons": outcome["reasons"]} if "reasons" in outcome else {})})
    return {"result": result}


def get_members(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /rest/v1/programs/{programId}/members.json``: members by lead id or status."""
    program_id = ctx.path_params["programId"]
    _program_and_channel(app, program_id)
    filter_type = ctx.query("filterType")
    values = ctx.query_list("filterValues")
    if not filter_type:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'filterType'")
    if filter_type not in ("leadId", "progressionStatus"):
        raise ApiError(errors.UNSUPPORTED_FILTER, f"Unsupported filter type '{filter_type}'")
    if len(values) > app.config.max_batch:
        raise ApiError(errors.INVALID_DATA, f"Too many filterValues: {len(values)} > {app.config.max_batch}")
    ctx.query_list("fields")
    members = [m for m in app.state["members"].get(program_id, {}).values() if str(m.get(filter_type)) in values]
    page, offset, extras = paged(members, ctx.query("nextPageToken"),
                                 batch_size(ctx.query("batchSize"), app.config.max_batch))
    return {"result": [{"seq": offset + i, **m} for i, m in enumerate(page)], **extras}
