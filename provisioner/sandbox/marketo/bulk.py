"""Bulk imports (``/bulk/v1/``): leads, custom objects and program members, processed in the background.

Two workers process at most ``bulk_max_processing`` batches at once after ``bulk_delay_s``; at most
``bulk_max_queued`` batches may be in the queue at any time, the processing ones included (Adobe: "A
maximum of 10 jobs are allowed in the queue at any given time (including the two currently being
processed)"); one more is refused with 1016. Clients see ``Queued`` → ``Importing`` → ``Complete``
and must poll.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from typing import TYPE_CHECKING, Any

from ..httpserver import Response
from . import customobjects, errors, leads
from .context import CallContext
from .errors import ApiError
from .state import next_id, now_iso

if TYPE_CHECKING:
    from .app import MarketoApp

DELIMITERS = {"csv": ",", "tsv": "\t", "ssv": ";"}
ACTIVE = ("Queued", "Importing")


class BulkWorkers:
    """The background processing of queued import batches."""

    def __init__(self, app: "MarketoApp") -> None:
        self.app = app
        self._wake = threading.Condition(app.lock)
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def notify(self) -> None:
        """Wake a worker: a batch was queued (caller holds the app lock). Workers start on first use."""
        if not self._threads and not self._stopping:
            self._threads = [threading.Thread(target=self._run, name=f"marketo-bulk-{i}", daemon=True)
                             for i in range(self.app.config.bulk_max_processing)]
            for thread in self._threads:
                thread.start()
        self._wake.notify_all()

    def stop(self) -> None:
        """Let the workers finish the batch in hand and exit (queued batches stay queued)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.app.config.bulk_delay_s + 5)
        self._threads = []

    def _run(self) -> None:
        while True:
            with self._wake:
                batch = self._next_queued()
                while batch is None and not self._stopping:
                    self._wake.wait(timeout=1.0)
                    batch = self._next_queued()
                if self._stopping:
                    return
                batch["status"] = "Importing"
            time.sleep(self.app.config.bulk_delay_s)
            with self.app.lock:
                if self.app.state["batches"].get(str(batch["batchId"])) is batch:
                    _process(self.app, batch)

    def _next_queued(self) -> dict[str, Any] | None:
        queued = [b for b in self.app.state["batches"].values() if b["status"] == "Queued"]
        return min(queued, key=lambda b: b["batchId"]) if queued else None


