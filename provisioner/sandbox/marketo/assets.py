"""Asset API handlers: folders, channels (read-only) and programs (``/rest/asset/v1/``)."""

from __future__ import annotations

import copy
import json
import weakref
from typing import TYPE_CHECKING, Any

from . import errors
from .config import PROGRAM_TYPE_CHANNEL_KIND
from .context import CallContext
from .errors import ApiError
from .state import next_id, now_iso, parse_iso

if TYPE_CHECKING:
    from .app import MarketoApp

NO_ASSETS = "No assets found for the given search criteria."
WORKSPACE = "Default"
MAX_NAME = 255
#: Folder type of a program seen through the folder API.
PROGRAM_FOLDER_TYPE = {"Default": "Marketing Program", "Event": "Marketing Event",
                       "Event with Webinar": "Marketing Event", "Engagement": "Nurture Program",
                       "Email": "Email Batch Program"}
EVENT_TYPES = ("Event", "Event with Webinar")


def _none_found() -> dict[str, Any]:
    return {"result": None, "warnings": [NO_ASSETS]}


def _programs_named(app: "MarketoApp", name: str) -> list[dict[str, Any]]:
    """Programs whose name is ``name`` (case-insensitively), through an index of the current state.

    A scan per call made every clone, rename and lookup cost O(programs): `event new` for 1,000
    sessions then spent most of the sandbox's time comparing names. The index belongs to one
    ``state["programs"]`` dict: a reset or a restored state file brings a new dict, and a new index.
    """
    programs = app.state["programs"]
    built = _NAME_INDEX.get(app)
    if built is None or built[0] is not programs:
        index: dict[str, set[str]] = {}
        for key, program in programs.items():
            index.setdefault(program["name"].lower(), set()).add(key)
        built = _NAME_INDEX[app] = (programs, index)
    keys = built[1].get(name.lower(), set())
    return sorted((programs[k] for k in keys if k in programs), key=lambda p: p["id"])


def _index_program(app: "MarketoApp", program: dict[str, Any], old_name: str | None = None) -> None:
    """Keep the name index in step with a created (``old_name`` None), renamed or deleted program."""
    built = _NAME_INDEX.get(app)
    if built is None or built[0] is not app.state["programs"]:
        return  # rebuilt from the state on next use
    index = built[1]
    key = str(program["id"])
    if old_name is not None:
        index.get(old_name.lower(), set()).discard(key)
    if key in app.state["programs"]:
        index.setdefault(program["name"].lower(), set()).add(key)


#: Per app: the programs dict an index was built from, and the index (lower-cased name -> keys).
_NAME_INDEX: "weakref.WeakKeyDictionary[MarketoApp, tuple[dict[str, Any], dict[str, set[str]]]]" = \
    weakref.WeakKeyDictionary()


def _page(ctx: CallContext, items: list[Any], default_max: int = 20, limit: int = 200) -> dict[str, Any]:
    offset = ctx.query_int("offset", 0)
    max_return = ctx.query_int("maxReturn", default_max)
    if max_return < 1 or max_return > limit:
        raise ApiError(errors.INVALID_DATA, f"maxReturn must be between 1 and {limit}")
    page = items[offset:offset + max_return]
    return {"result": page} if page else _none_found()


# -- folders ------------------------------------------------------------------

def _folder_path(state: dict[str, Any], folder: dict[str, Any]) -> str:
    """The folder's path as Marketo shows it: the workspace follows the root
    (``/Marketing Activities/Default/Kaltura``); a root's path is just ``/<root>``."""
    names = [folder["name"]]
    parent = folder.get("parentId")
    while parent is not None:
        p = state["folders"][str(parent)]
        names.append(p["name"])
        parent = p.get("parentId")
    names.reverse()
    return "/" + "/".join(names[:1] + [WORKSPACE] + names[1:] if len(names) > 1 else names)


def _ref(folder_id: int | None, kind: str = "Folder") -> dict[str, Any] | None:
    return None if folder_id is None else {"id": folder_id, "type": kind}


