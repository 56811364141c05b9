"""Work items: one input row bound for one target, with its idempotency key and content hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .sources import Row


@dataclass(slots=True)  # a run makes one per target per input row per window, many times
class Item:
    """One row for one target; the sinks set ``state`` (confirmed/rejected) and ``reason``."""

    target: str
    key: str
    digest: str
    row: Row
    state: str = "pending"
    reason: str | None = None
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    at: float | None = None  # the row's ``time`` (epoch seconds): the latest row of a key wins
    recorded: bool = False  # its outcome is in the ledger (set by the engine when a call settles it)
    seq: int = 0  # the input row's place in the run (the spool's key for the row's fate and progress)

    def confirm(self, ref: str | None = None) -> None:
        self.state, self.ref = "confirmed", ref or self.ref

    def reject(self, reason: str) -> None:
        self.state, self.reason = "rejected", reason
