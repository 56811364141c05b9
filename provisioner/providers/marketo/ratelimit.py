"""A thread-safe budget shared by every call of one client: N calls per sliding window, M at once."""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ...clock import SYSTEM_CLOCK, Clock

#: Marketo's documented limits: 100 calls per 20 s and 10 concurrent per instance. The defaults use all of
#: them (a sync is an instance's biggest consumer); MARKETO_MAX_CALLS_PER_20S / MARKETO_MAX_CONCURRENT lower
#: them when other integrations need a share.
DEFAULT_CALLS = 100
DEFAULT_WINDOW_S = 20.0
DEFAULT_CONCURRENT = 10
_IN_FLIGHT_POLL_S = 0.05
STALE_FILE_S = 3600.0  # a window file untouched this long (real seconds) holds nothing of use


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

    def __init__(self, budget: Budget | None = None, clock: Clock = SYSTEM_CLOCK,
                 shared: "WindowFile | None" = None) -> None:
        self.budget = budget or Budget()
        self._clock = clock
        self._sent: collections.deque[list[float | None]] = collections.deque()  # [reply time]; None in flight
        self._shared = shared
        self._inherited = 0  # entries at the head of _sent that earlier runs left: counted, never saved again
        if shared is not None:  # the calls this machine's earlier runs left in the window count here too
            now, wall = clock.monotonic(), clock.time()
            self._sent.extend([now - (wall - t)] for t in shared.load(wall, self.budget.window_s))
            self._inherited = len(self._sent)
        self._lock = threading.Lock()
        self._concurrency = threading.BoundedSemaphore(self.budget.concurrent)
        self.waited_s = 0.0  # total time callers spent waiting for the window (for diagnostics)
        self._paused_until = 0.0  # after a 606: nobody sends before this
        self._probing = False  # after a 606: one call at a time until one is not refused
        self._probe_out = False
        self.refusals = 0  # 606s since the window last took a call: each pause is longer (see RetryPolicy.delay)

    @contextmanager
    def slot(self) -> Iterator["Ticket"]:
        """Hold one concurrency slot and one window slot for the duration of a call. The caller says on the
        ticket when Marketo refused the call because its 20 s window was full (606)."""
        with self._concurrency:
            entry, probe = self._take_window_slot()
            ticket = Ticket()
            try:
                yield ticket
            finally:
                entry[0] = self._clock.monotonic()
                self._settle(ticket, probe)

    def save(self) -> None:
        """Leave this run's calls still in the window to the next run on this machine (see :class:`WindowFile`)."""
        if self._shared is None:
            return
        with self._lock:
            now, wall = self._clock.monotonic(), self._clock.time()
            # Only this run's calls: the inherited ones are still in the file, and converting them back from
            # this clock's monotonic time would not give the same floats, so a set would count them twice.
            own = itertools.islice(self._sent, self._inherited, None)
            ended = [wall - (now - e[0]) for e in own if e[0] is not None]
        self._shared.save(ended, wall, self.budget.window_s)

    def _settle(self, ticket: "Ticket", probe: bool) -> None:
        """After a 606 (the window is full), every caller waits ``pause`` seconds and then one call alone probes
        the window: the others (up to ``concurrent`` of them) would only be refused too, each refusal a call
        spent (other integrations or an earlier run may fill Marketo's window, which this client cannot see).
        A 615 (10 at once) frees as soon as a call ends: it is only retried, by the caller alone."""
        with self._lock:
            if ticket.pause is not None:
                # The pause is a wait this client chooses (not the window it counts), so a clock that shortens
                # waits (PROVISIONER_WAIT_SCALE, for test runs against the sandbox) shortens it too.
                pause = ticket.pause / float(getattr(self._clock, "wait_scale", 1.0) or 1.0)
                self._paused_until = max(self._paused_until, self._clock.monotonic() + pause)
                self._probing = True
                self.refusals += 1
            elif probe:
                self._probing = False
                self.refusals = 0
            if probe:
                self._probe_out = False

    def _take_window_slot(self) -> tuple[list[float | None], bool]:
        while True:
            with self._lock:
                now = self._clock.monotonic()
                if now < self._paused_until or (self._probing and self._probe_out):
                    wait = max(self._paused_until - now, _IN_FLIGHT_POLL_S)
                else:
                    while (self._sent and self._sent[0][0] is not None
                           and now - self._sent[0][0] >= self.budget.window_s):
                        self._sent.popleft()
                        self._inherited = max(0, self._inherited - 1)
                    # Ended calls anywhere in the queue whose window passed no longer count (counted only
                    # when the queue could be full: a scan per call made a big unthrottled run quadratic).
                    live = len(self._sent) if len(self._sent) < self.budget.calls else sum(
                        1 for e in self._sent if e[0] is None or now - e[0] < self.budget.window_s)
                    if live < self.budget.calls:
                        entry: list[float | None] = [None]
                        self._sent.append(entry)
                        probe = self._probing
                        self._probe_out = self._probe_out or probe
                        return entry, probe
                    ends = [e[0] for e in self._sent if e[0] is not None and now - e[0] < self.budget.window_s]
                    wait = (self.budget.window_s - (now - min(ends)) + 0.001) if ends else _IN_FLIGHT_POLL_S
            self.waited_s += wait
            self._clock.sleep(wait)

class Ticket:
    """What the caller of :meth:`RateLimiter.slot` learned of its call: refused for a full window (606), and how
    long everyone pauses."""

    pause: float | None = None

    def refused_for_rate(self, pause: float) -> None:
        self.pause = pause


class WindowFile:
    """When this machine's recent calls to one Marketo instance ended, kept between runs: a command run
    right after another (a plan, then its apply; an event's re-plan) starts knowing the window holds the
    earlier run's calls, instead of learning it from up to ``concurrent`` refusals (606), each a call spent.
    A JSON list of times (the clock's seconds), merged with what other runs wrote and written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, now: float, window_s: float) -> list[float]:
        try:
            times = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return []
        return [float(t) for t in times if isinstance(t, (int, float)) and now - window_s < t <= now]

    def save(self, ended: list[float], now: float, window_s: float) -> None:
        times = sorted(set(self.load(now, window_s)) | {t for t in ended if now - window_s < t <= now})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp") as out:
                json.dump(times, out)
            os.replace(out.name, self.path)
        except OSError:  # a read-only home: the next run learns the window from Marketo, as before
            return
        self._forget_stale()

    def _forget_stale(self) -> None:
        """Delete other instances' window files (and temporary files a killed run left) untouched for an hour:
        their calls left the window long ago, and sandboxes on ever new ports would otherwise pile them up."""
        cutoff = time.time() - STALE_FILE_S
        for old in [*self.path.parent.glob("marketo-window-*.json"), *self.path.parent.glob("tmp*.tmp")]:
            try:
                if old != self.path and old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:  # another run deleted or replaced it first
                pass


def window_file(endpoint: str, cache_dir: Path) -> WindowFile:
    """The window file of the instance at ``endpoint`` (named by a digest: one file per instance)."""
    digest = hashlib.sha256(endpoint.rstrip("/").encode("utf-8")).hexdigest()[:16]
    return WindowFile(cache_dir / f"marketo-window-{digest}.json")
