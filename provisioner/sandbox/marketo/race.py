"""Race mode: concurrent upserts of one key behave as on a real instance instead of being atomic.

Adobe documents that "when performing lead upsert requests concurrently or in quick succession,
duplicate records may result when making multiple requests with the same key value if a subsequent
request is made before the first completes". A real instance's upsert looks the key up, then writes,
and another request can slip in between; the sandbox serves one request at a time, so it never shows
that unless race mode is on (``MarketoConfig.race``, ``MarketoApp.race``).

In race mode an upsert holds its keys as "being written" for up to ``window_s`` after its lookup,
with the state lock released, and goes on as soon as a concurrent request names one of them:

- leads (``createOrUpdate``): both requests looked the key up before either wrote, so both create
  the lead: a duplicate, as Adobe documents; later upserts of that key get 1007 per record;
- custom object records: the later request fails whole with 604 "Request timed out", the code
  Adobe's error-code page gives for a request that ran too long on database contention (retryable:
  the record is then found and updated).

Without a concurrent request an upsert waits the whole window, so keep it short outside tests.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from typing import Hashable, Iterable, Iterator

from . import errors
from .errors import ApiError

#: What the later of two concurrent custom object upserts of one dedupe key gets.
CONTENTION = (errors.TIMED_OUT[0], "Request timed out: database contention on a record another request is writing")


class Contention:
    """Keys being written by requests in flight (guarded by the app's state lock)."""

    def __init__(self, lock: threading.RLock, window_s: float) -> None:
        self._changed = threading.Condition(lock)
        self._writing: collections.Counter[Hashable] = collections.Counter()
        self._contended: set[Hashable] = set()
        self.window_s = window_s

    @contextlib.contextmanager
    def writing(self, keys: Iterable[Hashable], refuse_if_busy: bool = False) -> Iterator[None]:
        """Hold ``keys`` as being written while the block runs, after waiting (lock released) up to the
        window for a concurrent request naming one of them. Call with the state lock held.

        ``refuse_if_busy``: raise :data:`CONTENTION` (604) when another request already holds one.
        """
        keys = set(keys)
        busy = {k for k in keys if self._writing[k]}
        if busy:
            self._contended |= busy
            self._changed.notify_all()
            if refuse_if_busy:
                raise ApiError(*CONTENTION)
        self._writing.update(keys)
        try:
            if not busy:
                self._changed.wait_for(lambda: bool(keys & self._contended), timeout=self.window_s)
            yield
        finally:
            self._writing.subtract(keys)
            for k in keys:
                if self._writing[k] <= 0:
                    del self._writing[k]
                    self._contended.discard(k)
