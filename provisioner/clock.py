"""Where time comes from: the system's clock, one that can be moved forward, or a simulated one.

Rate windows, token lifetimes and retry waits read the time and sleep through a :class:`Clock`, so
the sandbox and the Marketo client can be driven in simulated time by tests (no real waits), while
production code uses :data:`SYSTEM_CLOCK`. This module imports nothing from the tool or the sandbox:
both may use it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol

#: Environment variable that divides the system clock's waits by a factor (e.g. ``20``): retry backoff and
#: status polls then take a twentieth of their time. For test runs against the sandbox, where waiting as
#: politely as against a real org only slows the suite; leave it unset against real orgs. The time read is
#: not scaled: whoever waits for something looks again afterwards (a rate window is still waited out in
#: full, in shorter steps). A value that is not a number >= 1 is ignored.
WAIT_SCALE_VARIABLE = "PROVISIONER_WAIT_SCALE"


def wait_scale_from_env() -> float:
    """The factor :data:`WAIT_SCALE_VARIABLE` asks for (1.0 when unset or not a number >= 1)."""
    try:
        scale = float(os.environ.get(WAIT_SCALE_VARIABLE) or 1.0)
    except ValueError:
        return 1.0
    return scale if scale >= 1.0 else 1.0


class Clock(Protocol):
    """Wall time, a monotonic time and a way to wait."""

    def time(self) -> float:
        """Seconds since the epoch (like :func:`time.time`)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (like :func:`time.monotonic`)."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (like :func:`time.sleep`)."""


class SystemClock:
    """The system's clock, plus an offset that :meth:`advance` moves forward (a sandbox served in a
    subprocess is moved this way through ``POST /__sandbox/clock``). Its waits are divided by
    ``wait_scale`` (by default what :data:`WAIT_SCALE_VARIABLE` says, else 1)."""

    def __init__(self, wait_scale: float | None = None) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.wait_scale = wait_scale_from_env() if wait_scale is None else wait_scale

    def time(self) -> float:
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.wait_scale)

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead (never back); returns the offset now in force."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset


class FakeClock:
    """Simulated time: it stands still until :meth:`advance` or :meth:`sleep` moves it, and ``sleep``
    returns at once. One instance shared by a sandbox and a client puts both in the same simulated time."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.slept = 0.0  # total simulated seconds slept (what the waits would have cost)

    def time(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            self._now += seconds
            self.slept += seconds
        time.sleep(0)  # let other threads run, as a real sleep would

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead (never back); returns the simulated time now."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now


class FastClock:
    """Time that runs ``speed`` times faster than the system's: a ``sleep(20)`` takes 20/speed real
    seconds. Unlike :class:`FakeClock` it keeps concurrent waits overlapping as they would in real time,
    for tests where many threads back off at once against one simulated rate window."""

    def __init__(self, speed: float, start: float = 1_800_000_000.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start, self._real0 = float(start), time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        return self._start + (time.monotonic() - self._real0) * self.speed + self._offset

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead (never back); returns the simulated time now."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.time()


#: The clock production code uses.
SYSTEM_CLOCK: Clock = SystemClock()
