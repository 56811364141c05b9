"""What an apply did: one Result per applied (or skipped) address, and the manual steps left."""

from __future__ import annotations

from dataclasses import dataclass, field

from .resource import Change, Result


@dataclass
class ApplyReport:
    """Results in the order they happened, and manual changes that were reported, not applied."""

    results: list[Result] = field(default_factory=list)
    manual: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every applied change succeeded (manual steps do not count as failures)."""
        return all(r.ok for r in self.results)

    @property
    def has_manual(self) -> bool:
        """True when a human still has to act; ``--strict`` callers treat this as failure."""
        return bool(self.manual)

    @property
    def failed(self) -> list[Result]:
        """Results that failed or were skipped because a dependency failed."""
        return [r for r in self.results if not r.ok]

    @property
    def skipped(self) -> list[Result]:
        """Results skipped because a dependency failed."""
        return [r for r in self.results if not r.ok and r.message.startswith("skipped:")]

    def count(self, *actions: str) -> int:
        """How many changes with one of ``actions`` succeeded."""
        return sum(r.ok and r.action in actions for r in self.results)

    @property
    def added(self) -> int:
        """Resources created, replacements included."""
        return self.count("create", "replace")

    @property
    def changed(self) -> int:
        """Resources updated in place."""
        return self.count("update")

    @property
    def destroyed(self) -> int:
        """Resources deleted, replacements included."""
        return self.count("delete", "replace")