def _rows(ctx: CallContext, fmt: str, max_bytes: int) -> tuple[list[str], list[dict[str, str]]]:
    data = ctx.file("file")
    if len(data) >= max_bytes:  # "so long as the file totals less than 10MB in size"
        raise ApiError(errors.INVALID_DATA, f"Import file exceeds {max_bytes // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(errors.INVALID_DATA, "Import file must be UTF-8")
    reader = csv.DictReader(io.StringIO(text), delimiter=DELIMITERS[fmt])
    header = list(reader.fieldnames or [])
    if not header:
        raise ApiError(errors.INVALID_DATA, "Import file has no header row")
    return header, [dict(row) for row in reader]


def _format(ctx: CallContext) -> str:
    fmt = (ctx.query("format") or "").lower()
    if fmt not in DELIMITERS:
        raise ApiError(errors.INVALID_DATA, "format must be csv, tsv or ssv")
    return fmt


def _enqueue(app: "MarketoApp", kind: str, header: list[str], rows: list[dict[str, str]],
             **extra: Any) -> dict[str, Any]:
    active = [b for b in app.state["batches"].values() if b["status"] in ACTIVE]
    if len(active) >= app.config.bulk_max_queued:  # the processing ones count: 10 in all, not 2 + 10
        raise ApiError(errors.TOO_MANY_IMPORTS, "Too many imports")
    batch_id = next_id(app.state, "batch")
    batch = {"batchId": batch_id, "importId": str(batch_id), "kind": kind, "status": "Queued", "header": header,
             "rows": rows, "processed": 0, "failures": [], "warnings": [], "createdAt": now_iso(), **extra}
    app.state["batches"][str(batch_id)] = batch
    app.bulk.notify()
    return batch


def _process(app: "MarketoApp", batch: dict[str, Any]) -> None:
    """Apply a batch row by row through the same rules as the REST calls; failed rows keep their reason."""
    handlers = {"leads": _lead_rows, "customObject": _custom_object_rows, "programMembers": _member_rows}
    try:
        _check_header(app, batch)
        outcomes = handlers[batch["kind"]](app, batch)
    except ApiError as exc:
        batch.update(status="Failed", message=exc.message, rows=[])
        return
    for row, outcome in zip(batch["rows"], outcomes):
        if outcome.get("status") == "skipped":
            batch["failures"].append((row, "; ".join(r["message"] for r in outcome.get("reasons", []))))
        else:
            batch["processed"] += 1
    batch["rows"] = []
    batch["status"] = "Complete"
    batch["message"] = "Import succeeded" if not batch["failures"] else "Import completed with errors"


def _check_header(app: "MarketoApp", batch: dict[str, Any]) -> None:
    """Marketo fails the whole batch when a column names no field."""
    if batch["kind"] == "customObject":
        model = customobjects.approved_model(app, batch["objectApiName"])
        known = {f["name"] for f in model["fields"]}
    else:
        known = set(leads.LEAD_FIELDS)
    unknown = [column for column in batch["header"] if column not in known]
    if unknown:
        raise ApiError(errors.FIELD_NOT_FOUND, f"Field '{unknown[0]}' not found")


def _lead_rows(app: "MarketoApp", batch: dict[str, Any]) -> list[dict[str, Any]]:
    outcomes = []
    for row in batch["rows"]:
        outcomes.extend(leads.upsert_leads(app, [{k: v for k, v in row.items() if v not in (None, "")}],
                                           "createOrUpdate", batch["lookupField"]))
    return outcomes


def _custom_object_rows(app: "MarketoApp", batch: dict[str, Any]) -> list[dict[str, Any]]:
    records = [{k: v for k, v in row.items() if v not in (None, "")} for row in batch["rows"]]
    return customobjects.upsert_records(app, batch["objectApiName"], records, "createOrUpdate", "dedupeFields")


def _member_rows(app: "MarketoApp", batch: dict[str, Any]) -> list[dict[str, Any]]:
    outcomes = []
    for row in batch["rows"]:
        lead_rows = leads.upsert_leads(app, [{k: v for k, v in row.items() if v not in (None, "")}],
                                       "createOrUpdate", "email")
        if lead_rows[0]["status"] == "skipped":
            outcomes.append(lead_rows[0])
            continue
        moved = leads.set_member_status(app, batch["programId"], batch["programMemberStatus"], [lead_rows[0]["id"]])
        # already at or past the status is not a failure of the import: the member is where it should be
        outcomes.append(moved[0] if moved[0]["status"] != "skipped" or moved[0]["reasons"][0]["code"] !=
                        errors.LEAD_SKIPPED else {"status": "updated"})
    return outcomes


# -- views --------------------------------------------------------------------------------

def _lead_view(batch: dict[str, Any]) -> dict[str, Any]:
    view = {"batchId": batch["batchId"], "importId": batch["importId"], "status": batch["status"],
            "numOfLeadsProcessed": batch["processed"], "numOfRowsFailed": len(batch["failures"]),
            "numOfRowsWithWarning": len(batch["warnings"])}
    if batch.get("message"):
        view["message"] = batch["message"]
    return view


def _custom_object_view(batch: dict[str, Any]) -> dict[str, Any]:
    view = {"batchId": batch["batchId"], "operation": "import", "objectApiName": batch["objectApiName"],
            "status": batch["status"], "numOfObjectsProcessed": batch["processed"],
            "numOfRowsFailed": len(batch["failures"]), "numOfRowsWithWarning": len(batch["warnings"]),
            "importTime": batch["createdAt"]}
    if batch.get("message"):
        view["message"] = batch["message"]
    return view


def _member_view(batch: dict[str, Any]) -> dict[str, Any]:
    return {"batchId": batch["batchId"], "importId": batch["importId"], "status": batch["status"],
            "numOfLeadsProcessed": batch["processed"], "numOfRowsFailed": len(batch["failures"]),
            "numOfRowsWithWarning": len(batch["warnings"])}


def _batch(app: "MarketoApp", ctx: CallContext, kind: str) -> dict[str, Any]:
    batch = app.state["batches"].get(ctx.path_params["batchId"])
    if batch is None or batch["kind"] != kind or (
            kind == "customObject" and batch["objectApiName"] != ctx.path_params["apiName"]):
        raise ApiError(errors.OBJECT_NOT_FOUND, f"Batch '{ctx.path_params['batchId']}' not found")
    return batch


def _csv_reply(batch: dict[str, Any], which: str) -> Response:
    """Failures or warnings as Marketo returns them: the rows as sent plus a reason column (text/csv)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = batch["header"] or ["row"]
    writer.writerow(header + [f"Import {'Failure' if which == 'failures' else 'Warning'} Reason"])
    for row, why in batch[which]:
        writer.writerow([row.get(h, "") for h in header] + [why])
    return Response.text(out.getvalue(), content_type="text/csv;charset=UTF-8")


# -- handlers ------------------------------------------------------------------------------

def import_leads(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /bulk/v1/leads.json`` (multipart): queue a lead import."""
    fmt = _format(ctx)
    lookup = ctx.query("lookupField") or "email"
    if lookup not in leads.SEARCHABLE:
        raise ApiError(errors.INVALID_DATA, f"Invalid lookupField '{lookup}'")
    ctx.query("partitionName")
    ctx.query("listId")
    header, rows = _rows(ctx, fmt, app.config.max_bulk_file_bytes)
    return {"result": [_lead_view(_enqueue(app, "leads", header, rows, lookupField=lookup))]}


def lead_batch(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``GET /bulk/v1/leads/batch/{batchId}.json``: the import's status and counts."""
    return {"result": [_lead_view(_batch(app, ctx, "leads"))]}


def lead_failures(app: "MarketoApp", ctx: CallContext) -> Response:
    """``…/failures.json``: the failed rows as CSV."""
    return _csv_reply(_batch(app, ctx, "leads"), "failures")


def lead_warnings(app: "MarketoApp", ctx: CallContext) -> Response:
    """``…/warnings.json``: rows with warnings as CSV."""
    return _csv_reply(_batch(app, ctx, "leads"), "warnings")


def import_custom_objects(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /bulk/v1/customobjects/{apiName}/import.json``: queue an import into an approved type."""
    api_name = ctx.path_params["apiName"]
    customobjects.approved_model(app, api_name)
    fmt = _format(ctx)
    header, rows = _rows(ctx, fmt, app.config.max_bulk_file_bytes)
    return {"result": [_custom_object_view(_enqueue(app, "customObject", header, rows, objectApiName=api_name))]}


def custom_object_batch(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/import/{batchId}/status.json``: the import's status and counts."""
    return {"result": [_custom_object_view(_batch(app, ctx, "customObject"))]}


def custom_object_failures(app: "MarketoApp", ctx: CallContext) -> Response:
    """``…/import/{batchId}/failures.json``: the failed rows as CSV."""
    return _csv_reply(_batch(app, ctx, "customObject"), "failures")


def custom_object_warnings(app: "MarketoApp", ctx: CallContext) -> Response:
    """``…/import/{batchId}/warnings.json``: rows with warnings as CSV."""
    return _csv_reply(_batch(app, ctx, "customObject"), "warnings")


def import_members(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``POST /bulk/v1/program/{programId}/members/import.json``: queue leads into a program status."""
    program_id = ctx.path_params["programId"]
    status = ctx.query("programMemberStatus")
    if not status:
        raise ApiError(errors.MISSING_PARAMETER, "Missing value for required parameter 'programMemberStatus'")
    leads.check_program_status(app, program_id, status)
    fmt = _format(ctx)
    header, rows = _rows(ctx, fmt, app.config.max_bulk_file_bytes)
    batch = _enqueue(app, "programMembers", header, rows, programId=program_id, programMemberStatus=status)
    return {"result": [_member_view(batch)]}


def member_batch(app: "MarketoApp", ctx: CallContext) -> dict[str, Any]:
    """``…/members/import/{batchId}/status.json``: the import's status."""
    return {"result": [_member_view(_batch(app, ctx, "programMembers"))]}


def member_failures(app: "MarketoApp", ctx: CallContext) -> Response:
    """``…/members/import/{batchId}/failures.json``: the failed rows as CSV."""
    return _csv_reply(_batch(app, ctx, "programMembers"), "failures")


def member_warnings(app: "MarketoApp", ctx: CallContext) -> Response:
    """``…/members/import/{batchId}/warnings.json``: rows with warnings as CSV."""
    return _csv_reply(_batch(app, ctx, "programMembers"), "warnings")
