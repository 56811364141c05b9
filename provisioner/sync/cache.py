"""A bounded dict (oldest entries dropped first), so the people and lead-id caches stay small on huge inputs."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(OrderedDict, Generic[K, V]):  # type: ignore[type-arg]
    """An insertion-ordered dict cut back to ``limit`` entries by :meth:`trim` (called between batches, never
    inside one, so a batch always finds what it put in); a dropped entry is simply looked up again."""

    def __init__(self, limit: int = 100_000) -> None:
        super().__init__()
        self.limit = limit

    def trim(self) -> None:
        """Drop the oldest entries beyond ``limit``."""
        while len(self) > self.limit:
            self.popitem(last=False)