def folder_view(app: "MarketoApp", folder: dict[str, Any]) -> dict[str, Any]:
    """A folder record as ``GET folder/{id}.json`` shows it."""
    return {
        "id": folder["id"], "name": folder["name"], "description": folder.get("description") or "",
        "createdAt": folder["createdAt"], "updatedAt": folder["updatedAt"],
        "url": f"{app.ui_url}/#MF{folder['id']}A1", "folderId": _ref(folder["id"]),
        "folderType": "Zone" if folder.get("parentId") is None and folder["name"] != "Marketing Activities"
        else "Marketing Folder",
        "parent": _ref(folder.get("parentId")), "path": _folder_path(app.state, folder),
        "isArchive": False, "isSystem": folder.get("isSystem", False), "accessZoneId": 1,
        "workspace": WORKSPACE,
    }


def _program_as_folder(app: "MarketoApp", program: dict[str, Any]) -> dict[str, Any]:
    parent = app.state["folders"][str(program["folderId"])]
    return {
        "id": program["id"], "name": program["name"], "description": program.get("description") or "",
        "createdAt": program["createdAt"], "updatedAt": program["updatedAt"],
        "url": program["url"], "folderId": _ref(program["id"], "Program"),
        "folderType": PROGRAM_FOLDER_TYPE[program["type"]], "parent": _ref(parent["id"]),
        "path": _folder_path(app.state, parent) + "/" + program["name"],
        "isArchive": False, "isSystem": False, "accessZoneId": 1, "workspace": WORKSPACE,
    }


