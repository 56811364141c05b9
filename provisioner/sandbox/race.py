"""Race mode (``provisioner sandbox serve --race``): concurrent writes of one key collide.

Without it every upsert runs under the app's state lock, so two concurrent upserts of the same
external id are serialised and both succeed. Real orgs run them in parallel transactions:
Salesforce answers the loser ``DUPLICATE_VALUE`` (both inserted; the unique index refused the
second) or ``UNABLE_TO_LOCK_ROW`` (the row existed and the winner held its lock); Marketo creates
a duplicate lead for two concurrent upserts of one e-mail and answers 604 to the later of two writes
of one custom object dedupe key (see ``marketo/race.py``). Clients have to handle those, so the
sandbox can produce them on demand.

A write takes row locks on its keys *before* the app's state lock and keeps them for up to
``hold_seconds`` while it waits for a rival (the time a real transaction holds its locks); a
rival that asks for a held key learns who holds it and whether the row existed, wakes the
holder, and fails the way the vendor's API does. A write that meets no rival just proceeds
after the hold, so lone clients only see the added latency.

    locks = RowLocks(hold_seconds=0.2)
    with locks.transaction(keys) as tx:
        tx.wait_for_rivals()             # outside the state lock
        for key in tx.contended: ...     # decide the loser's error, maybe tx.wait_for_release(key)

Both apps read ``app.race`` (a :class:`RowLocks`, or None when race mode is off); the
runtime sets it (:class:`provisioner.sandbox.runtime.Sandbox` ``race=True``).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager

#: how long a write holds its row locks waiting for a rival when none shows up (``--race``)
DEFAULT_HOLD_SECONDS = 0.2
#: how long a loser waits for the holder to commit before giving up on it (Salesforce: 10 s)
RELEASE_WAIT_SECONDS = 10.0


class Transaction:
    """The row locks one in-flight write holds, and the keys other writes held when it asked."""

    def __init__(self, locks: "RowLocks", held: frozenset[Hashable], contended: dict[Hashable, "Transaction"]) -> None:
        self._locks = locks
        self.held = held
        #: key -> the transaction holding it when this one asked (this write lost the race on it)
        self.contended = contended
        self._rival = threading.Event()  # set when another write asks for a key this one holds
        self._done = threading.Event()  # set when this write committed and released its keys

    def wait_for_rivals(self) -> bool:
        """Hold the row locks until a rival asks for one of them (True) or the hold runs out (False).

        A write that already met a rival (it came second) does not wait: its race is decided."""
        if not self.held or self.contended:
            return bool(self.contended)
        return self._rival.wait(self._locks.hold_seconds)

    def wait_for_release(self, key: Hashable, timeout: float = RELEASE_WAIT_SECONDS) -> bool:
        """Wait until the write that held ``key`` has committed; False when it did not within ``timeout``."""
        owner = self.contended.get(key)
        return True if owner is None else owner._done.wait(timeout)


class RowLocks:
    """Row locks of one emulated org or instance, keyed by whatever the app calls a row."""

    def __init__(self, hold_seconds: float = DEFAULT_HOLD_SECONDS) -> None:
        self.hold_seconds = hold_seconds
        self._mutex = threading.Lock()
        self._owners: dict[Hashable, Transaction] = {}
        self.collisions = 0  # how many keys lost a race (for tests and stats)

    @contextmanager
    def transaction(self, keys: Iterable[Hashable]) -> Iterator[Transaction]:
        """Take the free keys, note who holds the others (waking them), release all on exit."""
        wanted = list(dict.fromkeys(keys))
        with self._mutex:
            contended = {k: self._owners[k] for k in wanted if k in self._owners}
            held = frozenset(k for k in wanted if k not in contended)
            tx = Transaction(self, held, contended)
            for k in held:
                self._owners[k] = tx
            for owner in contended.values():
                owner._rival.set()
            self.collisions += len(contended)
        try:
            yield tx
        finally:
            with self._mutex:
                for k in held:
                    if self._owners.get(k) is tx:
                        del self._owners[k]
            tx._done.set()
