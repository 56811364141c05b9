"""A thread-safe budget shared by every call of one client: N calls per sliding window, M at once."""

from __future__ import annotations

import collections
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ...clock import SYSTEM_CLOCK, Clock

#: Marketo allows 100 calls / 20 s and 10 concurrent per instance, shared by every integration:
#: by default this tool keeps to half of each.
DEFAULT_CALLS = 50
DEFAULT_WINDOW_S = 20.0
DEFAULT_CONCURRENT = 5


@dataclass(frozen=True)
class Budget:
    """How many calls per window and how many in flight a client allows itself."""

    calls: int = DEFAULT_CALLS
    window_s: float = DEFAULT_WINDOW_S
    concurrent: int = DEFAULT_CONCURRENT


class RateLimiter:
    """Blocks a caller until a call fits the budget; every request of the client passes through ``slot()``.

    The window is measured and waited out on ``clock`` (tests pass a simulated one: no real waits)."""

    def __init__(self, budget: Budget | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.budget = budget or Budget()
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self._concurrency = threading.BoundedSemaphore(self.budget.concurrent)
        self.waited_s = 0.0  # total time callers spent waiting for the window (for diagnostics)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one concurrency slot and one window slot for the duration of a call."""
        with self._concurrency:
            self._take_window_slot()
            yield

    def _take_window_slot(self) -> None:
        while True:
            with self._lock:
                now = self._clock.monotonic()
                while self._sent and now - self._sent[0] >= self.budget.window_s:
                    self._sent.popleft()
                if len(self._sent) < self.budget.calls:
                    self._sent.append(now)
                    return
                wait = self.budget.window_s - (now - self._sent[0]) + 0.001
            self.waited_s += wait
            self._clock.sleep(wait)
