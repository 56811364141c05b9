"""Bulk API 2.0 query jobs (``/services/data/vXX.X/jobs/query``): create, poll, read the results
as CSV pages by ``locator`` and ``maxRecords``, abort, delete, list.

A job runs its SOQL when it is created (through the same engine as REST queries) and reads back
as JobComplete. Results follow the Bulk API 2.0 Developer Guide, "Get Results for a Query Job":
header row on every page, ``Sforce-Locator`` naming the next page (the string ``null`` on the
last one), ``Sforce-NumberOfRecords``. Relationship columns are ``Parent.Field``; null is an
empty cell; booleans are ``true``/``false``. Aggregates, ``OFFSET`` and subqueries are refused,
as Bulk queries refuse them.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from ..httpserver import Request, Response
from . import soql
from .schema import make_id
from .store import API_USER_ID, OrgStore

OPERATIONS = ("query", "queryAll")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
MAX_RECORDS_DEFAULT = 50_000  # what a page holds when the client does not say (the vendor sizes it by bytes)


@dataclass
class QueryJob:
    """One query job and its result rows (header first)."""

    info: dict[str, Any]
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class QueryJobs:
    """Query jobs of one org (in memory; not part of the state file)."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store
        self.jobs: dict[str, QueryJob] = {}
        self._ids = itertools.count(1)

    def handle(self, request: Request, version: str, rest: list[str]) -> Response:
        """Route ``jobs/query[/<id>[/results]]`` (caller holds the store lock)."""
        m = request.method
        if not rest:
            if m == "POST":
                return self._create(request, version)
            if m == "GET":
                return Response.json({"done": True, "records": [j.info for j in self.jobs.values()],
                                      "nextRecordsUrl": None})
            return _error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{m}' not allowed. Allowed are GET,POST")
        job = self.jobs.get(rest[0])
        if job is None:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rest) == 1:
            if m == "GET":
                return Response.json(job.info)
            if m == "PATCH":
                return self._abort(request, job)
            if m == "DELETE":
                del self.jobs[rest[0]]
                return Response(204)
            return _error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{m}' not allowed. Allowed are GET,PATCH,DELETE")
        if len(rest) == 2 and rest[1] == "results" and m == "GET":
            return self._results(request, job)
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    def _create(self, request: Request, version: str) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            return _error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        text = body.get("query")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "INVALIDJOB", "InvalidJob : query is required for a query job")
        delimiter = body.get("columnDelimiter") or "COMMA"
        ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS or ending not in LINE_ENDINGS or (body.get("contentType") or "CSV") != "CSV":
            return _error(400, "INVALIDJOB", "InvalidJob : contentType must be CSV, columnDelimiter one of "
                                             f"{', '.join(DELIMITERS)}, lineEnding LF or CRLF")
        refused = _unsupported(text)
        if refused:
            return _error(400, "API_ERROR", refused)
        try:
            query = soql.parse(text)
            result = soql.execute(self.store, text, version)
        except soql.SoqlError as exc:
            return _error(400, exc.code, exc.message)
        obj = self.store.obj(query.obj_name)
        job_id = make_id("750", next(self._ids) + 50_000)
        stamp = self.store.now()
        info = {
            "id": job_id, "operation": operation, "object": obj.name if obj else query.obj_name,
            "createdById": API_USER_ID, "createdDate": stamp, "systemModstamp": stamp, "state": "UploadComplete",
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(version),
            "lineEnding": ending, "columnDelimiter": delimiter,
        }
        header = [path for path, _column in query.fields]
        job = QueryJob(info=dict(info, state="JobComplete", jobType="V2Query", numberRecordsProcessed=len(
            result.records), retries=0, totalProcessingTime=0, isPkChunkingSupported=True),
            header=header, rows=[[_cell(_value(r, path)) for path in header] for r in result.records])
        self.jobs[job_id] = job
        return Response.json(info)

    def _abort(self, request: Request, job: QueryJob) -> Response:
        try:
            state = (request.json() or {}).get("state")
        except (ValueError, AttributeError):
            return _error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if state != "Aborted":
            return _error(400, "INVALIDJOBSTATE", f"Invalid state for a query job: {state} (only Aborted is allowed)")
        if job.info["state"] in ("JobComplete", "Failed", "Aborted"):
            return _error(400, "INVALIDJOBSTATE", f"Job in state {job.info['state']} cannot be aborted")
        job.info["state"] = "Aborted"
        return Response.json(job.info)

    def _results(self, request: Request, job: QueryJob) -> Response:
        if job.info["state"] != "JobComplete":
            return _error(400, "INVALIDJOBSTATE", f"Results are not available for a job in state {job.info['state']}")
        try:
            start = int(request.arg("locator") or 0)
            size = int(request.arg("maxRecords") or MAX_RECORDS_DEFAULT)
        except ValueError:
            return _error(400, "INVALIDLOCATOR", "Invalid locator or maxRecords")
        if start < 0 or start > len(job.rows) or size < 1:
            return _error(400, "INVALIDLOCATOR", "Invalid locator or maxRecords")
        page = job.rows[start:start + size]
        following = start + len(page)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=DELIMITERS[job.info["columnDelimiter"]], quoting=csv.QUOTE_MINIMAL,
                            lineterminator=LINE_ENDINGS[job.info["lineEnding"]])
        writer.writerow(job.header)
        writer.writerows(page)
        headers = {"Content-Type": "text/csv", "Sforce-NumberOfRecords": str(len(page)),
                   "Sforce-Locator": str(following) if following < len(job.rows) else "null"}
        return Response(200, out.getvalue().encode("utf-8"), headers)


def _unsupported(text: str) -> str | None:
    """What Bulk API 2.0 queries refuse: aggregates, OFFSET, nested subqueries."""
    upper = text.upper()
    if re.search(r"\bCOUNT\s*\(|\bGROUP\s+BY\b|\b(SUM|AVG|MIN|MAX)\s*\(", upper):
        return "Aggregate Relationship is not supported in Bulk Query"
    if re.search(r"\bOFFSET\b", upper):
        return "OFFSET is not supported in Bulk Query"
    if re.search(r"\(\s*SELECT\b", upper):
        return "Nested queries are not supported in Bulk Query"
    return None


def _value(record: dict[str, Any], path: str) -> Any:
    """``Account.Name`` in a REST-shaped record, matched case-insensitively."""
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        key = next((k for k in node if k.lower() == part.lower()), None)
        node = node.get(key) if key else None
    return node


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _error(status: int, code: str, message: str) -> Response:
    return Response.json([{"errorCode": code, "message": message}], status=status)
