"""The REST data API (``/services/data/vXX.X/...``): versions, describe, sObject CRUD and upsert,
sObject Collections, SOQL query with paging, limits; Bulk API 2.0 is delegated to :mod:`.bulk2`.

Every authenticated response carries ``Sforce-Limit-Info: api-usage=N/M``; past the daily
limit calls get 403 ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded.".
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
from typing import Any
from urllib.parse import unquote

from ..httpserver import Request, Response
from . import composite, dml, soql
from .auth import Authenticator, invalid_session_rest
from .bulk2 import BulkService
from .errors import error
from .schema import SObjectType
from .store import OrgStore

MIN_VERSION = 50.0
LATEST_VERSION = "65.0"
COLLECTION_LIMIT = 200
QUERY_PAGE_SIZE = 2000
_VERSION = re.compile(r"^v(\d+\.\d)$")
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def rest_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-record errors in the single-record REST shape (``errorCode`` instead of ``statusCode``)."""
    return [{"message": e["message"], "errorCode": e["statusCode"], "fields": e.get("fields", [])} for e in errors]


def split_data_path(path: str) -> tuple[str | None, list[str]]:
    """``/services/data/v59.0/sobjects/Lead`` -> ("59.0", ["sobjects", "Lead"])."""
    parts = [unquote(p) for p in path.split("/")[3:] if p != ""]
    if not parts:
        return None, []
    m = _VERSION.match(parts[0])
    return (m.group(1) if m else ""), parts[1:]


