"""kill -9 at random points, then run again: the orgs end as after one uninterrupted run, with no duplicates."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from synchelp import BATCH, PEOPLE, SERVE, ServedSandbox, duplicates, run_sync_cli

SEEDS = range(10)
BULK_SEEDS = range(100, 104)  # the same with Marketo bulk imports (and Salesforce Bulk API 2.0 jobs) in flight


def test_the_uninterrupted_run_has_no_duplicates(uninterrupted: Any) -> None:
    snap, _ = uninterrupted
    assert duplicates(snap) == {}
    assert sum(snap["mk.activities"].values()) == PEOPLE // 2 and sum(snap["CampaignMember"].values()) == PEOPLE + 3


@pytest.mark.parametrize("seed", [*SEEDS, *BULK_SEEDS])
def test_killed_at_random_points_ends_like_the_uninterrupted_run(seed: int, base_state: Path, uninterrupted: Any,
                                                                 small_data: list[str], tmp_path: Path) -> None:
    """Bulk imports are upserts (leads by email, custom objects on their dedupe fields, members forward-only):
    one in flight at the kill is waited for by the next run, then its rows are simply sent again."""
    expected, duration = uninterrupted
    bulk = ("--bulk-threshold", "2") if seed in BULK_SEEDS else ()
    rng = random.Random(seed)
    box = ServedSandbox(base_state, tmp_path, *SERVE)
    try:
        kills = 0
        planned = rng.choice((1, 2))  # kill once or twice, at a random moment of the run
        for attempt in range(planned + 3):
            proc = run_sync_cli(box.env, tmp_path, *BATCH, *bulk, data=small_data)
            if attempt < planned:
                # A point inside the run: at most 60 % of an uninterrupted run's length, so even a
                # faster run on an idle machine is still going when the kill comes.
                time.sleep(rng.uniform(0.05, 0.6) * duration)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
            out, err = proc.communicate(timeout=120)
            if proc.returncode == 0:
                break
            assert proc.returncode == -signal.SIGKILL, out + err
        else:
            pytest.fail("the sync never finished")
        assert kills >= 1 or planned == 0
        snap = box.snapshot()
        assert duplicates(snap) == {}
        for kind in expected:
            assert snap[kind] == expected[kind], (kind, seed, kills)
    finally:
        box.stop()
