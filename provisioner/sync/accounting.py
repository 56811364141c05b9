"""The one account of a sync run: every row read ends confirmed, rejected, unchanged or pending, and the
four add up to the rows read — ``read N = confirmed C + rejected R + unchanged U + pending P``.

A row is one logical record of the input. It may go to several targets (a registration: the
CampaignMember, the Marketo lead and program member); its fate is the least settled of its targets':
pending if any target is not settled yet, else rejected if any target rejected it (it is in the rejects
file), else confirmed if any target wrote it, else unchanged (every target already had it, from an
earlier run, or a later row of the same key replaced it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

FATES = ("confirmed", "rejected", "unchanged", "pending")
VERSION = 1  # of the JSON shape below; bump on any incompatible change


def fate(states: Iterable[str]) -> str:
    """One row's fate from the states of its work items (none: unchanged)."""
    states = set(states)
    if states - {"confirmed", "rejected"}:
        return "pending"  # pending, sent or reconciled: not known to be in the target yet
    if "rejected" in states:
        return "rejected"
    return "confirmed" if states else "unchanged"


@dataclass
class Accounts:
    """Row fates of one run, counted once per row."""

    read: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FATES, 0))

    def settle(self, fates: Iterable[str]) -> None:
        """Count rows read and settled (one fate per row)."""
        for f in fates:
            self.read += 1
            self.counts[f] += 1

    def settle_batch(self, batch: Iterable[Any], items: Iterable[Any], settled: dict[int, str]) -> None:
        """Count the rows of one batch: ``settled`` holds fates decided before any write (by ``id(row)``);
        every other row's fate comes from the states of its work items (rows are matched by identity)."""
        states: dict[int, list[str]] = {}
        for item in items:
            states.setdefault(id(item.row), []).append(item.state)
        self.settle(settled.get(id(row)) or fate(states.get(id(row), ())) for row in batch)

    @property
    def pending(self) -> int:
        return self.counts["pending"]

    def adds_up(self) -> bool:
        return self.read == sum(self.counts.values())

    def line(self, dry_run: bool = False) -> str:
        """``read 40 = confirmed 35 + rejected 3 + unchanged 2 + pending 0`` (dry run: would be written)."""
        c = self.counts
        first = "would be written" if dry_run else "confirmed"
        return (f"read {self.read} = {first} {c['confirmed']} + rejected {c['rejected']} + "
                f"unchanged {c['unchanged']} + pending {c['pending']}")

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, **self.counts}
