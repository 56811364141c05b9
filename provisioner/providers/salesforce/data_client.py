"""REST data API through simple-salesforce: queries, sObject Collections (200 per call), retries.

Every call goes through :func:`retry.call`. Collections return one :class:`RecordResult` per
record (``allOrNone`` false): a rejected record is reported, the others are written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import urlencode
from typing import Any, Callable, Iterable, Sequence

from . import retry
from .soql import in_chunks

MAX_COLLECTION = 200
MAX_COMPOSITE_QUERIES = 5  # query subrequests per Composite call (of 25 subrequests)


class SubrequestError(Exception):
    """A Composite subrequest that failed; ``status`` and the text let :func:`retry.classify` sort it."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:500]}")
        self.status = status


@dataclass
class RecordResult:
    """One record of a collection call."""

    id: str | None
    success: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    created: bool = False
    sent: dict[str, Any] | None = field(default=None, repr=False)  # the values written (Bulk API results carry them)

    def message(self) -> str:
        return "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in self.errors)


def _batches(items: Sequence[Any], size: int = MAX_COLLECTION) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class DataClient:
    """Thin, retried access to the REST API of one org."""

    def __init__(self, sf: Any, relogin: Callable[[], None] | None = None) -> None:
        self.sf = sf  # simple_salesforce.Salesforce
        self._relogin = relogin

    def query(self, soql: str, what: str = "query") -> list[dict[str, Any]]:
        """All records of ``soql`` (follows nextRecordsUrl), without the ``attributes`` key."""
        return self._pages(retry.call(lambda: self.sf.query(soql), what=what, relogin=self._relogin), what)

    def _pages(self, result: dict[str, Any], what: str) -> list[dict[str, Any]]:
        """The records of a query ``result`` and of every page after it (nextRecordsUrl), without ``attributes``."""
        records = list(result.get("records", []))
        while not result.get("done", True) and result.get("nextRecordsUrl"):
            url = result["nextRecordsUrl"]
            result = retry.call(lambda: self.sf.query_more(url, identifier_is_url=True), what=what,
                                relogin=self._relogin)
            records.extend(result.get("records", []))
        return [{k: v for k, v in r.items() if k != "attributes"} for r in records]

    def query_in(self, template: str, values: Iterable[str], what: str = "query") -> list[dict[str, Any]]:
        """Run ``template`` (with ``{values}`` as the IN list) in as few calls as the API allows.

        What fits one GET (the 16,384-byte URI) is one query call; more goes in IN lists up to SOQL's
        100,000-character limit, up to 5 of them per Composite call (the statement travels in the body,
        as Salesforce documents for queries too long for the URI).
        """
        values = list(dict.fromkeys(values))
        short = list(islice(in_chunks(template, values), 2))  # one GET, or more: the second says so
        if len(short) <= 1:
            return [r for soql in short for r in self.query(soql, what)]
        long = list(in_chunks(template, values, max_encoded=None))
        records: list[dict[str, Any]] = []
        for start in range(0, len(long), MAX_COMPOSITE_QUERIES):
            records.extend(self._composite_queries(long[start:start + MAX_COMPOSITE_QUERIES], what))
        return records

    @staticmethod
    def query_in_calls(template: str, values: Iterable[str]) -> int:
        """The calls :meth:`query_in` makes for ``values`` (a reply of more than 2,000 records per query adds a
        queryMore call per 2,000: not counted)."""
        values = list(dict.fromkeys(values))
        short = sum(1 for _ in islice(in_chunks(template, values), 2))  # past one GET, no need to count on
        if short <= 1:
            return short
        return -(-sum(1 for _ in in_chunks(template, values, max_encoded=None)) // MAX_COMPOSITE_QUERIES)

    def limits(self) -> dict[str, Any]:
        """The org's limits (``GET /limits``: DailyApiRequests and the rest), one API call."""
        return retry.call(lambda: self.sf.limits(), what="read limits", relogin=self._relogin)

    def _composite_queries(self, queries: list[str], what: str) -> list[dict[str, Any]]:
        """Several queries in one ``POST composite`` call (read-only: safe to repeat), every page of each."""
        base = f"/services/data/v{self.sf.sf_version}/query?"
        payload = {"allOrNone": False, "compositeRequest": [
            {"method": "GET", "url": base + urlencode({"q": q}), "referenceId": f"q{i}"} for i, q in enumerate(queries)]}

        def run() -> list[dict[str, Any]]:
            reply = self.sf.restful("composite", method="POST", json=payload)
            answers = list(reply.get("compositeResponse") or [])
            for sub in answers:
                if int(sub.get("httpStatusCode") or 500) >= 300:
                    raise SubrequestError(int(sub.get("httpStatusCode") or 500), json.dumps(sub.get("body")))
            return answers

        records: list[dict[str, Any]] = []
        for sub in retry.call(run, what=what, relogin=self._relogin):
            records.extend(self._pages(sub["body"], what))
        return records

    def describe_and_query(self, sobjects: list[str], soql: str | None = None, what: str = "describe"
                           ) -> tuple[dict[str, dict[str, Any] | None], list[dict[str, Any]]]:
        """The describes of ``sobjects`` (``None`` for an object the org lacks or hides) and the records of
        ``soql`` (every page), in one Composite call: up to 25 read-only subrequests, safe to repeat."""
        base = f"/services/data/v{self.sf.sf_version}"
        subs = [{"method": "GET", "url": f"{base}/sobjects/{name}/describe", "referenceId": f"d{i}"}
                for i, name in enumerate(sobjects)]
        if soql:
            subs.append({"method": "GET", "url": f"{base}/query?" + urlencode({"q": soql}), "referenceId": "q"})

        def run() -> list[dict[str, Any]]:
            reply = self.sf.restful("composite", method="POST", json={"allOrNone": False, "compositeRequest": subs})
            answers = list(reply.get("compositeResponse") or [])
            for sub in answers:
                status = int(sub.get("httpStatusCode") or 500)
                if status >= 300 and not (status == 404 and str(sub.get("referenceId")).startswith("d")):
                    raise SubrequestError(status, json.dumps(sub.get("body")))
            return answers

        described: dict[str, dict[str, Any] | None] = {}
        records: list[dict[str, Any]] = []
        for sub in retry.call(run, what=what, relogin=self._relogin):
            ref = str(sub.get("referenceId"))
            if ref.startswith("d"):
                ok = int(sub.get("httpStatusCode") or 500) < 300
                described[sobjects[int(ref[1:])]] = sub.get("body") if ok else None
                continue
            records.extend(self._pages(sub["body"], what))
        return described, records

    def describe(self, sobject: str) -> dict[str, Any] | None:
        """The REST describe of ``sobject`` (fields with nillable/createable/defaultedOnCreate), ``None`` when the
        org has no such object or the user cannot see it."""
        from simple_salesforce.exceptions import SalesforceResourceNotFound

        try:
            return retry.call(lambda: getattr(self.sf, sobject).describe(), what=f"describe {sobject}",
                              relogin=self._relogin)
        except SalesforceResourceNotFound:
            return None

    def count(self, soql: str) -> int:
        result = retry.call(lambda: self.sf.query(soql), what="count", relogin=self._relogin)
        return int(result.get("totalSize", 0))

    def _collection(self, method: str, path: str, payload: dict[str, Any], what: str,
                    verify: Callable[[], Any] | None = None) -> list[RecordResult]:
        def run() -> Any:
            return self.sf.restful(path, method=method, json=payload)
        raw = retry.call(run, what=what, relogin=self._relogin, verify=verify)
        # ``verify`` (a lost reply read back) answers with RecordResults already; the API with dicts.
        return [r if isinstance(r, RecordResult) else
                RecordResult(r.get("id"), bool(r.get("success")), r.get("errors") or [], bool(r.get("created")))
                for r in raw]

    def create(self, sobject: str, records: Sequence[dict[str, Any]],
               verify: Callable[[Sequence[dict[str, Any]]], list[RecordResult] | None] | None = None
               ) -> list[RecordResult]:
        """Insert records, 200 per call. ``verify(batch)`` finds records a lost reply already created."""
        results: list[RecordResult] = []
        for batch in _batches(list(records)):
            payload = {"allOrNone": False,
                       "records": [dict(r, attributes={"type": sobject}) for r in batch]}
            check = (lambda b=batch: verify(b)) if verify else None
            results.extend(self._collection("POST", "composite/sobjects", payload, f"create {sobject}", check))
        return results

    def update(self, sobject: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Update records by Id, 200 per call (safe to repeat)."""
        results: list[RecordResult] = []
        for batch in _batches(list(records)):
            payload = {"allOrNone": False,
                       "records": [dict(r, attributes={"type": sobject}) for r in batch]}
            results.extend(self._collection("PATCH", "composite/sobjects", payload, f"update {sobject}"))
        return results

    def upsert(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Upsert records on an external ID field, 200 per call (safe to repeat: the key decides). Records
        that lost a race to a concurrent writer of their key are sent again; after a lost reply the call's
        records are read back by external id first, and when the org holds every one as sent, the call is
        not sent again."""
        def send(batch: list[dict[str, Any]]) -> list[RecordResult]:
            payload = {"allOrNone": False, "records": [dict(r, attributes={"type": sobject}) for r in batch]}
            return self._collection("PATCH", f"composite/sobjects/{sobject}/{external_id_field}", payload,
                                    f"upsert {sobject}",
                                    verify=lambda: self.read_back(sobject, external_id_field, batch))

        results: list[RecordResult] = []
        for batch in _batches(list(records)):
            results.extend(retry.upsert_settling_races(send, batch, external_id_field))
        return results

    def read_back(self, sobject: str, external_id_field: str, records: Sequence[dict[str, Any]]
                  ) -> list[RecordResult] | None:
        """One result per record when the org holds every record by its external id with the values sent
        (the write was applied and only its reply lost); ``None`` when any is missing or differs."""
        fields = sorted({k for r in records for k in r} - {external_id_field, "Id"})
        rows = self.query_in(f"SELECT Id, {', '.join([external_id_field, *fields])} FROM {sobject} "
                             f"WHERE {external_id_field} IN ({{values}})",
                             [str(r[external_id_field]) for r in records], what=f"read back {sobject}")
        found = {str(r.get(external_id_field)).lower(): r for r in rows}
        out: list[RecordResult] = []
        for record in records:
            got = found.get(str(record[external_id_field]).lower())
            if got is None or not same_values(got, record):
                return None
            out.append(RecordResult(got["Id"], True))
        return out


def same_values(stored: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Whether every value of ``sent`` is in ``stored`` (read back from the org or from a job's results)."""
    return all(_same(stored.get(k), v) for k, v in sent.items())


def _same(stored: Any, sent: Any) -> bool:
    """Whether a value read back is the value sent (numbers by value, empty as null)."""
    if stored in (None, "") or sent in (None, ""):
        return stored in (None, "") and sent in (None, "")
    if isinstance(stored, bool) or isinstance(sent, bool):
        return str(stored).lower() == str(sent).lower()
    try:
        return float(stored) == float(sent)
    except (TypeError, ValueError):
        return str(stored) == str(sent)
