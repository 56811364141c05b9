"""Where Salesforce calls are retried: transient 5xx, dropped connections, concurrency limits.

The daily API limit (REQUEST_LIMIT_EXCEEDED / TotalRequests) is not retryable: the run stops
with :class:`DailyLimitExceeded` and a re-run converges. Callers say whether a call is safe
to repeat; a write that is not (a REST create) passes ``verify`` to look before repeating.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Protocol, Sequence, TypeVar

import requests

from ...clock import SYSTEM_CLOCK
from ...privacy import redact
from ..base import ConnectionError_

T = TypeVar("T")

ATTEMPTS = 6
#: re-sends of an upsert's records that lost a race to a concurrent writer of the same key
ROW_RACE_ATTEMPTS = 3
BASE_DELAY = 0.2
MAX_DELAY = 5.0


class DailyLimitExceeded(ConnectionError_):
    """The org's daily API request limit is used up: stop now, re-run after it resets."""


class SessionExpired(Exception):
    """The access token is no longer valid: log in again and retry."""


class TransientError(Exception):
    """A failure worth retrying (5xx, dropped connection, concurrency limit)."""


def classify(exc: BaseException) -> type[Exception] | None:
    """Map a client exception to TransientError/SessionExpired/DailyLimitExceeded, or None (permanent)."""
    if isinstance(exc, (DailyLimitExceeded, SessionExpired, TransientError)):
        return type(exc)
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                        requests.exceptions.ChunkedEncodingError)):
        return TransientError
    text = str(exc)
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if "REQUEST_LIMIT_EXCEEDED" in text:
        return DailyLimitExceeded if "TotalRequests" in text else TransientError
    if "INVALID_SESSION_ID" in text or status == 401:
        return SessionExpired
    if status in (500, 502, 503, 504) or any(code in text for code in ("UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE")):
        return TransientError
    return None


def call(fn: Callable[[], T], *, what: str, relogin: Callable[[], None] | None = None,
         verify: Callable[[], T | None] | None = None, attempts: int = ATTEMPTS,
         sleep: Callable[[float], None] = SYSTEM_CLOCK.sleep) -> T:
    """Run ``fn``, retrying transient failures with jittered backoff.

    ``verify`` (for writes that are not safe to repeat) is asked after a transient failure
    whether the write already happened; what it returns (if not None) is the result.
    """
    # The last failure as text, not the exception: a kept exception holds its traceback's frames (and their
    # request bodies) in a reference cycle only the cyclic collector frees, and a sync pauses the collector.
    last = ""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:  # classified below; permanent errors propagate unchanged
            kind = classify(exc)
            if kind is None:
                raise
            if kind is DailyLimitExceeded:
                raise DailyLimitExceeded(f"{what}: the org's daily API request limit is used up "
                                         "(REQUEST_LIMIT_EXCEEDED: TotalRequests); run again after it resets, "
                                         "the run will continue where it stopped") from None
            last = f"{type(exc).__name__}: {_first_line(exc)}"
            if kind is SessionExpired:
                if relogin is None:
                    raise ConnectionError_(f"{what}: the Salesforce session expired or is invalid; "
                                           "get a new SF_ACCESS_TOKEN") from None
                relogin()
                continue
            if verify is not None:
                done = verify()
                if done is not None:
                    return done
            sleep(min(MAX_DELAY, BASE_DELAY * (2 ** attempt)) * (0.5 + random.random()))
    raise ConnectionError_(f"{what}: still failing after {attempts} attempts ({last})")


def _first_line(exc: BaseException | None) -> str:
    """The first line of an error, with query URLs and e-mails masked (a match query carries e-mails)."""
    return redact(str(exc).strip().splitlines()[0])[:300] if exc and str(exc).strip() else ""


class _Result(Protocol):
    success: bool
    errors: list[dict[str, Any]]


R = TypeVar("R", bound=_Result)


def lost_row_race(errors: list[dict[str, Any]], key_field: str) -> bool:
    """Whether an upsert's per-record errors say a concurrent writer of the same key got there first.

    Salesforce runs parallel requests in parallel transactions: the loser of two upserts of a new
    key gets ``DUPLICATE_VALUE`` "duplicate value found: <key field> duplicates value on record with
    id: ..." (both inserted), of an existing row ``UNABLE_TO_LOCK_ROW``. Sent again, the record
    matches the winner's row and updates it. A ``DUPLICATE_VALUE`` on another unique field is the
    data's fault and is not retried. Bulk results carry the code at the start of the message.
    """
    for e in errors:
        text = f"{e.get('statusCode') or ''} {e.get('message') or ''}"
        if "UNABLE_TO_LOCK_ROW" in text:
            return True
        if "DUPLICATE_VALUE" in text and f"duplicate value found: {key_field.lower()} duplicates" in text.lower():
            return True
    return False


def upsert_settling_races(send: Callable[[list[dict[str, Any]]], list[R]], records: Sequence[dict[str, Any]],
                          key_field: str, attempts: int = ROW_RACE_ATTEMPTS) -> list[R]:
    """``send(records)``, then send again (up to ``attempts`` times) the records that lost a row race."""
    records = list(records)
    results = send(records)
    for _ in range(attempts):
        again = [i for i, r in enumerate(results) if not r.success and lost_row_race(r.errors, key_field)]
        if not again:
            break
        for i, result in zip(again, send([records[i] for i in again])):
            results[i] = result
    return results
