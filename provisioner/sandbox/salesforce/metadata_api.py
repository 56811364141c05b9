"""The Metadata API (SOAP, ``/services/Soap/m/<version>``) for CustomObject, CustomField and PermissionSet.

Operations: readMetadata, createMetadata, updateMetadata, upsertMetadata, deleteMetadata,
listMetadata and describeMetadata, plus deploy/retrieve of zip packages (:mod:`.metadata_package`), answered in exactly the shapes of simple-salesforce's
``metadata.wsdl`` so that zeep parses them. Writes are partial (one SaveResult/UpsertResult/
DeleteResult per component); call-level limits (10 components of one type, 3 list queries)
are SOAP faults, as in a real org.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from ..httpserver import Request, Response
from . import dml, soap
from .auth import Authenticator
from .errors import error
from .mdxml import dict_to_xml, element_to_dict, xsi_type
from .metadata_package import PackageService
from .metadata_rules import check_custom_field, check_custom_object, check_permission_set, field_def
from .schema import STANDARD_OBJECT_NAMES, SObjectType, custom_object_fields
from .store import API_USER_ID, OrgStore

MAX_COMPONENTS = 10
MAX_LIST_QUERIES = 3
TYPES = ("CustomObject", "CustomField", "PermissionSet")
WRITE_OPERATIONS = ("createMetadata", "updateMetadata", "upsertMetadata")
OPERATIONS = WRITE_OPERATIONS + ("readMetadata", "deleteMetadata", "listMetadata", "describeMetadata", "deploy",
                                  "checkDeployStatus", "retrieve", "checkRetrieveStatus")

Errors = list[dict[str, Any]]


def operation_name(body: bytes) -> str:
    """The SOAP operation in a request body (for route names); "unknown" when unparsable."""
    try:
        _header, op = soap.parse_envelope(body)
    except soap.SoapError:
        return "unknown"
    return soap.local(op)


class MetadataService:
    """Serves Metadata API calls against an :class:`OrgStore`."""

    def __init__(self, store: OrgStore, auth: Authenticator) -> None:
        self.store = store
        self.auth = auth
        self.packages = PackageService(self)

    def handle(self, request: Request) -> Response:
        """Answer one SOAP request (session check, API limit, dispatch)."""
        try:
            header, op = soap.parse_envelope(request.body)
        except soap.SoapError as exc:
            return soap.fault("INVALID_REQUEST", str(exc))
        session_id = None
        if header is not None:
            for el in header.iter():
                if isinstance(el.tag, str) and soap.local(el) == "sessionId":
                    session_id = (el.text or "").strip()
        if self.auth.check(session_id) is None:
            return soap.fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
        name = soap.local(op)
        with self.store.lock:
            if not self.store.count_api_call():
                return soap.fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            handler: Callable[[Any], Response] | None = {
                "createMetadata": lambda o: self._write(o, "create"),
                "updateMetadata": lambda o: self._write(o, "update"),
                "upsertMetadata": lambda o: self._write(o, "upsert"),
                "readMetadata": self._read,
                "deleteMetadata": self._delete,
                "listMetadata": self._list,
                "describeMetadata": self._describe,
                "deploy": self.packages.deploy,
                "checkDeployStatus": self.packages.check_deploy_status,
                "retrieve": self.packages.retrieve,
                "checkRetrieveStatus": self.packages.check_retrieve_status,
            }.get(name)
            if handler is None:
                return soap.fault("INVALID_OPERATION", f"The sandbox does not emulate the Metadata API operation "
                                                       f"{name}")
            return handler(op)

    # -- writes -------------------------------------------------------------------
    def _write(self, op: Any, mode: str) -> Response:
        items = [c for c in op if isinstance(c.tag, str) and soap.local(c) == "metadata"]
        types = {xsi_type(c) for c in items}
        problem = self._call_limits(len(items), types)
        if problem:
            return problem
        results = []
        for item in items:
            md = element_to_dict(item)
            type_name = xsi_type(item) or ""
            full_name = str(md.get("fullName") or "")
            created = False
            if not full_name:
                errors = [error("REQUIRED_FIELD_MISSING", "Must specify a non-empty fullName", ["fullName"])]
            else:
                exists = self.exists(type_name, full_name)
                if mode == "create" or (mode == "upsert" and not exists):
                    errors = self.create(type_name, md)
                    created = not errors
                else:
                    errors = self.update(type_name, md)
            results.append(_save_result(full_name, errors, created if mode == "upsert" else None))
        tag = {"create": "createMetadataResponse", "update": "updateMetadataResponse",
               "upsert": "upsertMetadataResponse"}[mode]
        return Response.xml(soap.envelope(f"<{tag}>{''.join(results)}</{tag}>"))

    def _call_limits(self, count: int, types: set[str | None]) -> Response | None:
        if count > MAX_COMPONENTS:
            return soap.fault("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_COMPONENTS} "
                                                   f"records in this operation")
        if len(types) > 1:
            names = ", ".join(sorted(t or "?" for t in types))
            return soap.fault("INVALID_TYPE", f"All components in one call must be of the same type, got: {names}")
        unsupported = [t for t in types if t not in TYPES]
        if unsupported:
            return soap.fault("INVALID_TYPE", f"The sandbox does not emulate metadata type {unsupported[0]}")
        return None

    def exists(self, type_name: str, full_name: str) -> bool:
        if type_name == "CustomObject":
            return self.store.obj(full_name) is not None
        if type_name == "CustomField":
            obj_name, _, field_name = full_name.partition(".")
            obj = self.store.obj(obj_name)
            return bool(obj and obj.field(field_name) and obj.field(field_name).custom)  # type: ignore[union-attr]
        return full_name in self.store.permission_sets

    def create(self, type_name: str, md: dict[str, Any]) -> Errors:
        full_name = str(md["fullName"])
        if self.exists(type_name, full_name):
            what = {"CustomObject": "an object", "CustomField": "a field", "PermissionSet": "a permission set"}[type_name]
            return [error("DUPLICATE_DEVELOPER_NAME", f"There is already {what} named {full_name}.", ["fullName"])]
        if type_name == "CustomObject":
            return self._save_object(md, None)
        if type_name == "CustomField":
            return self._save_field(md, creating=True)
        return self._save_permission_set(md, creating=True)

    def update(self, type_name: str, md: dict[str, Any]) -> Errors:
        full_name = str(md["fullName"])
        if not self.exists(type_name, full_name):
            return [error("INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no {type_name} named {full_name} found",
                          ["fullName"])]
        if type_name == "CustomObject":
            return self._save_object(md, self.store.obj(full_name))
        if type_name == "CustomField":
            return self._save_field(md, creating=False)
        return self._save_permission_set(md, creating=False)

    def _save_object(self, md: dict[str, Any], existing: SObjectType | None) -> Errors:
        full_name = str(md["fullName"])
        errors = check_custom_object(self.store, md)
        fields = [dict(f) for f in md.get("fields") or []]
        for f in fields:
            errors += check_custom_field(self.store, full_name, f, pending_objects=(full_name,))
        if errors:
            return errors
        object_md = {k: copy.deepcopy(v) for k, v in md.items() if k != "fields"}
        if existing is None:
            obj = SObjectType(name=full_name, label=str(md["label"]), label_plural=str(md["pluralLabel"]),
                              key_prefix=self.store.next_custom_prefix(), custom=True, metadata=object_md)
            for f in custom_object_fields(md["nameField"]):
                obj.add(f)
            self.store.add_object(obj)
        else:
            obj = existing
            obj.metadata, obj.label, obj.label_plural = object_md, str(md["label"]), str(md["pluralLabel"])
            name_field = custom_object_fields(md["nameField"])[-1]
            obj.add(name_field)
        self.store.touch_component("CustomObject", full_name, "01I")
        for f in fields:
            self._put_field(obj, f)
        return []

    def _save_field(self, md: dict[str, Any], creating: bool) -> Errors:
        full_name = str(md["fullName"])
        obj_name, _, field_name = full_name.partition(".")
        obj = self.store.obj(obj_name)
        if obj is None or not field_name:
            return [error("INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no CustomObject named {obj_name} found",
                          ["fullName"])]
        own = dict(md, fullName=field_name)
        errors = check_custom_field(self.store, obj.name, own)
        if errors:
            return errors
        self._put_field(obj, own)
        return []

    def _put_field(self, obj: SObjectType, md: dict[str, Any]) -> None:
        self.store.drop_indexes(obj.name)
        f = field_def(md)
        existing = obj.field(f.name)
        obj.add(f)
        self.store.touch_component("CustomField", f"{obj.name}.{f.name}", "00N")
        if existing is None:
            for rec in self.store.all(obj.name):
                rec[f.name] = f.default_value
                if f.auto_number:
                    rec[f.name] = dml.auto_number(obj, md.get("displayFormat"))

    def _save_permission_set(self, md: dict[str, Any], creating: bool) -> Errors:
        errors = check_permission_set(self.store, md)
        if errors:
            return errors
        full_name = str(md["fullName"])
        clean = copy.deepcopy(md)
        if creating:
            row = self.store.insert_raw("PermissionSet", {"Name": full_name, "Label": md["label"],
                                                          "Description": md.get("description"),
                                                          "IsOwnedByProfile": False})
            self.store.permission_sets[full_name] = {"id": row["Id"], "metadata": clean}
        else:
            entry = self.store.permission_sets[full_name]
            entry["metadata"] = clean
            row = self.store.get("PermissionSet", entry["id"])
            if row:
                row.update({"Label": md["label"], "Description": md.get("description"),
                            "LastModifiedDate": self.store.now()})
        self.store.touch_component("PermissionSet", full_name, "0PS")
        return []

    # -- delete -------------------------------------------------------------------
    def _delete(self, op: Any) -> Response:
        type_name, names = _named_components(op)
        problem = self._call_limits(len(names), {type_name})
        if problem:
            return problem
        results = []
        for name in names:
            results.append(_save_result(name, self._delete_one(type_name, name), None))
        return Response.xml(soap.envelope(f"<deleteMetadataResponse>{''.join(results)}</deleteMetadataResponse>"))

    def _delete_one(self, type_name: str, name: str) -> Errors:
        if not self.exists(type_name, name) or (type_name == "CustomObject" and name in STANDARD_OBJECT_NAMES):
            return [error("INVALID_CROSS_REFERENCE_KEY", f"In field: fullName - no {type_name} named {name} found",
                          ["fullName"])]
        if type_name == "CustomObject":
            obj = self.store.obj(name)
            assert obj is not None
            self.store.remove_object(obj.name)
            self.store.forget_component("CustomObject", obj.name)
            for f in obj.fields.values():
                self.store.forget_component("CustomField", f"{obj.name}.{f.name}")
        elif type_name == "CustomField":
            obj_name, _, field_name = name.partition(".")
            obj = self.store.obj(obj_name)
            assert obj is not None
            f = obj.fields.pop(field_name.lower())
            self.store.drop_indexes(obj.name)
            for rec in self.store.all(obj.name):
                rec.pop(f.name, None)
            self.store.forget_component("CustomField", f"{obj.name}.{f.name}")
        else:
            entry = self.store.permission_sets.pop(name)
            self.store.delete_raw("PermissionSet", entry["id"])
            for a in self.store.all("PermissionSetAssignment"):
                if a["PermissionSetId"] == entry["id"]:
                    self.store.delete_raw("PermissionSetAssignment", a["Id"])
            self.store.forget_component("PermissionSet", name)
        return []

    # -- read / list / describe ------------------------------------------------------
    def _read(self, op: Any) -> Response:
        type_name, names = _named_components(op)
        problem = self._call_limits(len(names), {type_name})
        if problem:
            return problem
        records = []
        for name in names:
            data = self.read_one(type_name, name)
            records.append(dict_to_xml("records", data or {}, type_name=type_name))
        return Response.xml(soap.envelope(f"<readMetadataResponse><result>{''.join(records)}</result>"
                                          f"</readMetadataResponse>"))

    def read_one(self, type_name: str, name: str) -> dict[str, Any] | None:
        if type_name == "CustomObject":
            obj = self.store.obj(name)
            if obj is None:
                return None
            data = copy.deepcopy(obj.metadata) if obj.metadata else {"label": obj.label, "pluralLabel": obj.label_plural}
            data["fullName"] = obj.name
            fields = [copy.deepcopy(f.metadata) for f in obj.fields.values() if f.custom and f.metadata]
            if fields:
                data["fields"] = fields
            return data
        if type_name == "CustomField":
            obj_name, _, field_name = name.partition(".")
            obj = self.store.obj(obj_name)
            f = obj.field(field_name) if obj else None
            if obj is None or f is None:
                return None
            if f.metadata:
                return dict(copy.deepcopy(f.metadata), fullName=f"{obj.name}.{f.name}")
            return {"fullName": f"{obj.name}.{f.name}", "label": f.label}
        entry = self.store.permission_sets.get(name)
        return copy.deepcopy(entry["metadata"]) if entry else None

    def _list(self, op: Any) -> Response:
        queries = [element_to_dict(c) for c in op if isinstance(c.tag, str) and soap.local(c) == "queries"]
        if len(queries) > MAX_LIST_QUERIES:
            return soap.fault("LIMIT_EXCEEDED", f"Too many queries: {len(queries)} (a listMetadata call accepts at most "
                                                f"{MAX_LIST_QUERIES})")
        props = []
        for q in queries:
            type_name = str(q.get("type") or "")
            for full_name, file_name in self.components(type_name):
                props.append(self.file_properties(type_name, full_name, file_name))
        return Response.xml(soap.envelope(f"<listMetadataResponse>{''.join(props)}</listMetadataResponse>"))

    def components(self, type_name: str) -> list[tuple[str, str]]:
        if type_name == "CustomObject":
            return [(o.name, f"objects/{o.name}.object") for o in self.store.objects.values()]
        if type_name == "CustomField":
            return [(f"{o.name}.{f.name}", f"objects/{o.name}.object") for o in self.store.objects.values()
                    for f in o.fields.values() if f.custom]
        if type_name == "PermissionSet":
            return [(n, f"permissionsets/{n}.permissionset") for n in self.store.permission_sets]
        return []

    def file_properties(self, type_name: str, full_name: str, file_name: str, tag: str = "result") -> str:
        """One FileProperties element: ``<result>`` in listMetadata, ``<fileProperties>`` in a RetrieveResult."""
        return _file_properties(type_name, full_name, file_name,
                                self.store.components.get(f"{type_name}:{full_name}".lower()), tag)

    def _describe(self, op: Any) -> Response:
        objects = [
            ("CustomObject", "objects", "object", ["CustomField", "Index", "BusinessProcess", "CompactLayout",
                                                   "RecordType", "WebLink", "ValidationRule", "SharingReason",
                                                   "ListView", "FieldSet"]),
            ("PermissionSet", "permissionsets", "permissionset", []),
        ]
        parts = []
        for xml_name, directory, suffix, children in objects:
            kids = "".join(f"<childXmlNames>{c}</childXmlNames>" for c in children)
            parts.append(f"<metadataObjects>{kids}<directoryName>{directory}</directoryName><inFolder>false</inFolder>"
                         f"<metaFile>false</metaFile><suffix>{suffix}</suffix><xmlName>{xml_name}</xmlName>"
                         f"</metadataObjects>")
        body = (f"<describeMetadataResponse><result>{''.join(parts)}<organizationNamespace></organizationNamespace>"
                f"<partialSaveAllowed>true</partialSaveAllowed><testRequired>false</testRequired></result>"
                f"</describeMetadataResponse>")
        return Response.xml(soap.envelope(body))


def _named_components(op: Any) -> tuple[str, list[str]]:
    """The ``type`` and ``fullNames`` of a readMetadata/deleteMetadata request."""
    type_name = soap.child_text(op, "type") or ""
    return type_name, [c.text or "" for c in op if isinstance(c.tag, str) and soap.local(c) == "fullNames"]


def _save_result(full_name: str, errors: Errors, created: bool | None) -> str:
    parts = ["<result>"]
    if created is not None:
        parts.append(f"<created>{soap.text(created)}</created>")
    for e in errors:
        fields = "".join(f"<fields>{soap.text(f)}</fields>" for f in e.get("fields") or [])
        parts.append(f"<errors>{fields}<message>{soap.text(e['message'])}</message>"
                     f"<statusCode>{e['statusCode']}</statusCode></errors>")
    parts.append(f"<fullName>{soap.text(full_name)}</fullName><success>{soap.text(not errors)}</success></result>")
    return "".join(parts)


def _file_properties(type_name: str, full_name: str, file_name: str, info: dict[str, Any] | None,
                     tag: str = "result") -> str:
    created = _iso(info["created"]) if info else "1970-01-01T00:00:00.000Z"
    modified = _iso(info["modified"]) if info else created
    component_id = info["id"] if info else ""
    state = "" if info is None else "<manageableState>unmanaged</manageableState>"
    return (f"<{tag}><createdById>{API_USER_ID}</createdById><createdByName>Integration User</createdByName>"
            f"<createdDate>{created}</createdDate><fileName>{soap.text(file_name)}</fileName>"
            f"<fullName>{soap.text(full_name)}</fullName><id>{component_id}</id>"
            f"<lastModifiedById>{API_USER_ID}</lastModifiedById><lastModifiedByName>Integration User"
            f"</lastModifiedByName><lastModifiedDate>{modified}</lastModifiedDate>"
            f"{state}<type>{type_name}</type></{tag}>")


def _iso(stamp: str) -> str:
    """``2024-01-01T00:00:00.000+0000`` -> ``2024-01-01T00:00:00.000Z`` (xsd:dateTime)."""
    return stamp.replace("+0000", "Z")
