"""The org's state: schema, records, permission sets, API usage; snapshot/restore as JSON.

One :class:`OrgStore` per org. The HTTP server is threaded, so every reader and writer takes
``store.lock`` (re-entrant) for the whole of one API operation.
"""

from __future__ import annotations

import copy
import datetime as _dt
import threading
from collections import defaultdict
from typing import Any, Callable

from .schema import FieldDef, SObjectType, make_id, standard_objects, to15

ORG_ID = "00D5g000004SbxGEAS"
API_USER_ID = make_id("005", 1)
API_USERNAME = "integration@provisioner.sandbox"


class OrgStore:
    """Everything the emulated org knows; JSON-serialisable through :meth:`snapshot`."""

    def __init__(self, api_daily_limit: int = 100_000) -> None:
        self.lock = threading.RLock()
        self.api_daily_limit = api_daily_limit
        self.api_usage = 0
        self.objects: dict[str, SObjectType] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.permission_sets: dict[str, dict[str, Any]] = {}
        self._grants: tuple[str, list[Any], list[Any], dict[str, tuple[bool, bool]]] | None = None
        #: "Type:fullName" (lower) -> {"id", "created", "modified"} for listMetadata's FileProperties
        self.components: dict[str, dict[str, Any]] = {}
        #: table -> index name -> (key function, key -> record Ids); built on first use, kept up to date
        #: by insert_raw/delete_raw/reindex, so unique checks and upserts stay O(1) on big tables
        self._indexes: dict[str, dict[str, tuple[Callable[[dict[str, Any]], Any], dict[Any, set[str]]]]] = {}
        self._counter = 100
        self._custom_prefix = 0
        self._last_time = _dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc)
        for obj in standard_objects():
            self.add_object(obj)
        self.insert_raw("User", {
            "Id": API_USER_ID, "Username": API_USERNAME, "Email": API_USERNAME,
            "FirstName": "Integration", "LastName": "User", "Name": "Integration User", "IsActive": True,
        })
        self.insert_raw("Organization", {"Id": ORG_ID, "Name": "Provisioner Sandbox", "InstanceName": "SBX1",
                                         "IsSandbox": True, "OrganizationType": "Developer Edition"})

    # -- schema ---------------------------------------------------------------
    def add_object(self, obj: SObjectType) -> None:
        self.objects[obj.name.lower()] = obj
        self.records.setdefault(obj.name, {})

    def remove_object(self, name: str) -> None:
        obj = self.objects.pop(name.lower(), None)
        if obj:
            self.records.pop(obj.name, None)
            self.drop_indexes(obj.name)

    def obj(self, name: str) -> SObjectType | None:
        """The sObject type named ``name`` (case-insensitive), or None."""
        return self.objects.get(name.lower())

    def next_custom_prefix(self) -> str:
        """A key prefix for a new custom object (a00, a01, ...)."""
        self._custom_prefix += 1
        n = self._custom_prefix
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        return "a" + alphabet[(n // 36) % 36] + alphabet[n % 36]

    def object_for_id(self, record_id: str) -> SObjectType | None:
        """The type whose key prefix starts ``record_id``."""
        for obj in self.objects.values():
            if record_id[:3] == obj.key_prefix:
                return obj
        return None

    # -- records ----------------------------------------------------------------
    def new_id(self, obj: SObjectType) -> str:
        self._counter += 1
        return make_id(obj.key_prefix, self._counter)

    def now(self) -> str:
        """A server timestamp, strictly increasing, so "oldest record" is always well defined."""
        now = _dt.datetime.now(_dt.timezone.utc)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_time:
            now = self._last_time + _dt.timedelta(milliseconds=1)
        self._last_time = now
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"

    def insert_raw(self, type_name: str, values: dict[str, Any]) -> dict[str, Any]:
        """Store a record as given plus system fields (no rules: callers validate)."""
        obj = self.obj(type_name)
        assert obj is not None
        record: dict[str, Any] = {f.name: None for f in obj.fields.values()}
        record.update(values)
        record["Id"] = record.get("Id") or self.new_id(obj)
        stamp = self.now()
        record["CreatedDate"] = record["LastModifiedDate"] = record["SystemModstamp"] = stamp
        record["CreatedById"] = API_USER_ID
        record["IsDeleted"] = False
        if obj.field("OwnerId") and not record.get("OwnerId"):
            record["OwnerId"] = API_USER_ID
        for f in obj.fields.values():
            if record.get(f.name) is None and f.default_value is not None:
                record[f.name] = f.default_value
            if f.type == "boolean" and record.get(f.name) is None:
                record[f.name] = False
        self.records[obj.name][record["Id"]] = record
        self._index_add(obj.name, record)
        return record

    def get(self, type_name: str, record_id: str) -> dict[str, Any] | None:
        """A record by 15- or 18-character Id."""
        table = self.records.get(type_name, {})
        if record_id in table:
            return table[record_id]
        short = to15(record_id)
        for key, rec in table.items():
            if to15(key) == short:
                return rec
        return None

    def find(self, record_id: str) -> tuple[SObjectType, dict[str, Any]] | None:
        obj = self.object_for_id(record_id)
        if obj is None:
            return None
        rec = self.get(obj.name, record_id)
        return (obj, rec) if rec else None

    def all(self, type_name: str) -> list[dict[str, Any]]:
        return list(self.records.get(type_name, {}).values())

    def delete_raw(self, type_name: str, record_id: str) -> None:
        record = self.records.get(type_name, {}).pop(record_id, None)
        if record is not None:
            self._index_remove(type_name, record)

    # -- indexes ------------------------------------------------------------------------
    def lookup(self, table: str, name: str, key_of: Callable[[dict[str, Any]], Any], key: Any) -> list[dict[str, Any]]:
        """Records of ``table`` whose ``key_of(record) == key``, through the index called ``name``."""
        indexes = self._indexes.setdefault(table, {})
        if name not in indexes:
            built: dict[Any, set[str]] = defaultdict(set)
            for rec in self.records.get(table, {}).values():
                k = key_of(rec)
                if k is not None:
                    built[k].add(rec["Id"])
            indexes[name] = (key_of, built)
        rows = self.records.get(table, {})
        found = [rows[i] for i in indexes[name][1].get(key, ()) if i in rows]
        return sorted((r for r in found if key_of(r) == key), key=lambda r: r.get("CreatedDate") or "")

    def _index_add(self, table: str, record: dict[str, Any]) -> None:
        for key_of, mapping in self._indexes.get(table, {}).values():
            k = key_of(record)
            if k is not None:
                mapping[k].add(record["Id"])

    def _index_remove(self, table: str, record: dict[str, Any]) -> None:
        for key_of, mapping in self._indexes.get(table, {}).values():
            k = key_of(record)
            if k is not None and k in mapping:
                mapping[k].discard(record["Id"])

    def unindex(self, table: str, record: dict[str, Any]) -> None:
        """Take a record out of the indexes before changing it in place (then :meth:`reindex`)."""
        self._index_remove(table, record)

    def reindex(self, table: str, record: dict[str, Any]) -> None:
        self._index_add(table, record)

    def drop_indexes(self, table: str | None = None) -> None:
        """Forget indexes (after schema changes or a restore); they rebuild on next use."""
        if table is None:
            self._indexes.clear()
        else:
            self._indexes.pop(table, None)

    def touch_component(self, type_name: str, full_name: str, prefix: str) -> dict[str, Any]:
        """Record a metadata component's id and dates (created once, modified on every write)."""
        key = f"{type_name}:{full_name}".lower()
        stamp = self.now()
        info = self.components.get(key)
        if info is None:
            self._counter += 1
            info = {"id": make_id(prefix, self._counter), "created": stamp, "modified": stamp}
            self.components[key] = info
        info["modified"] = stamp
        return info

    def forget_component(self, type_name: str, full_name: str) -> None:
        self.components.pop(f"{type_name}:{full_name}".lower(), None)

    # -- field-level security -----------------------------------------------------
    def granted(self, user_id: str = API_USER_ID) -> dict[str, tuple[bool, bool]]:
        """``{"object.field" (lower): (readable, editable)}`` from permission sets assigned to the user.

        Asked for every record written: the answer is kept until an assignment or a permission set changes
        (a permission set's metadata is replaced on every write, never edited in place), so writing one
        record does not re-read every field permission of the org."""
        links = [(a["PermissionSetId"], a["AssigneeId"]) for a in self.all("PermissionSetAssignment")]
        metadata = [ps["metadata"] for ps in self.permission_sets.values()]
        cached = self._grants
        if (cached is not None and cached[0] == user_id and cached[1] == links and len(cached[2]) == len(metadata)
                and all(a is b for a, b in zip(cached[2], metadata))):
            return cached[3]
        grants = self._read_grants(user_id)
        self._grants = (user_id, links, metadata, grants)
        return grants

    def _read_grants(self, user_id: str) -> dict[str, tuple[bool, bool]]:
        assigned = {to15(a["PermissionSetId"]) for a in self.all("PermissionSetAssignment")
                    if to15(a["AssigneeId"]) == to15(user_id)}
        grants: dict[str, tuple[bool, bool]] = {}
        for ps in self.permission_sets.values():
            if to15(ps["id"]) not in assigned:
                continue
            for fp in ps["metadata"].get("fieldPermissions", []):
                key = str(fp.get("field", "")).lower()
                readable = bool(fp.get("readable")) or bool(fp.get("editable"))
                editable = bool(fp.get("editable"))
                old = grants.get(key, (False, False))
                grants[key] = (old[0] or readable, old[1] or editable)
        return grants

    def visible(self, obj: SObjectType, f: FieldDef, grants: dict[str, tuple[bool, bool]]) -> bool:
        """Whether the API user can see the field: standard, required, or granted readable."""
        if not f.custom or not f.nillable:
            return True
        return grants.get(f"{obj.name}.{f.name}".lower(), (False, False))[0]

    def editable(self, obj: SObjectType, f: FieldDef, grants: dict[str, tuple[bool, bool]]) -> bool:
        if not f.custom or not f.nillable:
            return True
        return grants.get(f"{obj.name}.{f.name}".lower(), (False, False))[1]

    def visible_fields(self, obj: SObjectType) -> list[FieldDef]:
        grants = self.granted()
        return [f for f in obj.fields.values() if self.visible(obj, f, grants)]

    # -- API usage ------------------------------------------------------------------
    def count_api_call(self) -> bool:
        """Count one API request; False when the daily limit was already reached."""
        if self.api_usage >= self.api_daily_limit:
            return False
        self.api_usage += 1
        return True

    def limit_info(self) -> str:
        return f"api-usage={self.api_usage}/{self.api_daily_limit}"

    # -- persistence ----------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole org as JSON-ready data."""
        with self.lock:
            return {
                "version": 1,
                "api_usage": self.api_usage,
                "counter": self._counter,
                "custom_prefix": self._custom_prefix,
                "last_time": self._last_time.isoformat(),
                "objects": [o.to_json() for o in self.objects.values()],
                "records": self.records,
                "permission_sets": self.permission_sets,
                "components": self.components,
            }

    #: tables a metadata deploy writes rows of (permission sets); their rows are checkpointed in full
    METADATA_TABLES = ("PermissionSet", "PermissionSetAssignment")

    def checkpoint(self) -> dict[str, Any]:
        """What a metadata deploy may change, to undo it with :meth:`rollback` (rollbackOnError,
        checkOnly): schema, permission sets and components in full; data rows only by Id, since a
        deploy adds rows and columns but never changes a data value. O(rows) Ids, not a deep copy."""
        with self.lock:
            return copy.deepcopy({
                "counter": self._counter, "custom_prefix": self._custom_prefix,
                "objects": [o.to_json() for o in self.objects.values()],
                "permission_sets": self.permission_sets, "components": self.components,
                "metadata_rows": {t: self.records.get(t, {}) for t in self.METADATA_TABLES},
            }) | {"ids": {t: set(rows) for t, rows in self.records.items() if t not in self.METADATA_TABLES}}

    def rollback(self, saved: dict[str, Any]) -> None:
        """Back to a :meth:`checkpoint`: rows added since are removed, columns added since dropped."""
        with self.lock:
            self._counter, self._custom_prefix = saved["counter"], saved["custom_prefix"]
            self.objects = {}
            for o in saved["objects"]:
                obj = SObjectType.from_json(o)
                self.objects[obj.name.lower()] = obj
            self.permission_sets, self.components = saved["permission_sets"], saved["components"]
            records: dict[str, dict[str, dict[str, Any]]] = dict(saved["metadata_rows"])
            for obj in self.objects.values():
                if obj.name in records:
                    continue
                keep = saved["ids"].get(obj.name, set())
                columns = {f.name for f in obj.fields.values()} | {"Id"}
                rows = {i: r for i, r in self.records.get(obj.name, {}).items() if i in keep}
                for row in rows.values():
                    for extra in [k for k in row if k not in columns]:
                        del row[extra]
                records[obj.name] = rows
            self.records = records
            self._indexes.clear()

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the org's state with a :meth:`snapshot` (the daily limit stays as configured)."""
        with self.lock:
            self.api_usage = int(data.get("api_usage", 0))
            self._counter = int(data["counter"])
            self._custom_prefix = int(data["custom_prefix"])
            self._last_time = _dt.datetime.fromisoformat(data["last_time"])
            self.objects = {}
            for o in data["objects"]:
                obj = SObjectType.from_json(o)
                self.objects[obj.name.lower()] = obj
            self.records = {name: dict(rows) for name, rows in data["records"].items()}
            self.permission_sets = dict(data["permission_sets"])
            self._indexes.clear()
            self.components = dict(data.get("components", {}))