class RestService:
    """Serves ``/services/data`` against an :class:`OrgStore`."""

    def __init__(self, store: OrgStore, auth: Authenticator, base_url: str = "") -> None:
        self.store = store
        self.auth = auth
        self.base_url = base_url
        self.bulk = BulkService(store)
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._cursor_ids = itertools.count(1)
        self._cursor_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        """Answer one REST request: versions list, auth, limits, then dispatch."""
        version, parts = split_data_path(request.path)
        if version is None:
            return Response.json([{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                                  for v in ("50.0", "55.0", "58.0", "59.0", "60.0", "61.0", "62.0", "63.0", "64.0",
                                            LATEST_VERSION)])
        if self.auth.check(self.auth.bearer(request)) is None:
            return invalid_session_rest()
        with self.store.lock:
            if not self.store.count_api_call():
                response = Response.json([{"message": "TotalRequests Limit exceeded.",
                                           "errorCode": "REQUEST_LIMIT_EXCEEDED"}], status=403)
            elif not version or float(version) < MIN_VERSION:
                response = Response.json(NOT_FOUND, status=404)
            else:
                response = self._dispatch(request, version, parts)
            response.headers["Sforce-Limit-Info"] = self.store.limit_info()
        return response

    def _dispatch(self, request: Request, version: str, parts: list[str]) -> Response:
        m = request.method
        head = parts[0] if parts else ""
        if not parts:
            return Response.json({k: f"/services/data/v{version}/{k}" for k in
                                  ("sobjects", "query", "queryAll", "limits", "composite", "jobs")})
        if head == "limits" and m == "GET":
            return Response.json({"DailyApiRequests": {"Max": self.store.api_daily_limit,
                                                       "Remaining": self.store.api_daily_limit - self.store.api_usage}})
        if head in ("query", "queryAll") and m == "GET":
            if len(parts) == 2:
                return self._query_more(version, parts[1])
            return self._query(request, version)
        if head == "composite" and len(parts) == 1 and m == "POST":
            return composite.handle(self, request, version)
        if head == "composite" and len(parts) >= 2 and parts[1] == "sobjects":
            return self._collections(request, version, parts[2:])
        if head == "jobs" and len(parts) >= 2 and parts[1] == "ingest":
            return self.bulk.handle(request, version, parts[2:])
        if head == "sobjects":
            return self._sobjects(request, version, parts[1:])
        return Response.json(NOT_FOUND, status=404)

    # -- sObjects ----------------------------------------------------------------------
    def _sobjects(self, request: Request, version: str, rest: list[str]) -> Response:
        m = request.method
        if not rest:
            if m != "GET":
                return _method_not_allowed(m)
            return Response.json({"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT, "sobjects": [
                self._object_summary(o, version) for o in self.store.objects.values()]})
        obj = self.store.obj(rest[0])
        if obj is None:
            return Response.json(NOT_FOUND, status=404)
        if len(rest) == 1:
            if m == "GET":
                return Response.json({"objectDescribe": self._object_summary(obj, version), "recentItems": []})
            if m == "POST":
                return self._create(request, obj)
            return _method_not_allowed(m)
        if len(rest) == 2 and rest[1] == "describe" and m == "GET":
            return Response.json(self._describe(obj, version))
        if len(rest) == 2:
            return self._by_id(request, version, obj, rest[1])
        if len(rest) == 3:
            return self._by_external_id(request, version, obj, rest[1], rest[2])
        return Response.json(NOT_FOUND, status=404)

    def _object_summary(self, obj: SObjectType, version: str) -> dict[str, Any]:
        return {
            "name": obj.name, "label": obj.label, "labelPlural": obj.label_plural, "keyPrefix": obj.key_prefix,
            "custom": obj.custom, "createable": obj.createable, "updateable": obj.updateable,
            "deletable": obj.deletable, "queryable": True, "retrieveable": True, "searchable": True,
            "urls": {"sobject": f"/services/data/v{version}/sobjects/{obj.name}",
                     "describe": f"/services/data/v{version}/sobjects/{obj.name}/describe",
                     "rowTemplate": f"/services/data/v{version}/sobjects/{obj.name}/{{ID}}"},
        }

    def _describe(self, obj: SObjectType, version: str) -> dict[str, Any]:
        data = self._object_summary(obj, version)
        grants = self.store.granted()
        fields = []
        for f in self.store.visible_fields(obj):
            d = f.describe()
            if not self.store.editable(obj, f, grants):
                d["createable"] = d["updateable"] = False
            fields.append(d)
        data.update({"fields": fields, "childRelationships": [], "recordTypeInfos": []})
        return data

    def _body(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        try:
            body = request.json()
        except ValueError:
            return None, Response.json([{"message": "The request body is not valid JSON",
                                         "errorCode": "JSON_PARSER_ERROR"}], status=400)
        if not isinstance(body, dict):
            return None, Response.json([{"message": "Can not deserialize SObject out of START_ARRAY token",
                                         "errorCode": "JSON_PARSER_ERROR"}], status=400)
        return body, None

    def _create(self, request: Request, obj: SObjectType) -> Response:
        body, problem = self._body(request)
        if problem or body is None:
            return problem or Response(400)
        outcome = dml.insert(self.store, obj, body)
        if outcome.errors:
            return Response.json(rest_errors(outcome.errors), status=400)
        return Response.json({"id": outcome.id, "success": True, "errors": []}, status=201)

    def _record_json(self, obj: SObjectType, record: dict[str, Any], version: str,
                     only: list[str] | None = None) -> dict[str, Any] | Response:
        out: dict[str, Any] = {"attributes": soql.attributes(obj.name, record["Id"], version)}
        visible = {f.name.lower(): f for f in self.store.visible_fields(obj)}
        names = only or [f.name for f in visible.values()]
        for name in names:
            f = visible.get(name.lower())
            if f is None:
                return Response.json(rest_errors([dml.no_such_column(obj, name)]), status=400)
            out[f.name] = record.get(f.name)
        return out

    def _by_id(self, request: Request, version: str, obj: SObjectType, record_id: str) -> Response:
        m = request.method
        if m == "GET":
            record = self.store.get(obj.name, record_id)
            if record is None:
                return Response.json(NOT_FOUND, status=404)
            only = [f.strip() for f in (request.arg("fields") or "").split(",") if f.strip()] or None
            shaped = self._record_json(obj, record, version, only)
            return shaped if isinstance(shaped, Response) else Response.json(shaped)
        if m == "PATCH":
            body, problem = self._body(request)
            if problem or body is None:
                return problem or Response(400)
            outcome = dml.update(self.store, obj, record_id, body)
            if outcome.errors:
                status = 404 if outcome.http_status == 404 else 400
                return Response.json(NOT_FOUND if status == 404 else rest_errors(outcome.errors), status=status)
            return Response(204)
        if m == "DELETE":
            if self.store.get(obj.name, record_id) is None:
                return Response.json(NOT_FOUND, status=404)
            outcome = dml.delete(self.store, record_id)
            if outcome.errors:
                return Response.json(rest_errors(outcome.errors), status=400)
            return Response(204)
        return _method_not_allowed(m)

    def _by_external_id(self, request: Request, version: str, obj: SObjectType, field_name: str,
                        value: str) -> Response:
        f = dml.external_id_field(self.store, obj, field_name)
        if f is None:
            return Response.json([{"errorCode": "NOT_FOUND", "message": f"Provided external ID field does not exist "
                                                                        f"or is not accessible: {field_name}"}],
                                 status=404)
        m = request.method
        if m == "GET":
            matches = dml.find_by_external_id(self.store, obj, f, value)
            if not matches:
                return Response.json(NOT_FOUND, status=404)
            if len(matches) > 1:
                return Response.json([f"/services/data/v{version}/sobjects/{obj.name}/{r['Id']}" for r in matches],
                                     status=300)
            shaped = self._record_json(obj, matches[0], version)
            return shaped if isinstance(shaped, Response) else Response.json(shaped)
        if m == "PATCH":
            body, problem = self._body(request)
            if problem or body is None:
                return problem or Response(400)
            outcome = dml.upsert(self.store, obj, f, value, body)
            if outcome.http_status == 300:
                matches = dml.find_by_external_id(self.store, obj, f, value)
                return Response.json([f"/services/data/v{version}/sobjects/{obj.name}/{r['Id']}" for r in matches],
                                     status=300)
            if outcome.errors:
                return Response.json(rest_errors(outcome.errors), status=outcome.http_status)
            return Response.json({"id": outcome.id, "success": True, "errors": [], "created": outcome.created},
                                 status=201 if outcome.created else 200)
        if m == "DELETE":
            matches = dml.find_by_external_id(self.store, obj, f, value)
            if len(matches) != 1:
                return Response.json(NOT_FOUND, status=404 if not matches else 300)
            outcome = dml.delete(self.store, matches[0]["Id"])
            return Response(204) if not outcome.errors else Response.json(rest_errors(outcome.errors), status=400)
        return _method_not_allowed(m)

    # -- collections ---------------------------------------------------------------------
    def _collections(self, request: Request, version: str, rest: list[str]) -> Response:
        m = request.method
        if m == "DELETE" and not rest:
            ids = [i for i in (request.arg("ids") or "").split(",") if i]
            all_or_none = (request.arg("allOrNone") or "false").lower() == "true"
            if len(ids) > COLLECTION_LIMIT:
                return _too_many()
            return self._run_all(all_or_none, [lambda i=i: dml.delete(self.store, i) for i in ids], created=False)
        body, problem = self._body(request)
        if problem or body is None:
            return problem or Response(400)
        records = body.get("records")
        if not isinstance(records, list):
            return Response.json([{"message": "Missing records", "errorCode": "INVALID_FIELD"}], status=400)
        if len(records) > COLLECTION_LIMIT:
            return _too_many()
        all_or_none = bool(body.get("allOrNone"))
        if m == "POST" and not rest:
            return self._run_all(all_or_none, [lambda r=r: self._collection_insert(r) for r in records], created=False)
        if m == "PATCH" and not rest:
            return self._run_all(all_or_none, [lambda r=r: self._collection_update(r) for r in records], created=False)
        if m == "PATCH" and len(rest) == 2:
            obj = self.store.obj(rest[0])
            if obj is None:
                return Response.json(NOT_FOUND, status=404)
            f = dml.external_id_field(self.store, obj, rest[1])
            if f is None:
                return Response.json([{"errorCode": "INVALID_FIELD", "message": f"Field name provided, {rest[1]} is "
                                                                                f"not an External ID or indexed field "
                                                                                f"for {obj.name}"}], status=400)
            seen: dict[str, int] = {}
            for r in records:
                key = str(r.get(f.name) if r.get(f.name) is not None else "")
                key = key if f.case_sensitive else key.lower()
                seen[key] = seen.get(key, 0) + 1
            return self._run_all(all_or_none, [lambda r=r: self._collection_upsert(obj, f, r, seen) for r in records],
                                 created=True)
        return _method_not_allowed(m)

    def _record_type(self, record: dict[str, Any]) -> SObjectType | dml.Outcome:
        type_name = (record.get("attributes") or {}).get("type") if isinstance(record, dict) else None
        obj = self.store.obj(type_name) if type_name else None
        if obj is None:
            outcome = dml.Outcome()
            outcome.errors.append(error("INVALID_TYPE", "Must send a concrete entity type." if not type_name else
                                        f"sObject type '{type_name}' is not supported."))
            return outcome
        return obj

    def _collection_insert(self, record: dict[str, Any]) -> dml.Outcome:
        obj = self._record_type(record)
        if isinstance(obj, dml.Outcome):
            return obj
        if record.get("Id"):
            outcome = dml.Outcome()
            outcome.errors.append(error("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]))
            return outcome
        return dml.insert(self.store, obj, record)

    def _collection_update(self, record: dict[str, Any]) -> dml.Outcome:
        obj = self._record_type(record)
        if isinstance(obj, dml.Outcome):
            return obj
        record_id = record.get("Id") or record.get("id")
        if not record_id:
            outcome = dml.Outcome()
            outcome.errors.append(error("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]))
            return outcome
        return dml.update(self.store, obj, str(record_id), record)

    def _collection_upsert(self, obj: SObjectType, f: Any, record: dict[str, Any], seen: dict[str, int]) -> dml.Outcome:
        value = record.get(f.name)
        key = str(value if value is not None else "")
        if seen.get(key if f.case_sensitive else key.lower(), 0) > 1:
            outcome = dml.Outcome()
            outcome.errors.append(error("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", [f.name]))
            return outcome
        given = (record.get("attributes") or {}).get("type")
        if given and given.lower() != obj.name.lower():
            outcome = dml.Outcome()
            outcome.errors.append(error("INVALID_TYPE", f"Record type {given} does not match {obj.name}"))
            return outcome
        if value in (None, "") and f.type != "id":
            outcome = dml.Outcome()
            outcome.errors.append(error("MISSING_ARGUMENT", f"{f.name} not specified", [f.name]))
            return outcome
        return dml.upsert(self.store, obj, f, value, record)

    def _run_all(self, all_or_none: bool, calls: list[Any], created: bool) -> Response:
        saved = copy.deepcopy(self.store.records) if all_or_none else None
        outcomes = [call() for call in calls]
        failed = any(o.errors for o in outcomes)
        if all_or_none and failed and saved is not None:
            self.store.records = saved
        rolled_back = all_or_none and failed
        results = []
        for o in outcomes:
            errors = o.errors
            if rolled_back and not errors:
                errors = [error("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were "
                                                                     "valid and the request was using AllOrNone header")]
            item: dict[str, Any] = {"id": None if errors else o.id, "success": not errors, "errors": errors}
            if created:
                item["created"] = bool(o.created) and not errors
            results.append(item)
        return Response.json(results)

    # -- query -------------------------------------------------------------------------------
    def _query(self, request: Request, version: str) -> Response:
        text = request.arg("q")
        if not text:
            return Response.json([{"message": "A query string must be specified", "errorCode": "MALFORMED_QUERY"}],
                                 status=400)
        try:
            result = soql.execute(self.store, text, version)
        except soql.SoqlError as exc:
            return Response.json([{"message": exc.message, "errorCode": exc.code}], status=400)
        return self._page(version, result.total, result.records)

    def _page(self, version: str, total: int, records: list[dict[str, Any]]) -> Response:
        page, remaining = records[:QUERY_PAGE_SIZE], records[QUERY_PAGE_SIZE:]
        body: dict[str, Any] = {"totalSize": total, "done": not remaining, "records": page}
        if remaining:
            with self._cursor_lock:
                locator = f"01g5g00000{next(self._cursor_ids):08d}"
                self._cursors[locator] = remaining
            offset = total - len(remaining)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{offset}"
        return Response.json(body)

    def _query_more(self, version: str, token: str) -> Response:
        locator, _, _offset = token.partition("-")
        with self._cursor_lock:
            remaining = self._cursors.pop(locator, None)
        if remaining is None:
            return Response.json([{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}],
                                 status=400)
        total = int(_offset or 0) + len(remaining)
        page, rest = remaining[:QUERY_PAGE_SIZE], remaining[QUERY_PAGE_SIZE:]
        body: dict[str, Any] = {"totalSize": total, "done": not rest, "records": page}
        if rest:
            with self._cursor_lock:
                self._cursors[locator] = rest
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{total - len(rest)}"
        return Response.json(body)


def _too_many() -> Response:
    return Response.json([{"message": f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into "
                                      f"this call", "errorCode": "EXCEEDED_ID_LIMIT"}], status=400)


def _method_not_allowed(method: str) -> Response:
    return Response.json([{"errorCode": "METHOD_NOT_ALLOWED",
                           "message": f"HTTP Method '{method}' not allowed. Allowed are GET,HEAD,POST,PATCH,DELETE"}],
                         status=405)
