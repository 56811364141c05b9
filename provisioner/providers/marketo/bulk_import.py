"""Marketo bulk imports (``/bulk/v1``): leads, custom object records and program members from CSV files.

The limits this follows (Adobe's Bulk Import page, API-FACTS): a file must be under 10 MB
(:func:`csv_files` splits a larger one); at most 10 imports may be queued at any time, the two
processing included (this client keeps at most ``max_queued`` of its own in flight, and a 1016 "Too
many imports" caused by other integrations is retried with backoff by :class:`MarketoClient`).
An import is asynchronous: its status is polled with backoff until ``Complete`` or ``Failed``; the
failed rows (and the rows with warnings) are read back as CSV with a reason column.

Every import the sync makes is an upsert (leads by ``lookupField``, custom objects on their dedupe
fields, program members by email and forward-only), so a file sent twice does no harm.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from .client import MarketoClient
from .errors import MarketoError

MAX_FILE_BYTES = 10 * 1024 * 1024 - 1  # "the file must total less than 10 MB"
#: Calls one import makes when it is done at its first status poll and no row failed or warned: the submit
#: and one status read (:meth:`BulkImporter.submit`, :meth:`BulkImporter.wait`). Each further poll, and the
#: failures/warnings files when rows failed or warned, is one more call.
IMPORT_CALLS = 2
MAX_QUEUED = 10  # imports in Marketo's queue at once, the two processing included
ACTIVE = ("Queued", "Importing")
FAILURE_REASON = "Import Failure Reason"
WARNING_REASON = "Import Warning Reason"


@dataclass
class Import:
    """One submitted import: where to poll it, and what it ended with."""

    kind: str  # "leads" | "customObject" | "programMembers"
    batch_id: int
    status_path: str
    rows: int
    status: str = "Queued"
    processed: int = 0
    failed: int = 0
    warned: int = 0
    message: str = ""
    polls: int = 0
    tag: Any = None  # the caller's: which rows the file holds

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def base(self) -> str:
        return self.status_path.rsplit("/", 1)[0] if self.kind != "leads" else self.status_path[:-len(".json")]

    @property
    def failures_path(self) -> str:
        return f"{self.base}/failures.json"

    @property
    def warnings_path(self) -> str:
        return f"{self.base}/warnings.json"


def csv_files(header: Sequence[str], rows: Iterable[dict[str, Any]], max_bytes: int = MAX_FILE_BYTES
              ) -> Iterator[tuple[bytes, int]]:
    """``(file, rows in it)`` for ``rows`` as UTF-8 CSV files each under ``max_bytes``, header on each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # one writer for every line; it writes None as ""

    def line(values: Sequence[Any]) -> bytes:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue().encode("utf-8")

    head = line(header)
    parts: list[bytes] = [head]
    size, count = len(head), 0
    for row in rows:
        data = line([row.get(h) for h in header])
        if len(head) + len(data) > max_bytes:
            raise ValueError(f"one row alone is larger than the import file limit ({max_bytes} bytes)")
        if size + len(data) > max_bytes:
            yield b"".join(parts), count
            parts, size, count = [head], len(head), 0
        parts.append(data)
        size += len(data)
        count += 1
    if count:
        yield b"".join(parts), count


def read_csv(text: str) -> list[dict[str, str]]:
    """A failures/warnings reply as rows (the reason in its own column)."""
    return [dict(r) for r in csv.DictReader(io.StringIO(text))]


@dataclass
class BulkImporter:
    """Submit imports, keep at most ``max_queued`` in flight, poll them with backoff, read their failures."""

    client: MarketoClient
    poll_s: float = 0.3  # first wait before a status poll; doubled up to ``poll_cap_s``
    poll_cap_s: float = 8.0
    max_queued: int = MAX_QUEUED
    timeout_s: float = 3600.0
    on_submit: Callable[[Import], None] | None = None  # e.g. record it in the ledger (a crash waits for it)
    in_flight: list[Import] = field(default_factory=list)

    def submit(self, kind: str, data: bytes, rows: int, *, api_name: str | None = None,
               program_id: int | None = None, status: str | None = None, tag: Any = None) -> Import:
        """Queue one import (waiting first when ``max_queued`` of ours are still in Marketo's queue)."""
        while sum(1 for i in self.in_flight if i.active) >= self.max_queued:
            self.wait(self.in_flight, until_one=True)
        params: dict[str, Any] = {"format": "csv"}
        if kind == "leads":
            path, params["lookupField"] = "/bulk/v1/leads.json", "email"
        elif kind == "customObject":
            path = f"/bulk/v1/customobjects/{api_name}/import.json"
        else:
            path, params["programMemberStatus"] = f"/bulk/v1/program/{program_id}/members/import.json", status
        # idempotent: every import here is an upsert (see the module docstring), so a retry is harmless
        result = self.client.post_multipart(path, files={"file": ("import.csv", data, "text/csv")},
                                            params=params, idempotent=True)
        batch_id = int(result[0]["batchId"])
        status_path = {"leads": f"/bulk/v1/leads/batch/{batch_id}.json",
                       "customObject": f"/bulk/v1/customobjects/{api_name}/import/{batch_id}/status.json",
                       "programMembers": f"/bulk/v1/program/members/import/{batch_id}/status.json"}[kind]
        imp = Import(kind, batch_id, status_path, rows, status=str(result[0].get("status") or "Queued"), tag=tag)
        self.in_flight.append(imp)
        if self.on_submit:
            self.on_submit(imp)
        return imp

    def poll(self, imp: Import) -> Import:
        """One status call."""
        view = self.client.get(imp.status_path)[0]
        imp.polls += 1
        imp.status = str(view.get("status"))
        imp.processed = int(view.get("numOfLeadsProcessed", view.get("numOfObjectsProcessed", 0)) or 0)
        imp.failed = int(view.get("numOfRowsFailed") or 0)
        imp.warned = int(view.get("numOfRowsWithWarning") or 0)
        imp.message = str(view.get("message") or "")
        return imp

    def wait(self, imports: Sequence[Import], until_one: bool = False) -> None:
        """Poll until every import (or, with ``until_one``, one of them) is no longer queued or importing.

        Each round polls in submission order and stops at the first import still busy (the queue is
        first in, first out), so waiting on many imports costs about one status call per round."""
        clock = self.client.clock  # the client's: its waits and its idea of time
        delay, deadline = self.poll_s, clock.monotonic() + self.timeout_s
        while True:
            active = [i for i in imports if i.active]
            if not active:
                break
            clock.sleep(delay)
            for imp in active:  # Marketo's queue is FIFO: once one is still busy, the later ones are too
                if self.poll(imp).active:
                    break
            if until_one and any(not i.active for i in active):
                break
            if clock.monotonic() > deadline:
                raise MarketoError("timeout", f"bulk import {active[0].batch_id} still {active[0].status} after "
                                   f"{self.timeout_s:.0f} s", active[0].status_path)
            delay = min(self.poll_cap_s, delay * 2)
        self.in_flight = [i for i in self.in_flight if i.active]

    def failures(self, imp: Import) -> list[dict[str, str]]:
        """The failed rows as sent, each with its ``Import Failure Reason`` (no call when none failed)."""
        return read_csv(self.client.get_text(imp.failures_path)) if imp.failed else []

    def warnings(self, imp: Import) -> list[dict[str, str]]:
        """The rows with warnings, each with its ``Import Warning Reason`` (no call when there are none)."""
        return read_csv(self.client.get_text(imp.warnings_path)) if imp.warned else []
