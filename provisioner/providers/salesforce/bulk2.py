"""Bulk API 2.0 ingest (``/jobs/ingest``): one CSV job per call site, results matched back to the input.

Used by the sync above a threshold: a job costs create + upload + close + status polls + two
result reads, whatever its size (≤ 100 MB of CSV), where collections cost one call per 200 records.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any, Sequence

from . import retry
from .data_client import RecordResult

MAX_JOB_BYTES = 100 * 1024 * 1024


class BulkError(Exception):
    """A Bulk API reply that is not a success; ``status`` lets :func:`retry.classify` sort it."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:500]}")
        self.status = status


class Bulk2Client:
    """Ingest jobs through the connection's simple-salesforce session (same TLS, token and relogin)."""

    def __init__(self, sf: Any, relogin: Any = None, poll_s: float = 0.2, max_poll_s: float = 2.0) -> None:
        self.sf, self._relogin = sf, relogin
        self.poll_s, self.max_poll_s = poll_s, max_poll_s
        self.calls = 0

    def _request(self, method: str, path: str, *, json_body: Any = None, data: bytes | None = None,
                 content_type: str = "application/json") -> Any:
        def run() -> Any:
            headers = dict(self.sf.headers, **{"Content-Type": content_type})
            self.calls += 1
            r = self.sf.session.request(method, self.sf.base_url + path, headers=headers, json=json_body, data=data)
            if r.status_code >= 300:
                raise BulkError(r.status_code, r.text)
            return r
        return retry.call(run, what=f"bulk {method} {path}", relogin=self._relogin)

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
        """Run one ingest job; one result per record, in order, matched on ``key_field``."""
        if not records:
            return []
        columns = sorted({k for r in records for k in r})
        body = io.StringIO()
        writer = csv.writer(body, lineterminator="\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
        payload = body.getvalue().encode("utf-8")
        if len(payload) > MAX_JOB_BYTES:
            half = len(records) // 2
            return self.ingest(operation, sobject, records[:half], key_field, external_id_field) + \
                self.ingest(operation, sobject, records[half:], key_field, external_id_field)
        spec = {"object": sobject, "operation": operation, "contentType": "CSV", "lineEnding": "LF"}
        if external_id_field:
            spec["externalIdFieldName"] = external_id_field
        job = self._request("POST", "jobs/ingest", json_body=spec).json()
        self._request("PUT", f"jobs/ingest/{job['id']}/batches", data=payload, content_type="text/csv")
        self._request("PATCH", f"jobs/ingest/{job['id']}", json_body={"state": "UploadComplete"})
        delay, info = self.poll_s, job
        while True:
            info = self._request("GET", f"jobs/ingest/{job['id']}").json()
            if info["state"] in ("JobComplete", "Failed", "Aborted"):
                break
            time.sleep(delay)
            delay = min(self.max_poll_s, delay * 2)
        by_key: dict[str, RecordResult] = {}
        if info["state"] == "JobComplete":
            for row in csv.DictReader(io.StringIO(self._request("GET", f"jobs/ingest/{job['id']}/successfulResults")
                                                  .content.decode("utf-8"))):
                by_key[row[key_field].lower()] = RecordResult(row["sf__Id"], True, [], row["sf__Created"] == "true")
            for row in csv.DictReader(io.StringIO(self._request("GET", f"jobs/ingest/{job['id']}/failedResults")
                                                  .content.decode("utf-8"))):
                by_key[row[key_field].lower()] = RecordResult(
                    row.get("sf__Id") or None, False, [{"statusCode": "BULK", "message": row["sf__Error"]}])
        failure = RecordResult(None, False, [{"statusCode": "BULK_JOB_" + str(info["state"]).upper(),
                                              "message": str(info.get("errorMessage") or "job did not complete")}])
        return [by_key.get(str(r[key_field]).lower(), failure) for r in records]
