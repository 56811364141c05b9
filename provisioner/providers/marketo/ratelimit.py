"""A thread-safe budget shared by every call of one client: N calls per sliding window, M at once."""

from __future__ import annotations

import collections
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ...clock import SYSTEM_CLOCK, Clock

#: Marketo's documented limits: 100 calls per 20 s and 10 concurrent per instance. The defaults use all of
#: them (a sync is an instance's biggest consumer); MARKETO_MAX_CALLS_PER_20S / MARKETO_MAX_CONCURRENT lower
#: them when other integrations need a share.
DEFAULT_CALLS = 100
DEFAULT_WINDOW_S = 20.0
DEFAULT_CONCURRENT = 10
_IN_FLIGHT_POLL_S = 0.05


@dataclass(frozen=True)
class Budget:
    """How many calls per window and how many in flight a client allows itself."""

    calls: int = DEFAULT_CALLS
    window_s: float = DEFAULT_WINDOW_S
    concurrent: int = DEFAULT_CONCURRENT


class RateLimiter:
    """Blocks a caller until a call fits the budget; every request of the client passes through ``slot()``.

    A call occupies its window slot from when it is sent until ``window_s`` after its reply: Marketo counts
    a call when it arrives, somewhere between the two, so counting from the reply never lets the server
    see more than ``calls`` in any window of its own (no 606 even at the full documented rate). The window
    is measured and waited out on ``clock`` (tests pass a simulated one: no real waits).
    """

    def __init__(self, budget: Budget | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.budget = budget or Budget()
        self._clock = clock
        self._sent: collections.deque[list[float | None]] = collections.deque()  # [reply time]; None in flight
        self._lock = threading.Lock()
        self._concurrency = threading.BoundedSemaphore(self.budget.concurrent)
        self.waited_s = 0.0  # total time callers spent waiting for the window (for diagnostics)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one concurrency slot and one window slot for the duration of a call."""
        with self._concurrency:
            entry = self._take_window_slot()
            try:
                yield
            finally:
                entry[0] = self._clock.monotonic()

    def _take_window_slot(self) -> list[float | None]:
        while True:
            with self._lock:
                now = self._clock.monotonic()
                while self._sent and self._sent[0][0] is not None and now - self._sent[0][0] >= self.budget.window_s:
                    self._sent.popleft()
                # Ended calls anywhere in the queue whose window passed no longer count.
                live = sum(1 for e in self._sent if e[0] is None or now - e[0] < self.budget.window_s)
                if live < self.budget.calls:
                    entry: list[float | None] = [None]
                    self._sent.append(entry)
                    return entry
                ends = [e[0] for e in self._sent if e[0] is not None and now - e[0] < self.budget.window_s]
                wait = (self.budget.window_s - (now - min(ends)) + 0.001) if ends else _IN_FLIGHT_POLL_S
            self.waited_s += wait
            self._clock.sleep(wait)