def _folder_ref_arg(value: Any, name: str) -> tuple[int, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ApiError(errors.INVALID_DATA, f"Invalid JSON in '{name}'")
    if not isinstance(value, dict) or not isinstance(value.get("id"), int):
        raise ApiError(errors.INVALID_DATA, f"'{name}' must be {{\"id\": <number>, \"type\": \"Folder\"}}")
    kind = value.get("type", "Folder")
    if kind not in ("Folder", "Program"):
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{kind}' for '{name}.type'. Folder or Program")
    return value["id"], kind


def _folder_field(app: "MarketoApp", ctx: CallContext, name: str) -> int:
    """The id of the existing folder a form field ``{"id": N, "type": "Folder"}`` names (1002, 710)."""
    raw = ctx.form_json(name)
    if raw is None:
        raise ApiError(errors.MISSING_PARAMETER, f"Missing value for required parameter '{name}'")
    folder_id, kind = _folder_ref_arg(raw, name)
    if kind != "Folder" or str(folder_id) not in app.state["folders"]:
        raise ApiError(errors.FOLDER_NOT_FOUND, f"Folder '{folder_id}' not found")
    return folder_id


def _descends_from(state: dict[str, Any], folder_id: int, root_id: int) -> bool:
    current: int | None = folder_id
    while current is not None:
        if current == root_id:
            return True
        current = state["folders"][str(current)].get("parentId")
    return False


def _depth_below(state: dict[str, Any], folder_id: int, root_id: int | None) -> int:
    depth, current = 0, state["folders"][str(folder_id)].get("parentId")
    while current is not None and current != root_id:
        depth += 1
        current = state["folders"][str(current)].get("parentId")
    return depth


def get_folder_by_name(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET folder/byName.json``: folders (or programs, ``type=Program``) with that exact name."""
    name = ctx.query("name")
    if not name:
        raise ApiError(errors.BLANK, "name cannot be blank")
    kind = ctx.query("type") or "Folder"
    root = ctx.query("root")
    ctx.query("workSpace")
    root_id = _folder_ref_arg(root, "root")[0] if root else None
    if kind == "Program":
        found = [_program_as_folder(app, p) for p in app.state["programs"].values() if p["name"] == name
                 and (root_id is None or _descends_from(app.state, p["folderId"], root_id))]
    else:
        found = [folder_view(app, f) for f in app.state["folders"].values() if f["name"] == name
                 and (root_id is None or _descends_from(app.state, f["id"], root_id))]
    return {"result": found} if found else _none_found()


def get_folder_by_id(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET folder/{id}.json?type=Folder|Program``."""
    kind = ctx.query("type")
    if kind not in ("Folder", "Program"):
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'type' (Folder or Program)")
    key = ctx.path_params["id"]
    if kind == "Program":
        program = app.state["programs"].get(key)
        return {"result": [_program_as_folder(app, program)]} if program else _none_found()
    folder = app.state["folders"].get(key)
    return {"result": [folder_view(app, folder)]} if folder else _none_found()


def browse_folders(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET folders.json``: a root folder and its descendants down to ``maxDepth``, paged."""
    root = ctx.query("root")
    max_depth = ctx.query_int("maxDepth", 2)
    ctx.query("workSpace")
    root_id = _folder_ref_arg(root, "root")[0] if root else None
    if root_id is not None and str(root_id) not in app.state["folders"]:
        raise ApiError(errors.FOLDER_NOT_FOUND, f"Folder '{root_id}' not found")
    found = []
    for folder in sorted(app.state["folders"].values(), key=lambda f: f["id"]):
        inside = root_id is None or folder["id"] == root_id or _descends_from(app.state, folder["id"], root_id)
        if inside and (folder["id"] == root_id or _depth_below(app.state, folder["id"], root_id) < max_depth):
            found.append(folder_view(app, folder))
    return _page(ctx, found)


def create_folder(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST folders.json`` (form): a folder under a parent folder; names unique per parent."""
    name = (ctx.form("name") or "").strip()
    if not name:
        raise ApiError(errors.BLANK, "name cannot be blank")
    if len(name) > MAX_NAME:
        raise ApiError(errors.INVALID_DATA, f"name is longer than {MAX_NAME} characters")
    parent_id = _folder_field(app, ctx, "parent")
    if any(f["name"].lower() == name.lower() and f.get("parentId") == parent_id
           for f in app.state["folders"].values()):
        raise ApiError(errors.BUSINESS_RULE, f"Folder with name '{name}' already exists in this location")
    stamp = now_iso()
    fid = next_id(app.state, "folder")
    folder = {"id": fid, "name": name, "parentId": parent_id, "isSystem": False,
              "description": ctx.form("description") or "", "createdAt": stamp, "updatedAt": stamp}
    app.state["folders"][str(fid)] = folder
    return {"result": [folder_view(app, folder)]}


# -- channels -------------------------------------------------------------------

def _channel_view(channel: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(channel)


def browse_channels(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET channels.json``: the channels, paged by ``offset``/``maxReturn``."""
    channels = [_channel_view(c) for c in sorted(app.state["channels"].values(), key=lambda c: c["id"])]
    return _page(ctx, channels)


def get_channel_by_name(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET channel/byName.json``: one channel with its progression statuses."""
    name = ctx.query("name") or ctx.query("Name")  # the spec spells it "Name"; Marketo's docs and clients use "name"
    if not name:
        raise ApiError(errors.BLANK, "name cannot be blank")
    found = [_channel_view(c) for c in app.state["channels"].values() if c["name"] == name]
    return {"result": found} if found else _none_found()


def channel_named(app: "MarketoApp", name: str) -> dict[str, Any] | None:
    """The channel called ``name`` (exact, as Marketo matches it)."""
    return next((c for c in app.state["channels"].values() if c["name"] == name), None)


# -- programs -------------------------------------------------------------------

def program_view(app: "MarketoApp", program: dict[str, Any]) -> dict[str, Any]:
    """A program as the asset API returns it (folder as ``{type, value, folderName}``)."""
    folder = app.state["folders"][str(program["folderId"])]
    view = {
        "id": program["id"], "name": program["name"], "description": program.get("description") or "",
        "createdAt": program["createdAt"], "updatedAt": program["updatedAt"], "url": program["url"],
        "type": program["type"], "channel": program["channel"],
        "folder": {"type": "Folder", "value": folder["id"], "folderName": folder["name"]},
        "status": program.get("status", ""), "workspace": WORKSPACE,
        "tags": copy.deepcopy(program.get("tags", [])), "costs": copy.deepcopy(program.get("costs", [])),
        "sfdcId": None, "sfdcName": None,
    }
    if program["type"] in EVENT_TYPES:
        view["startDate"] = program.get("startDate")
        view["endDate"] = program.get("endDate")
    return view


def _browse_view(app: "MarketoApp", program: dict[str, Any]) -> dict[str, Any]:
    view = program_view(app, program)
    for key in ("tags", "costs", "startDate", "endDate"):
        view.pop(key, None)
    return view


def _check_program_name(app: "MarketoApp", name: str | None, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ApiError(errors.BLANK, "name cannot be blank")
    if len(name) > MAX_NAME:
        raise ApiError(errors.INVALID_DATA, f"name is longer than {MAX_NAME} characters")
    if any(p["id"] != exclude_id for p in _programs_named(app, name)):
        raise ApiError(errors.BUSINESS_RULE, f"Program with name '{name}' already exists")
    return name


def _program_folder(app: "MarketoApp", ctx: CallContext) -> int:
    folder_id = _folder_field(app, ctx, "folder")
    marketing = next(f["id"] for f in app.state["folders"].values() if f["name"] == "Marketing Activities"
                     and f.get("parentId") is None)
    if not _descends_from(app.state, folder_id, marketing):
        raise ApiError(errors.BUSINESS_RULE, "Programs can only be created inside Marketing Activities")
    return folder_id


def _costs(ctx: CallContext) -> list[dict[str, Any]] | None:
    costs = ctx.form_json("costs")
    if costs is None:
        return None
    if not isinstance(costs, list):
        raise ApiError(errors.INVALID_DATA, "costs must be a list")
    cleaned = []
    for cost in costs:
        if not isinstance(cost, dict) or not isinstance(cost.get("cost"), int) or not cost.get("startDate") \
                or parse_iso(str(cost["startDate"])) is None:
            raise ApiError(errors.INVALID_DATA, "each cost needs an integer 'cost' and a 'startDate' date")
        cleaned.append({"startDate": cost["startDate"], "cost": cost["cost"], "note": cost.get("note", "")})
    return cleaned


def _tags(ctx: CallContext) -> list[dict[str, Any]] | None:
    tags = ctx.form_json("tags")
    if tags is None:
        return None
    if not isinstance(tags, list) or not all(isinstance(t, dict) and t.get("tagType") for t in tags):
        raise ApiError(errors.INVALID_DATA, "tags must be a list of {tagType, tagValue}")
    return [{"tagType": t["tagType"], "tagValue": t.get("tagValue", "")} for t in tags]


def _new_program(app: "MarketoApp", name: str, ptype: str, channel: str, folder_id: int,
                 description: str, costs: list[dict[str, Any]], tags: list[dict[str, Any]]) -> dict[str, Any]:
    stamp = now_iso()
    pid = next_id(app.state, "program")
    program = {"id": pid, "name": name, "description": description, "type": ptype, "channel": channel,
               "folderId": folder_id, "costs": costs, "tags": tags, "createdAt": stamp, "updatedAt": stamp,
               "url": f"{app.ui_url}/#PG{pid}A1",
               "status": "unlocked" if ptype == "Email" else ("off" if ptype == "Engagement" else "")}
    app.state["programs"][str(pid)] = program
    _index_program(app, program)
    return program


def create_program(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST programs.json`` (form): type and channel must fit, name unique, folder in Marketing Activities."""
    name = _check_program_name(app, ctx.form("name"))
    ptype = ctx.form("type")
    if ptype not in PROGRAM_TYPE_CHANNEL_KIND:
        raise ApiError(errors.INVALID_DATA, f"Invalid value '{ptype}' for 'type'. One of "
                       + ", ".join(PROGRAM_TYPE_CHANNEL_KIND))
    channel_name = ctx.form("channel")
    if not channel_name:
        raise ApiError(errors.BLANK, "channel cannot be blank")
    channel = channel_named(app, channel_name)
    if channel is None:
        raise ApiError(errors.INVALID_DATA, f"Channel '{channel_name}' not found")
    if channel["applicableProgramType"] != PROGRAM_TYPE_CHANNEL_KIND[ptype]:
        raise ApiError(errors.BUSINESS_RULE, f"Channel '{channel_name}' is not applicable to program type "
                       f"'{ptype}' (it applies to {channel['applicableProgramType']} programs)")
    folder_id = _program_folder(app, ctx)
    program = _new_program(app, name, ptype, channel_name, folder_id, ctx.form("description") or "",
                           _costs(ctx) or [], _tags(ctx) or [])
    return {"result": [program_view(app, program)]}


def _program(app: "MarketoApp", ctx: CallContext) -> dict[str, Any] | None:
    return app.state["programs"].get(ctx.path_params["id"])


def get_program_by_id(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET program/{id}.json``."""
    program = _program(app, ctx)
    return {"result": [program_view(app, program)]} if program else _none_found()


def get_program_by_name(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET program/byName.json`` (tags and costs only when asked for)."""
    name = ctx.query("name")
    if not name:
        raise ApiError(errors.BLANK, "name cannot be blank")
    include_tags = (ctx.query("includeTags") or "false").lower() == "true"
    include_costs = (ctx.query("includeCosts") or "false").lower() == "true"
    found = []
    for program in _programs_named(app, name):
        if program["name"] == name:
            view = program_view(app, program)
            view["tags"] = view["tags"] if include_tags else []
            view["costs"] = view["costs"] if include_costs else []
            found.append(view)
    return {"result": found} if found else _none_found()


def browse_programs(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET programs.json``: programs, optionally by update time, paged."""
    earliest, latest = ctx.query("earliestUpdatedAt"), ctx.query("latestUpdatedAt")
    low = parse_iso(earliest) if earliest else None
    high = parse_iso(latest) if latest else None
    if (earliest and low is None) or (latest and high is None):
        raise ApiError(errors.INVALID_DATA, "earliestUpdatedAt/latestUpdatedAt must be ISO-8601 datetimes")
    programs = []
    for program in sorted(app.state["programs"].values(), key=lambda p: p["id"]):
        updated = parse_iso(program["updatedAt"])
        if (low is None or updated >= low) and (high is None or updated <= high):
            programs.append(_browse_view(app, program))
    return _page(ctx, programs)


def update_program(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST program/{id}.json`` (form): name, description, dates (event programs), costs, tags.

    Type and channel are fixed at creation, as in Marketo: there is no parameter to change them.
    """
    program = _program(app, ctx)
    if program is None:
        raise ApiError(errors.NO_DATA, f"Program '{ctx.path_params['id']}' not found")
    changes: dict[str, Any] = {}
    name = ctx.form("name")
    if name is not None:
        changes["name"] = _check_program_name(app, name, exclude_id=program["id"])
    description = ctx.form("description")
    if description is not None:
        changes["description"] = description
    for key in ("startDate", "endDate"):
        value = ctx.form(key)
        if value is None:
            continue
        if program["type"] not in EVENT_TYPES:
            raise ApiError(errors.BUSINESS_RULE, f"{key} applies only to event programs")
        if parse_iso(value) is None:
            raise ApiError(errors.INVALID_DATA, f"Invalid value '{value}' for '{key}'. Required of type 'date'")
        changes[key] = value
    start, end = changes.get("startDate", program.get("startDate")), changes.get("endDate", program.get("endDate"))
    if start and end and parse_iso(end) < parse_iso(start):
        raise ApiError(errors.INVALID_DATA, "endDate must not be before startDate")
    costs = _costs(ctx)
    if costs is not None:
        destructive = (ctx.form("costsDestructiveUpdate") or "false").lower() == "true"
        changes["costs"] = costs if destructive else program.get("costs", []) + costs
    tags = _tags(ctx)
    if tags is not None:
        changes["tags"] = tags
    old_name = program["name"]
    program.update(changes)
    program["updatedAt"] = now_iso()
    _index_program(app, program, old_name)
    return {"result": [program_view(app, program)]}


def clone_program(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST program/{id}/clone.json`` (form): same type and channel under a new unique name."""
    source = _program(app, ctx)
    if source is None:
        raise ApiError(errors.NO_DATA, f"Program '{ctx.path_params['id']}' not found")
    name = _check_program_name(app, ctx.form("name"))
    folder_id = _program_folder(app, ctx)
    description = ctx.form("description")
    clone = _new_program(app, name, source["type"], source["channel"], folder_id,
                         source.get("description", "") if description is None else description,
                         copy.deepcopy(source.get("costs", [])), copy.deepcopy(source.get("tags", [])))
    return {"result": [program_view(app, clone)]}


def delete_program(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST program/{id}/delete.json``: the program and its members."""
    program = app.state["programs"].pop(ctx.path_params["id"], None)
    if program is None:
        raise ApiError(errors.NO_DATA, f"Program '{ctx.path_params['id']}' not found")
    app.state["members"].pop(str(program["id"]), None)
    _index_program(app, program, program["name"])
    return {"result": [{"id": program["id"]}]}
