"""Read a Marketo instance's live setup and write it as a `kind: Marketo` manifest.

Live state is read through the provider's own resource kinds (their ``read`` already maps API
records to manifest terms), so what is exported is exactly what a plan compares: applied back,
the manifest plans ``No changes.`` Fields, attributes or types the manifest cannot express are
left out with a comment saying what, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..manifest.fieldtypes import ACTIVITY_ATTRIBUTE_TYPES, CUSTOM_OBJECT_FIELD_TYPES
from ..manifest.rules_marketo import DATED_PROGRAM_TYPES
from ..plan.resource import Desired, Live, ResourceKind
from ..providers.marketo.client import MarketoClient
from ..providers.marketo.resources.channel import KIND as CHANNEL, ChannelKind
from ..providers.marketo.resources.common import address
from ..providers.marketo.resources.custom_activity import KIND as ACTIVITY, CustomActivityKind
from ..providers.marketo.resources.custom_object import KIND as OBJECT, CustomObjectKind
from ..providers.marketo.resources.program import KIND as PROGRAM, ProgramKind
from .errors import ExportError
from .yaml_writer import MODELINE, Writer, flow

#: Values the manifest schema accepts.
PROGRAM_TYPES = frozenset({"Default", "Event", "Event with Webinar", "Engagement", "Email"})
CHANNEL_PROGRAM_TYPES = frozenset({"event", "webinar", "program", "nurture", "email"})
ATTRIBUTE_TYPES = frozenset(ACTIVITY_ATTRIBUTE_TYPES)
FIELD_TYPES = frozenset(CUSTOM_OBJECT_FIELD_TYPES)


def read_live(conn: MarketoClient, kind: ResourceKind, kind_name: str, names: list[str],
              what: str, ask: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Live attributes (manifest terms) of each named resource, through ``kind.read``; ExportError if one is missing.

    Desired entries are marked absent so a read never looks up what a create would need; ``ask``
    names optional attributes a kind reads only when a manifest manages them (a program's dates).
    """
    if not names:
        return {}
    desired = [Desired(address(kind_name, n), kind_name, dict(ask or {}), ensure="absent") for n in names]
    live: dict[str, Live] = kind.read(conn, desired)
    missing = [n for n, d in zip(names, desired) if live.get(d.address) is None or live[d.address].attributes is None]
    if missing:
        raise ExportError(f"no {what} named {', '.join(repr(m) for m in missing)} in Marketo")
    return {n: dict(live[d.address].attributes or {}) for n, d in zip(names, desired)}


@dataclass
class MarketoExport:
    """What to export; :meth:`render` reads the instance and returns the manifest text."""

    channels: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    custom_objects: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    name: str = "exported-marketo"

    def render(self, conn: MarketoClient) -> str:
        """The manifest for the named channels, programs, custom objects and activities."""
        channels = read_live(conn, ChannelKind(), CHANNEL, self.channels, "channel")
        programs = read_live(conn, ProgramKind(), PROGRAM, self.programs, "program",
                             ask={"startDate": "", "endDate": ""})
        objects = read_live(conn, CustomObjectKind(), OBJECT, self.custom_objects, "custom object")
        activities = read_live(conn, CustomActivityKind(), ACTIVITY, self.activities, "custom activity")
        w = Writer()
        w.line(0, MODELINE)
        w.note(0, "Exported by `provisioner export marketo`.")
        w.line(0, "apiVersion: provisioner/v1")
        w.line(0, "kind: Marketo")
        w.line(0, "metadata:")
        w.key(2, "name", self.name)
        w.line(0, "spec:")
        if channels:
            w.line(2, "channels:")
            for name, live in channels.items():
                _write_channel(w, name, live)
        if programs:
            w.line(2, "programs:")
            for name, live in programs.items():
                _write_program(w, name, live)
        if objects:
            w.line(2, "customObjects:")
            for name, live in objects.items():
                _write_custom_object(w, name, live)
        if activities:
            w.line(2, "customActivities:")
            for name, live in activities.items():
                _write_activity(w, name, live)
        if not (channels or programs or objects or activities):
            w.note(2, "nothing was asked for: name --channel, --program, --custom-object or --activity")
            w.line(2, "channels: []")
        return w.text()


