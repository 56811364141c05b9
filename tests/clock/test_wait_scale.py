"""PROVISIONER_WAIT_SCALE: the system clock's waits are divided by it (the test suite's sync subprocesses run
with it), while the time read stays the system's, so a wait cut short is followed by a fresh look."""

from __future__ import annotations

import time

import pytest

from provisioner.clock import WAIT_SCALE_VARIABLE, SystemClock, wait_scale_from_env


@pytest.mark.parametrize("value,scale", [("50", 50.0), ("1", 1.0), ("", 1.0), ("0.5", 1.0), ("fast", 1.0),
                                         ("-3", 1.0)])
def test_the_scale_is_read_from_the_environment_and_never_slows_waits(value: str, scale: float,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WAIT_SCALE_VARIABLE, value)
    assert wait_scale_from_env() == scale
    assert SystemClock().wait_scale == scale


def test_a_scaled_clock_waits_a_fraction_and_reads_the_real_time() -> None:
    clock = SystemClock(wait_scale=100)
    wall, started = time.time(), time.monotonic()
    clock.sleep(2.0)  # 20 ms
    waited = time.monotonic() - started
    assert 0.015 <= waited < 1.0
    assert abs(clock.time() - time.time()) < 0.01 and abs(clock.monotonic() - time.monotonic()) < 0.01
    assert clock.time() - wall < 1.0  # the time read did not jump by the 2 s asked for
