"""``marketo.program``: created in a folder given as a path (missing folders are created), or cloned from
another program (``cloneFrom``, Marketo's clone endpoint, for per-event programs); description and the
start/end dates of event programs updated in place; a different type or channel is a replacement
because Marketo fixes both at creation."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ....manifest.model import MarketoProgram
from ....manifest.rules_marketo import PROGRAM_ROOT, folder_parts
from ....plan import (Change, Desired, Live, MissingReference, Result, as_manual, as_replace, classify_default,
                     will_exist)
from .. import permissions
from ..client import MarketoClient
from ..errors import MarketoError
from .channel import KIND as CHANNEL_KIND
from .common import WritesAreas, address, failure, write_verified

KIND = "marketo.program"
A = "/rest/asset/v1"
BROWSE_PAGE = 200  # the asset API's maxReturn maximum
FIXED = ("type", "channel")


def desired_program(program: MarketoProgram, declared_channels: set[str]) -> Desired:
    """A manifest program: type, channel, folder path (no leading slash) and description."""
    attrs: dict[str, Any] = {"type": program.type, "channel": program.channel, "folder": _path(program.folder)}
    if program.description is not None:
        attrs["description"] = program.description
    for key, value in (("startDate", program.start_date), ("endDate", program.end_date),
                       ("cloneFrom", program.clone_from)):
        if value is not None:
            attrs[key] = value
    channel = address(CHANNEL_KIND, program.channel)
    return Desired(address(KIND, program.name), KIND, attrs, ensure=program.ensure,
                   depends_on=(channel,) if channel in declared_channels else (), location=program.location)


def _path(folder: str) -> str:
    """A folder path as the manifest writes it: ``Marketing Activities/Kaltura Events``."""
    return "/".join(folder_parts(folder))


def _record_path(record: dict[str, Any]) -> str:
    """A folder record's path in manifest terms. Instances with workspaces may show the workspace
    after the root (``/Marketing Activities/Default/Kaltura Events``); the manifest does not name it."""
    parts = _path(str(record.get("path") or "")).split("/")
    if len(parts) > 2 and record.get("workspace") and parts[1] == record["workspace"]:
        del parts[1]
    return "/".join(parts)


class Folders:
    """Folder paths ↔ ids, looked up at most once per path or id within one read or apply."""

    def __init__(self, conn: MarketoClient) -> None:
        self.conn = conn
        self.ids: dict[str, int | None] = {}
        self.paths: dict[int, str] = {}

    def find(self, path: str) -> int | None:
        """The id of the folder at ``path`` (one ``folder/byName`` call for its last name), or None."""
        if path not in self.ids:
            leaf = path.split("/")[-1]
            self.ids[path] = None
            for folder in self.conn.get(f"{A}/folder/byName.json", {"name": leaf}):
                found = _record_path(folder)
                self.paths[int(folder["id"])] = found
                self.ids.setdefault(found, int(folder["id"]))
                if found == path:
                    self.ids[path] = int(folder["id"])
        return self.ids[path]

    def path_of(self, folder_id: int) -> str:
        """The path of folder ``folder_id`` (one ``folder/{id}`` call unless already known)."""
        if folder_id not in self.paths:
            found = self.conn.get(f"{A}/folder/{folder_id}.json", {"type": "Folder"})
            self.paths[folder_id] = _record_path(found[0]) if found else f"(folder {folder_id})"
            self.ids.setdefault(self.paths[folder_id], folder_id)
        return self.paths[folder_id]

    def ensure(self, path: str) -> int:
        """The folder at ``path``, creating the missing tail of the path under its deepest existing folder."""
        parts = path.split("/")
        depth = len(parts)
        while depth > 0 and self.find("/".join(parts[:depth])) is None:
            depth -= 1
        if depth == 0:
            raise ValueError(f"folder {parts[0]!r} does not exist: programs live under {PROGRAM_ROOT}")
        parent = self.ids["/".join(parts[:depth])]
        for i in range(depth, len(parts)):
            prefix = "/".join(parts[: i + 1])
            form = {"name": parts[i], "parent": json.dumps({"id": parent, "type": "Folder"})}
            # Not idempotent (a second create is refused as a duplicate): after a lost reply, re-read.
            self.ids.pop(prefix, None)
            created = write_verified(lambda: self.conn.post_form(f"{A}/folders.json", form),
                                     lambda: self._forget(prefix) or self.find(prefix) is not None)
            self.ids[prefix] = int(created[0]["id"]) if created else self.find(prefix)
            parent = self.ids[prefix]
        assert parent is not None
        return parent

    def _forget(self, path: str) -> None:
        self.ids.pop(path, None)


#: What a plan says of a program's folder that apply will create.
MISSING_FOLDER = " will be created"


def _dates(after: dict[str, Any]) -> dict[str, Any]:
    """The dates a new program is given by a second call (create and clone take none)."""
    return {k: after[k] for k in ("startDate", "endDate") if after.get(k)}


#: From this many programs, reads browse the instance (200 a call) instead of one ``byName`` call each: from
#: two, one page answers for both on an instance of up to 200 programs, and a larger instance costs at most
#: 1.5 times the ``byName`` reads (see :func:`_browse`); one program is one call either way.
BROWSE_FROM = 2


def _name(program_address: str) -> str:
    name = program_address[len(KIND) + 1:]
    return json.loads(name) if name.startswith('"') else name


def _by_name(conn: MarketoClient, name: str) -> dict[str, Any] | None:
    records = [p for p in conn.get(f"{A}/program/byName.json", {"name": name}) if p.get("name") == name]
    return records[0] if records else None


def _channel_exists(conn: MarketoClient, name: str) -> bool:
    """One ``channel/byName`` call: does the instance have this channel?"""
    try:
        return any(c.get("name") == name for c in conn.get(f"{A}/channel/byName.json", {"name": name}) or [])
    except MarketoError as exc:
        if "not found" in exc.message.lower() or exc.code == "702":
            return False
        raise


def _dated(d: Desired) -> bool:
    """Browse results carry no dates: a program whose dates are managed is read by name."""
    return "startDate" in d.attributes or "endDate" in d.attributes


def _same_precision(live: Any, wanted: str) -> Any:
    """A live date in the precision the manifest writes (``2026-12-10`` vs ``2026-12-10T00:00:00Z``)."""
    if isinstance(live, str) and len(wanted) == 10:
        return live[:10]
    return live


def _browse(conn: MarketoClient, names: set[str]) -> dict[str, dict[str, Any] | None]:
    """Programs among ``names`` found by browsing, and the names known absent (None).

    Browsing stops as soon as every name is found, and after as many pages as the names would
    have cost one by one halved: on a large instance what is left is read by name, so this never
    costs more than 1.5 times the ``byName`` reads it replaces. An empty dict means: nothing learned.
    """
    seen: dict[str, dict[str, Any] | None] = {}
    budget = max(1, len(names) // 2)
    for records in itertools.islice(conn.browse(f"{A}/programs.json", page_size=BROWSE_PAGE), budget):
        for record in records:
            if record.get("name") in names:
                seen[record["name"]] = record
        if len(seen) == len(names):
            return seen
        if len(records) < BROWSE_PAGE:  # the last page: every other name is absent
            return {**{n: None for n in names}, **seen}
    return seen


class ProgramKind(WritesAreas):
    """Read with ``program/byName`` (one call a program) plus at most one folder call per distinct folder."""

    name = KIND
    areas = (permissions.ASSETS,)
    depends_on: tuple[str, ...] = (CHANNEL_KIND,)

    def __init__(self) -> None:
        # The folders seen by the last read; the engine re-reads just before applying, so apply
        # reuses them instead of looking the same paths up again.
        self._folders: Folders | None = None
        # Programs the last read saw (browsed or by name; None: known absent), so the clone sources
        # the reference check and apply need are looked up once, or not at all when browsing found them.
        self._known: dict[str, dict[str, Any] | None] = {}

    def read(self, conn: MarketoClient, desired: list[Desired]) -> dict[str, Live]:
        """Many programs (per-event runs): browse 200 a page, then ``byName`` only where dates are needed."""
        folders = self._folders = Folders(conn)
        names = {d.address: _name(d.address) for d in desired}
        sources = {d.attributes["cloneFrom"] for d in desired if d.attributes.get("cloneFrom")}
        browsed = _browse(conn, set(names.values()) | sources) if len(desired) >= BROWSE_FROM else {}
        self._known = dict(browsed)
        wanted = [names[d.address] for d in desired
                  if names[d.address] not in browsed or (browsed[names[d.address]] is not None and _dated(d))]
        # byName reads side by side: the client's limiter keeps them within Marketo's concurrency and rate.
        with ThreadPoolExecutor(max_workers=max(1, min(conn.limiter.budget.concurrent, len(wanted)))) as pool:
            by_name = dict(zip(wanted, pool.map(lambda n: _by_name(conn, n), wanted)))
        found: dict[str, Live] = {}
        for d in desired:
            name = names[d.address]
            program = by_name[name] if name in by_name else browsed.get(name)
            self._known[name] = program
            if program is None:
                if d.ensure == "present" and folders.find(d.attributes["folder"]) is None:
                    found[d.address] = Live(d.address, None, {"folder": f"{d.attributes['folder']}{MISSING_FOLDER}"})
                continue
            folder = program.get("folder") or {}
            path = folders.path_of(int(folder.get("value"))) if folder.get("value") is not None else ""
            attrs = {"type": program.get("type"), "channel": program.get("channel"), "folder": path,
                     "description": program.get("description") or ""}
            for key in ("startDate", "endDate"):
                if key in d.attributes:
                    attrs[key] = _same_precision(program.get(key), d.attributes[key])
            if "cloneFrom" in d.attributes:  # how a program is created, not a property of it: never a change
                attrs["cloneFrom"] = d.attributes["cloneFrom"]
            found[d.address] = Live(d.address, attrs, {"id": program.get("id")})
        return found

    def missing_references(self, conn: MarketoClient, desired: list[Desired],
                           planned: dict[str, Change]) -> list[MissingReference]:
        """A program to create needs its channel and the program it clones from to exist in the instance,
        or to be created by the same plan (channels never are)."""
        missing: list[MissingReference] = []
        channels: dict[str, bool] = {}  # looked up once per name, however many programs use it
        for d in desired:
            if planned[d.address].action not in ("create", "replace"):
                continue
            attrs = d.attributes

            def lacks(what: str, hint: str) -> None:
                missing.append(MissingReference(d.address, what, hint, d.location))

            channel = address(CHANNEL_KIND, attrs["channel"])
            exists = will_exist(planned.get(channel))
            source = attrs.get("cloneFrom")
            if exists is None and source and will_exist(planned.get(address(KIND, source))) is None:
                # A clone takes its source's channel: a source in that channel proves the channel exists.
                record = self._source(conn, source)
                if record is not None and record.get("channel") == attrs["channel"]:
                    exists = True
            if exists is None and attrs["channel"] not in channels:
                channels[attrs["channel"]] = _channel_exists(conn, attrs["channel"])
            if exists is False or (exists is None and not channels[attrs["channel"]]):
                lacks(f"channel '{attrs['channel']}' does not exist in the instance (Marketo's API cannot create "
                      "channels)", f"create it by hand in Admin > Tags > Channels (the manual step for {channel} "
                      "says how), then plan again")
            # The folder path needs no check: validate holds its root to Marketing Activities
            # (rule marketo.program-folder), a system folder every instance has, and apply creates the rest.
            if source:
                exists = will_exist(planned.get(address(KIND, source)))
                if exists is False or (exists is None and self._source(conn, source) is None):
                    lacks(f"the program to clone, '{source}', does not exist in the instance and this plan does not "
                          "create it", "apply the setup manifests that declare the template program first")
        return missing

    def _source(self, conn: MarketoClient, name: str) -> dict[str, Any] | None:
        """The program ``name`` as the last read saw it, else one ``byName`` call (remembered)."""
        if name not in self._known:
            self._known[name] = _by_name(conn, name)
        return self._known[name]

    def classify(self, desired: Desired, live: Live) -> Change:
        """Type or channel changed → replace; folder changed → manual (the API cannot move a program)."""
        change = classify_default(desired, live)
        if change.actions != ["update"]:
            return change
        changed = {c.attribute for c in change.diff}
        if changed & set(FIXED):
            return as_replace(change, "type and channel are fixed at creation")
        if "folder" in changed:
            name = desired.address[len(KIND) + 1:].strip('"')
            return as_manual(change, "Marketo's API cannot move a program to another folder", [
                "In Marketo, open Marketing Activities.",
                f'Drag the program "{name}" from {live.attributes["folder"]} into '   # type: ignore[index]
                f'{desired.attributes["folder"]} (create the folder first if it does not exist).',
            ] + (["Then run apply again to update the description."] if "description" in changed else []))
        return change

    def calls_for(self, changes: list[Change]) -> int:
        """One call per program write (delete, create or clone, update), one more to set the dates of a new
        program, one ``byName`` read per clone source this apply creates first (an existing source was found by
        the plan's read or reference check), one create per missing folder and one read per distinct parent of
        those folders (exact when the parents exist; each further missing level costs two more)."""
        calls, sources, folders, creating = 0, set(), set(), set()
        for change in changes:
            after = change.after or {}
            if "delete" in change.actions and change.info.get("id") is not None:
                calls += 1
            if "create" in change.actions:
                calls += 1 + int(bool(_dates(after)))
                creating.add(_name(change.address))
                if after.get("cloneFrom"):
                    sources.add(after["cloneFrom"])
                if str(change.info.get("folder", "")).endswith(MISSING_FOLDER):
                    folders.add(after["folder"])
            elif change.actions == ["update"]:
                calls += 1
        parents = {folder.rsplit("/", 1)[0] for folder in folders if "/" in folder}
        return calls + len(sources & creating) + len(folders) + len(parents)

    def apply(self, conn: MarketoClient, changes: list[Change]) -> list[Result]:
        conn.ensure_preflight(self.areas)
        folders = self._folders if self._folders is not None and self._folders.conn is conn else Folders(conn)
        # Folders first, one at a time (a folder is created once, however many programs go in it).
        paths = dict.fromkeys((c.after or {}).get("folder") for c in changes if "create" in c.actions)
        new_folders = {path for path in paths if path and folders.find(path) is None}
        for path in sorted(new_folders):
            try:
                folders.ensure(path)
            except Exception:  # noqa: BLE001 - each program in it reports the failure when it tries again
                pass

        def one(change: Change) -> Result:
            try:
                return self._apply_one(conn, folders, change, new_folders)
            except Exception as exc:  # one program failing must not stop the others
                return failure(change.address, change.action, exc)

        # Clones last and side by side (the client's limiter keeps them within Marketo's 10 at once and its
        # rate): each is two calls of its own, and a source this apply creates exists by then.
        clones = [c for c in changes if "create" in c.actions and (c.after or {}).get("cloneFrom")]
        done = {c.address: one(c) for c in changes if c not in clones}
        for source in dict.fromkeys((c.after or {})["cloneFrom"] for c in clones):
            try:
                if self._known.get(source) is None:  # unknown, or absent when read: this apply may have made it
                    self._known[source] = _by_name(conn, source)
            except Exception:  # noqa: BLE001 - the clones of this source report it
                pass
        with ThreadPoolExecutor(max_workers=max(1, min(conn.limiter.budget.concurrent, len(clones)))) as pool:
            done.update(zip((c.address for c in clones), pool.map(one, clones)))
        return [done[c.address] for c in changes]

    def _apply_one(self, conn: MarketoClient, folders: Folders, change: Change,
                   new_folders: set[str] | None = None) -> Result:
        name = change.address[len(KIND) + 1:]
        name = json.loads(name) if name.startswith('"') else name
        program_id = change.info.get("id")
        if "delete" in change.actions and program_id is not None:
            # Not idempotent (a second delete finds nothing): after a lost reply, re-read by name.
            write_verified(lambda: conn.post_form(f"{A}/program/{program_id}/delete.json", {}),
                           lambda: not conn.get(f"{A}/program/byName.json", {"name": name}))
        if change.actions == ["delete"]:
            return Result(change.address, True, change.action)
        after = change.after or {}
        if "create" in change.actions:
            created_folder = after["folder"] in (new_folders or set()) or folders.find(after["folder"]) is None
            folder_id = folders.ensure(after["folder"])
            folder = json.dumps({"id": folder_id, "type": "Folder"})
            if after.get("cloneFrom"):
                created = self._clone(conn, name, after, folder)
                if isinstance(created, Result):
                    return created
            else:
                form = {"name": name, "type": after["type"], "channel": after["channel"], "folder": folder,
                        "description": after.get("description", "")}
                # Not idempotent (names are unique): after a lost reply, re-read by name before creating again.
                try:
                    created = write_verified(lambda: conn.post_form(f"{A}/programs.json", form),
                                             lambda: bool(conn.get(f"{A}/program/byName.json", {"name": name})))
                except MarketoError as exc:
                    if "channel" in exc.message.lower() and "not found" in exc.message.lower():
                        return Result(change.address, False, change.action,
                                      f"{exc}; create the channel by hand first (the manual step for "
                                      f"{address(CHANNEL_KIND, after['channel'])}), then apply again")
                    raise
            if created is None:
                created = conn.get(f"{A}/program/byName.json", {"name": name})
            note = f"id {created[0]['id']}" if created else "created (confirmed by re-reading)"
            if after.get("cloneFrom"):
                note += f", cloned from {after['cloneFrom']}"
            dates = _dates(after)
            if dates and created:
                conn.post_form(f"{A}/program/{created[0]['id']}.json", dates, idempotent=True)
            if created_folder:
                note += f"; folder {after['folder']} created"
            return Result(change.address, True, change.action, note)
        # update: description and dates change in place (idempotent: the same values twice are harmless)
        form = {"description": after.get("description", "")}
        form.update({k: after[k] for k in ("startDate", "endDate") if after.get(k)})
        conn.post_form(f"{A}/program/{program_id}.json", form, idempotent=True)
        return Result(change.address, True, change.action)

    def _clone(self, conn: MarketoClient, name: str, after: dict[str, Any], folder: str) -> Any:
        """Clone ``cloneFrom`` into ``folder`` as ``name``: the clone keeps its source's contents."""
        source_name = after["cloneFrom"]
        record = self._source(conn, source_name)
        if record is None:  # absent when read: this apply may have just created it
            record = self._known[source_name] = _by_name(conn, source_name)
        source = int(record["id"]) if record is not None and record.get("id") is not None else None
        if source is None:
            return Result(address(KIND, name), False, "create",
                          f"the program to clone, '{source_name}', does not exist; apply the setup manifests "
                          "that declare it first")
        form = {"name": name, "folder": folder, "description": after.get("description", "")}
        # Not idempotent (names are unique): after a lost reply, re-read by name before cloning again.
        return write_verified(lambda: conn.post_form(f"{A}/program/{source}/clone.json", form),
                              lambda: bool(conn.get(f"{A}/program/byName.json", {"name": name})))