def _write_channel(w: Writer, name: str, live: dict[str, Any]) -> None:
    """A channel and its statuses ("Not in Program", which every channel has, left out)."""
    w.key(4, "- name", name)
    if live.get("programType") in CHANNEL_PROGRAM_TYPES:
        w.key(6, "programType", live["programType"])
    else:
        w.note(6, f"left out: programType {live.get('programType')!r} (not one the manifest expresses)")
    w.line(6, "statuses:")
    for status in live.get("statuses") or []:
        entry: dict[str, Any] = {"name": status["name"], "step": status["step"]}
        if status.get("success"):
            entry["success"] = True
        if status.get("hidden"):
            entry["hidden"] = True
        w.line(8, f"- {flow(entry)}")


def _write_program(w: Writer, name: str, live: dict[str, Any]) -> None:
    w.key(4, "- name", name)
    if live.get("type") in PROGRAM_TYPES:
        w.key(6, "type", live["type"])
    else:
        w.note(6, f"left out: type {live.get('type')!r} (not one the manifest expresses)")
    w.key(6, "channel", live.get("channel") or "")
    w.key(6, "folder", live.get("folder") or "")
    if live.get("description"):
        w.key(6, "description", live["description"])
    if live.get("type") in DATED_PROGRAM_TYPES:
        for key in ("startDate", "endDate"):
            if live.get(key):
                w.key(6, key, str(live[key])[:10])


def _approval(w: Writer, live: dict[str, Any]) -> None:
    """``approve: false`` for a type never approved; a comment for an approved type with a pending draft."""
    state = live.get("state")
    if state == "draft":
        w.key(6, "approve", False)
    elif state == "approved with draft":
        w.note(6, "This type has an unapproved draft; the draft is what is exported, and applying approves it.")


def _write_custom_object(w: Writer, name: str, live: dict[str, Any]) -> None:
    w.key(4, "- apiName", name)
    w.key(6, "displayName", live.get("displayName") or name)
    for key in ("pluralName", "description"):
        if live.get(key):
            w.key(6, key, live[key])
    if live.get("showInLeadDetail"):
        w.key(6, "showInLeadDetail", True)
    _approval(w, live)
    w.key(6, "dedupeFields", list(live.get("dedupeFields") or []))
    entries: list[str] = []
    for f in live.get("fields") or []:
        if f.get("dataType") not in FIELD_TYPES:
            entries.append(f"# left out: field {f.get('name')} (dataType {f.get('dataType')!r}; "
                           "not one the manifest expresses)")
            continue
        entry: dict[str, Any] = {"name": f["name"]}
        if f.get("displayName") and f["displayName"] != f["name"]:
            entry["displayName"] = f["displayName"]
        entry["dataType"] = f["dataType"]
        if f["dataType"] == "link":
            entry["relatedTo"] = dict(f.get("relatedTo") or {})
        if f.get("description"):
            entry["description"] = f["description"]
        entries.append(f"- {flow(entry)}")
    w.line(6, "fields:" if any(e.startswith("- ") for e in entries) else "fields: []")
    for line in entries:
        w.line(8, line)


def _attribute(a: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"apiName": a["apiName"]}
    if a.get("name") and a["name"] != a["apiName"]:
        entry["name"] = a["name"]
    entry["dataType"] = a["dataType"]
    if a.get("description"):
        entry["description"] = a["description"]
    return entry


def _write_activity(w: Writer, name: str, live: dict[str, Any]) -> None:
    primary = live.get("primaryAttribute") or {}
    if primary.get("dataType") not in ATTRIBUTE_TYPES or not primary.get("apiName"):
        w.note(4, f"left out: custom activity {name} (its primary attribute's dataType "
                  f"{primary.get('dataType')!r} is not one the manifest expresses)")
        return
    w.key(4, "- apiName", name)
    for key in ("name", "triggerName", "filterName", "description"):
        if live.get(key):
            w.key(6, key, live[key])
    _approval(w, live)
    w.key(6, "primaryAttribute", _attribute(primary))
    lines: list[str] = []
    for a in live.get("attributes") or []:
        if a.get("dataType") not in ATTRIBUTE_TYPES:
            lines.append(f"# left out: attribute {a.get('apiName')} (dataType {a.get('dataType')!r}; "
                         "not one the manifest expresses)")
        else:
            lines.append(f"- {flow(_attribute(a))}")
    if any(line.startswith("- ") for line in lines):
        w.line(6, "attributes:")
    for line in lines:
        w.line(8, line)
