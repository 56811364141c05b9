"""How the sync cuts its work into API calls: every chunk size and threshold in one place, so a forecast
(``sync --dry-run``) counts calls with the same numbers the sinks use. Each is the vendor's documented limit
unless its comment says otherwise."""

from __future__ import annotations

from typing import Any

#: Input rows a sync holds in memory at once (a window of the spool); not an API limit, and it does not
#: bound a Bulk job or an import, which span the whole run.
WINDOW_ROWS = 10_000
#: Records of one kind in the whole run above which Salesforce writes go in one Bulk API 2.0 job per
#: object (split only at ``SF_JOB_BYTES``) and Marketo writes in bulk imports (split at ``MK_IMPORT_BYTES``);
#: at or below it, collections of 200 / REST calls of 300. A job costs 4-5 calls whatever its size; 2,000
#: records cost 10 collections.
BULK_THRESHOLD = 2_000
#: Characters of e-mails (each plus its quotes and comma) a run gathers before matching them: 30 IN lists of
#: up to 100,000 characters (SOQL's statement limit, less the query around the list) are 6 full Composite
#: calls of 5 queries, so every matching call of a run but the last is full, and memory stays bounded.
MATCH_CHARS = 30 * 99_000
#: Marketo REST writes: 300 records per call.
MK_RECORDS = 300



def __getattr__(name: str) -> Any:
    """The per-call and per-job limits live with their clients (imported on first use: the CLI starts without
    them): ``SF_COLLECTION``, 200 records per sObject Collections call; ``SF_JOB_BYTES``, 100 MB of CSV per
    Bulk API 2.0 job; ``MK_IMPORT_BYTES``, 10 MB per Marketo import file."""
    if name == "SF_COLLECTION":
        from ..providers.salesforce.data_client import MAX_COLLECTION
        return MAX_COLLECTION
    if name == "SF_JOB_BYTES":
        from ..providers.salesforce.bulk2 import MAX_JOB_BYTES
        return MAX_JOB_BYTES
    if name == "MK_IMPORT_BYTES":
        from ..providers.marketo.bulk_import import MAX_FILE_BYTES
        return MAX_FILE_BYTES
    raise AttributeError(name)


__all__ = ["WINDOW_ROWS", "SF_COLLECTION", "BULK_THRESHOLD", "MATCH_CHARS", "MK_RECORDS", "SF_JOB_BYTES",
           "MK_IMPORT_BYTES"]
