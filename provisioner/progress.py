"""A progress bar for long applies (``event new`` with many sessions): changes done, changes per
second and the time left, on stderr, only on a terminal (never in logs or JSON output)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator


def _noop(result: Any) -> None:
    """Stands in for the bar when it is off."""


@contextmanager
def apply_progress(plan: Any, enabled: bool = True, label: str = "applying") -> Iterator[Callable[[Any], None]]:
    """Yield a callback that advances the bar by one apply result.

    Off (the callback does nothing) when ``enabled`` is False, stderr is not a terminal, or there
    is nothing to apply. The bar counts the plan's changes that are not no-ops or manual steps;
    ``label`` says what they are for (e.g. ``applying 50 sessions``).
    """
    total = 0 if plan is None else sum(1 for c in plan.changes if not (c.is_no_op or c.is_manual))
    if not enabled or total == 0 or not sys.stderr.isatty():
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), console=Console(stderr=True), transient=False)
    task = progress.add_task(label, total=total, rate="-- changes/s")

    def advance(result: Any) -> None:
        progress.advance(task)
        speed = progress.tasks[0].speed
        progress.update(task, rate=f"{speed:.1f} changes/s" if speed else "-- changes/s")

    with progress:
        yield advance
