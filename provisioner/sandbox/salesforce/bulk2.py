"""Bulk API 2.0 ingest jobs (``/services/data/vXX.X/jobs/ingest``): create, upload CSV, close or abort,
poll, and read successful/failed/unprocessed results as CSV.

Rows go through the same :mod:`.dml` checks as REST writes. A job is processed when it is
closed (state UploadComplete) and reads back as JobComplete. CSV conventions are Salesforce's:
an empty cell leaves the field alone, ``#N/A`` sets it to null.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from ..httpserver import Request, Response
from . import dml
from .schema import make_id
from .store import API_USER_ID, OrgStore

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
Upsert = Callable[..., "dml.Outcome"]
OPERATIONS = ("insert", "update", "upsert", "delete")


@dataclass
class Job:
    """One ingest job and, once processed, its per-row results."""

    info: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    columns: list[str] = field(default_factory=list)
    successful: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    failed: list[tuple[str, str, list[str]]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)


class BulkService:
    """Ingest jobs for one org (jobs live in memory; they are not part of the state file)."""

    def __init__(self, store: OrgStore, upsert: Upsert = dml.upsert) -> None:
        self.store = store
        #: how one row is upserted: dml.upsert, or the REST service's race-aware wrapper
        self._upsert = upsert
        self.jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        #: Fault control (``POST /__sandbox/bulk/states``): the next jobs closed end in these states
        #: instead of JobComplete, one per job, in order. See :meth:`force_states`.
        self.forced_states: list[str] = []

    def handle(self, request: Request, version: str, rest: list[str]) -> Response:
        """Route ``jobs/ingest[/<id>[/batches|/successfulResults|...]]`` (caller holds the store lock)."""
        m = request.method
        if not rest:
            if m == "POST":
                return self._create(request, version)
            if m == "GET":
                return Response.json({"done": True, "records": [j.info for j in self.jobs.values()],
                                      "nextRecordsUrl": None})
            return _error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{m}' not allowed")
        job = self.jobs.get(rest[0])
        if job is None:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rest) == 1:
            if m == "GET":
                return Response.json(job.info)
            if m == "PATCH":
                return self._set_state(request, job)
            if m == "DELETE":
                if job.info["state"] not in ("JobComplete", "Aborted", "Failed"):
                    return _error(400, "INVALIDJOBSTATE", f"Job in state {job.info['state']} cannot be deleted")
                del self.jobs[rest[0]]
                return Response(204)
        if len(rest) == 2:
            part = rest[1]
            if part == "batches" and m == "PUT":
                return self._upload(request, job)
            if m == "GET" and part in ("successfulResults", "failedResults", "unprocessedrecords"):
                return self._results(job, part)
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    def _create(self, request: Request, version: str) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        obj = self.store.obj(str(body.get("object") or ""))
        if obj is None:
            return _error(400, "INVALIDENTITY", f"Entity '{body.get('object')}' is not supported by the Bulk API.")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            return _error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        ext = body.get("externalIdFieldName")
        if operation == "upsert":
            if not ext or dml.external_id_field(self.store, obj, str(ext)) is None:
                return _error(400, "INVALIDJOB", f"InvalidJob : Invalid external id field: {ext}")
        if (body.get("contentType") or "CSV") != "CSV":
            return _error(400, "INVALIDJOB", "InvalidJob : contentType must be CSV")
        if (body.get("columnDelimiter") or "COMMA") != "COMMA":
            return _error(400, "INVALIDJOB", "InvalidJob : the sandbox only supports columnDelimiter COMMA")
        job_id = make_id("750", next(self._ids))
        stamp = self.store.now()
        info = {
            "id": job_id, "operation": operation, "object": obj.name, "createdById": API_USER_ID,
            "createdDate": stamp, "systemModstamp": stamp, "state": "Open", "externalIdFieldName": ext,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(version),
            "contentUrl": f"services/data/v{version}/jobs/ingest/{job_id}/batches", "lineEnding":
                body.get("lineEnding") or "LF", "columnDelimiter": "COMMA", "jobType": "V2Ingest",
            "numberRecordsProcessed": 0, "numberRecordsFailed": 0, "retries": 0, "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0, "apexProcessingTime": 0, "errorMessage": None,
        }
        self.jobs[job_id] = Job(info=info)
        return Response.json(info)

    def _upload(self, request: Request, job: Job) -> Response:
        if job.info["state"] != "Open":
            return _error(409, "INVALIDJOBSTATE", f"Job's state does not allow uploads: {job.info['state']}")
        if len(job.data) + len(request.body) > MAX_UPLOAD_BYTES:
            return _error(400, "INVALIDJOB", "InvalidJob : Upload size exceeds the limit of 100 MB per job")
        job.data.extend(request.body)
        return Response(201)

    def _set_state(self, request: Request, job: Job) -> Response:
        try:
            state = (request.json() or {}).get("state")
        except (ValueError, AttributeError):
            return _error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        current = job.info["state"]
        if state == "Aborted" and current in ("Open", "UploadComplete"):
            job.info["state"] = "Aborted"
            job.unprocessed = self._rows(job)[1]
            return Response.json(job.info)
        if state == "UploadComplete" and current == "Open":
            job.info["state"] = "UploadComplete"
            response = Response.json(dict(job.info))
            if self.forced_states:
                self._end_in(job, self.forced_states.pop(0))
            else:
                self._process(job)
            return response
        return _error(400, "INVALIDJOBSTATE", f"Job in state {current} cannot be moved to {state}")

    def upsert_keys(self, job_id: str) -> tuple[str, str, list[str]] | None:
        """(object, external id field, key values) an open upsert job will write when closed, or None."""
        job = self.jobs.get(job_id)
        if job is None or job.info["operation"] != "upsert" or job.info["state"] != "Open":
            return None
        try:
            header, rows = self._rows(job)
        except (UnicodeDecodeError, csv.Error):
            return None
        field_name = str(job.info["externalIdFieldName"] or "")
        column = next((i for i, h in enumerate(header) if h.lower() == field_name.lower()), None)
        if column is None:
            return None
        return job.info["object"], field_name, [r[column] for r in rows if column < len(r) and r[column]]

    def force_states(self, states: list[str]) -> list[str]:
        """Make the next ``len(states)`` jobs closed end in these states (a fault control for clients'
        job state machines): ``Failed`` processes the first half of the rows, then fails with the rest
        unprocessed (as Salesforce does when a job fails part-way); ``Aborted`` or any other word (an
        undocumented state) processes nothing and leaves the job in that state."""
        self.forced_states.extend(str(s) for s in states)
        return list(self.forced_states)

    def _end_in(self, job: Job, state: str) -> None:
        header, rows = self._rows(job)
        if state == "Failed" and rows:
            half = len(rows) // 2
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows([header, *rows[:half]])
            job.data = bytearray(out.getvalue().encode("utf-8"))
            self._process(job)
            job.unprocessed = rows[half:]
            job.info.update(state="Failed", errorMessage="InternalServerError : the job failed part-way (sandbox "
                                                         "fault control)")
        else:
            job.columns = header
            job.unprocessed = rows
            job.info.update(state=state, errorMessage=None)
        job.info["systemModstamp"] = self.store.now()

    def _rows(self, job: Job) -> tuple[list[str], list[list[str]]]:
        text = job.data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        rows = [r for r in rows if r]
        if not rows:
            return [], []
        return rows[0], rows[1:]

    def _process(self, job: Job) -> None:
        obj = self.store.obj(job.info["object"])
        try:
            header, rows = self._rows(job)
        except (UnicodeDecodeError, csv.Error) as exc:
            job.info.update(state="Failed", errorMessage=f"InvalidBatch : Failed to parse CSV: {exc}")
            return
        job.columns = header
        if obj is None or not header:
            job.info.update(state="Failed", errorMessage="InvalidBatch : No content or object")
            return
        grants = self.store.granted()
        for column in header:
            f = obj.field(column)
            if f is None or not self.store.visible(obj, f, grants):
                job.info.update(state="Failed", errorMessage=f"InvalidBatch : Field name not found : {column}")
                job.unprocessed = rows
                return
        operation = job.info["operation"]
        ext_field = dml.external_id_field(self.store, obj, job.info["externalIdFieldName"] or "Id")
        for row in rows:
            values: dict[str, Any] = {}
            for column, cell in zip(header, row):
                if cell == "":
                    continue
                values[obj.field(column).name] = None if cell == "#N/A" else cell  # type: ignore[union-attr]
            record_id = str(values.get("Id") or "")
            if operation == "insert":
                outcome = dml.insert(self.store, obj, values)
            elif operation == "update":
                values.pop("Id", None)
                outcome = dml.update(self.store, obj, record_id, values)
            elif operation == "delete":
                outcome = dml.delete(self.store, record_id)
            else:
                assert ext_field is not None
                key = values.get(ext_field.name)
                outcome = self._upsert(obj, ext_field, key, values)
            job.info["numberRecordsProcessed"] += 1
            if outcome.errors:
                job.info["numberRecordsFailed"] += 1
                message = " ".join(f"{e['statusCode']}:{e['message']}:{','.join(e.get('fields') or [])} --"
                                   for e in outcome.errors)
                job.failed.append((outcome.id or "", message, row))
            else:
                job.successful.append((outcome.id or "", outcome.created, row))
        job.info["state"] = "JobComplete"
        job.info["systemModstamp"] = self.store.now()

    def _results(self, job: Job, part: str) -> Response:
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if part == "successfulResults":
            writer.writerow(["sf__Id", "sf__Created"] + job.columns)
            for record_id, created, row in job.successful:
                writer.writerow([record_id, "true" if created else "false"] + row)
        elif part == "failedResults":
            writer.writerow(["sf__Id", "sf__Error"] + job.columns)
            for record_id, message, row in job.failed:
                writer.writerow([record_id, message] + row)
        else:
            header = job.columns or (self._rows(job)[0] if job.data else [])
            writer.writerow(header)
            for row in job.unprocessed:
                writer.writerow(row)
        return Response(200, out.getvalue().encode("utf-8"), {"Content-Type": "text/csv"})


def _error(status: int, code: str, message: str) -> Response:
    return Response.json([{"errorCode": code, "message": message}], status=status)
