"""Bulk API 2.0 ingest (``/jobs/ingest``): one CSV job per call site, results matched back to the input.

Used by the sync above a threshold: a job costs create + upload + close + status polls + two
result reads, whatever its size (≤ 100 MB of CSV), where collections cost one call per 200 records.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ...clock import SYSTEM_CLOCK, Clock
from ..base import ConnectionError_
from . import retry
from .data_client import RecordResult

MAX_JOB_BYTES = 100 * 1024 * 1024
#: Calls one job makes when it completes at its first status poll and its status settles every row: create,
#: upload, close, one status read (:meth:`Bulk2Client.run_file`). Each further status poll is one more call, and
#: each result list read one more (``successfulResults`` for an insert's Ids, ``failedResults`` when rows failed).
JOB_CALLS = 4
JOB_ATTEMPTS = 3  # jobs per ingest: the first, and two more for what a Failed/Aborted/odd job left unprocessed


@dataclass
class JobRun:
    """How one ingest job ended: its state, message and the counts of its status."""

    job_id: str
    state: str
    message: str
    processed: int
    failed: int


class BulkError(Exception):
    """A Bulk API reply that is not a success; ``status`` lets :func:`retry.classify` sort it."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:500]}")
        self.status = status


class Bulk2Client:
    """Ingest jobs through the connection's simple-salesforce session (same TLS, token and relogin)."""

    def __init__(self, sf: Any, relogin: Any = None, poll_s: float = 0.2, max_poll_s: float = 2.0,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.sf, self._relogin, self.clock = sf, relogin, clock
        self.poll_s, self.max_poll_s = poll_s, max_poll_s
        self.calls = 0
        #: Called with (job id, object) as soon as a job exists, before its data goes up: e.g. to record it
        #: in a ledger, so a run killed while the job runs can read its results instead of sending again.
        self.on_job: Callable[[str, str], None] | None = None

    def _request(self, method: str, path: str, *, json_body: Any = None, data: Any = None,
                 content_type: str = "application/json", attempts: int = retry.ATTEMPTS, stream: bool = False) -> Any:
        def run() -> Any:
            headers = dict(self.sf.headers, **{"Content-Type": content_type})
            self.calls += 1
            r = self.sf.session.request(method, self.sf.base_url + path, headers=headers, json=json_body, data=data,
                                        stream=stream)
            if r.status_code >= 300:
                raise BulkError(r.status_code, r.text)
            return r
        return retry.call(run, what=f"bulk {method} {path}", relogin=self._relogin, attempts=attempts)

    def upsert(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Upsert ``records`` in one ingest job; one result per record, in order (failed rows carry the error).
        Rows that lost a race to a concurrent writer of their key go again in a follow-up job."""
        return retry.upsert_settling_races(
            lambda rows: self.ingest("upsert", sobject, rows, external_id_field, external_id_field),
            records, external_id_field)

    def insert(self, sobject: str, records: Sequence[dict[str, Any]], key_field: str) -> list[RecordResult]:
        """Insert ``records`` in one ingest job; results matched back on ``key_field`` (unique in ``records``)."""
        return self.ingest("insert", sobject, records, key_field)

    def ingest(self, operation: str, sobject: str, records: Sequence[dict[str, Any]], key_field: str,
               external_id_field: str | None = None) -> list[RecordResult]:
        """Run ingest job(s) for ``records``; one result per record, in order, matched on ``key_field``.

        One job holds everything up to the job size limit. A job that ends ``Failed``, ``Aborted`` or in
        a state the API does not document is read for what it did process; an upsert sends the rest again
        in a new job (the key decides, so nothing is written twice), up to ``JOB_ATTEMPTS`` jobs. An insert
        is never sent again here: its unsettled rows come back ``BULK_JOB_<STATE>`` for the caller to read
        back before re-sending.
        """
        if not records:
            return []
        columns = sorted({k for r in records for k in r})
        payload = _csv(columns, records)
        if len(payload) > MAX_JOB_BYTES:
            half = len(records) // 2
            return self.ingest(operation, sobject, records[:half], key_field, external_id_field) + \
                self.ingest(operation, sobject, records[half:], key_field, external_id_field)
        spec = {"object": sobject, "operation": operation, "contentType": "CSV", "lineEnding": "LF"}
        if external_id_field:
            spec["externalIdFieldName"] = external_id_field
        by_key: dict[str, RecordResult] = {}
        todo = list(records)
        state, message = "Open", ""
        for _ in range(JOB_ATTEMPTS):
            state, message = self._job(spec, _csv(columns, todo) if todo is not records else payload, key_field,
                                       by_key, todo)
            todo = [r for r in todo if str(r[key_field]).lower() not in by_key]
            if not todo or state == "JobComplete" or operation == "insert":
                break
        failure = RecordResult(None, False, [{"statusCode": "BULK_JOB_" + state.upper(),
                                              "message": message or "job did not complete"}])
        return [by_key.get(str(r[key_field]).lower(), failure) for r in records]

    def _job(self, spec: dict[str, Any], payload: bytes, key_field: str,
             by_key: dict[str, RecordResult], rows: Sequence[dict[str, Any]] = ()) -> tuple[str, str]:
        """One job through every documented state (Open → UploadComplete → InProgress → JobComplete, or
        Failed / Aborted); the results it has are added to ``by_key``. Returns its last state and message.

        A result list costs a call, so it is read only when it says something the job status does not: the
        failed rows when ``numberRecordsFailed`` > 0, the successful rows of an insert (their new Ids) or of
        a job that did not process every row of ``rows``. An upsert that completed every row without a
        failure settles ``rows`` from the status alone."""
        job = self._request("POST", "jobs/ingest", json_body=spec).json()
        job_id = job["id"]
        if self.on_job:
            self.on_job(job_id, str(spec["object"]))
        try:  # one upload per job: after a lost reply the data may be there once or not at all
            self._request("PUT", f"jobs/ingest/{job_id}/batches", data=payload, content_type="text/csv",
                          attempts=1)
        except retry.DailyLimitExceeded:
            raise
        except ConnectionError_ as exc:  # transient and not repeatable on this job: abort it, use a new one
            self._abort(job_id)
            return "Aborted", f"upload failed ({exc}); the job was aborted"
        info = self._await(job_id)
        state = str(info.get("state"))
        if state not in ("JobComplete", "Failed", "Aborted"):  # undocumented: treat as a fault, retry in a new job
            self._abort(job_id)
            return state, f"the job went to the undocumented state {state!r}"
        failed = int(info.get("numberRecordsFailed") or 0)
        if (state == "JobComplete" and spec["operation"] != "insert" and rows and failed == 0
                and int(info.get("numberRecordsProcessed") or 0) == len(rows)):
            for row in rows:  # every row written, none failed: the status says it all
                by_key[str(row[key_field]).lower()] = RecordResult(None, True, [])
        else:  # a Failed or Aborted job may have processed part of its rows
            self._results(job_id, key_field, by_key, failed=failed > 0 or state != "JobComplete")
        return state, str(info.get("errorMessage") or "")

    def _await(self, job_id: str) -> dict[str, Any]:
        """Close a job whose data is up and read its status until it ends; its last status."""
        info = self._close(job_id)
        delay = self.poll_s
        while info.get("state") in ("Open", "UploadComplete", "InProgress"):
            if info.get("state") == "Open":  # the close was lost: close again
                info = self._close(job_id)
                continue
            self.clock.sleep(delay)
            delay = min(self.max_poll_s, delay * 2)
            info = self._request("GET", f"jobs/ingest/{job_id}").json()
        return info

    def run_file(self, operation: str, sobject: str, path: Path, external_id_field: str | None = None) -> JobRun:
        """One ingest job whose CSV (at most ``MAX_JOB_BYTES``, LF line endings) is streamed up from ``path``
        in its single upload, so a run-wide job never sits in memory. Returns how it ended; its rows'
        results are read with :meth:`rows` only when the status does not settle them."""
        spec = {"object": sobject, "operation": operation, "contentType": "CSV", "lineEnding": "LF"}
        if external_id_field:
            spec["externalIdFieldName"] = external_id_field
        job_id = self._request("POST", "jobs/ingest", json_body=spec).json()["id"]
        if self.on_job:
            self.on_job(job_id, sobject)
        try:  # one upload per job: after a lost reply the data may be there once or not at all
            with path.open("rb") as body:
                self._request("PUT", f"jobs/ingest/{job_id}/batches", data=body, content_type="text/csv", attempts=1)
        except retry.DailyLimitExceeded:
            raise
        except ConnectionError_ as exc:
            self._abort(job_id)
            return JobRun(job_id, "Aborted", f"upload failed ({exc}); the job was aborted", 0, 0)
        info = self._await(job_id)
        state = str(info.get("state"))
        if state not in ("JobComplete", "Failed", "Aborted"):
            self._abort(job_id)
            return JobRun(job_id, state, f"the job went to the undocumented state {state!r}", 0, 0)
        return JobRun(job_id, state, str(info.get("errorMessage") or ""),
                      int(info.get("numberRecordsProcessed") or 0), int(info.get("numberRecordsFailed") or 0))

    def rows(self, job_id: str, part: str) -> Iterator[dict[str, str]]:
        """The rows of a job's ``successfulResults`` or ``failedResults``, streamed (one call)."""
        reply = self._request("GET", f"jobs/ingest/{job_id}/{part}", stream=True)
        yield from csv.DictReader(_lines(reply.iter_content(1 << 16)))

    def finished(self, job_id: str, key_field: str) -> dict[str, RecordResult] | None:
        """The results of an earlier job by ``key_field`` (lower-cased) once it has ended, waiting while it
        runs; an Open job (its upload never closed) is aborted and has none. ``None`` when the org no longer
        knows the job."""
        try:
            info = self._request("GET", f"jobs/ingest/{job_id}").json()
        except BulkError as exc:
            if exc.status == 404:
                return None
            raise
        delay = self.poll_s
        while info.get("state") in ("UploadComplete", "InProgress"):
            self.clock.sleep(delay)
            delay = min(self.max_poll_s, delay * 2)
            info = self._request("GET", f"jobs/ingest/{job_id}").json()
        if info.get("state") == "Open":
            self._abort(job_id)
            return {}
        by_key: dict[str, RecordResult] = {}
        self._results(job_id, key_field, by_key, keep_sent=True)
        return by_key

    def _close(self, job_id: str) -> dict[str, Any]:
        """Set UploadComplete; after a lost reply the retry finds the job already closed, so read it instead."""
        try:
            return self._request("PATCH", f"jobs/ingest/{job_id}", json_body={"state": "UploadComplete"}).json()
        except BulkError as exc:
            if "INVALIDJOBSTATE" not in str(exc):
                raise
            return self._request("GET", f"jobs/ingest/{job_id}").json()

    def _abort(self, job_id: str) -> None:
        try:
            self._request("PATCH", f"jobs/ingest/{job_id}", json_body={"state": "Aborted"})
        except (BulkError, ConnectionError_):
            pass  # already past aborting (or gone): nothing of it will be processed twice by us

    def _results(self, job_id: str, key_field: str, by_key: dict[str, RecordResult], keep_sent: bool = False,
                 failed: bool = True) -> None:
        """Add a job's successful and (with ``failed``) failed rows to ``by_key``; with ``keep_sent``, each
        success keeps the values the job wrote (to compare with what would be sent again)."""
        for row in csv.DictReader(io.StringIO(self._request("GET", f"jobs/ingest/{job_id}/successfulResults")
                                              .content.decode("utf-8"))):
            by_key[row[key_field].lower()] = RecordResult(
                row["sf__Id"], True, [], row["sf__Created"] == "true",
                sent={k: v for k, v in row.items() if not k.startswith("sf__")} if keep_sent else None)
        if not failed:
            return
        for row in csv.DictReader(io.StringIO(self._request("GET", f"jobs/ingest/{job_id}/failedResults")
                                              .content.decode("utf-8"))):
            by_key[row[key_field].lower()] = RecordResult(row.get("sf__Id") or None, False, [error(row["sf__Error"])])


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Lines (each with its newline) of a UTF-8 byte stream: what :mod:`csv` reads multi-line fields from."""
    decode = codecs.getincrementaldecoder("utf-8")().decode
    rest = ""
    for chunk in chunks:
        lines = (rest + decode(chunk)).split("\n")
        rest = lines.pop()
        for line in lines:
            yield line + "\n"
    rest += decode(b"", final=True)
    if rest:
        yield rest


def _csv(columns: list[str], records: Sequence[dict[str, Any]]) -> bytes:
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([r.get(c) for c in columns] for r in records)  # the csv module writes None as ""
    return body.getvalue().encode("utf-8")


def error(text: str) -> dict[str, Any]:
    """``sf__Error`` (``CODE:message:field,field --``) as a REST-style error with its status code and fields."""
    first = text.split(" --")[0]
    code, _, rest = first.partition(":")
    message, _, fields = rest.rpartition(":") if rest.count(":") else (rest, "", "")
    if not code.replace("_", "").isalnum() or not code.isupper():
        return {"statusCode": "BULK", "message": text}
    return {"statusCode": code, "message": message or rest, "fields": [f for f in fields.split(",") if f]}
