"""How many API calls ``apply`` of a plan will make, per provider, before it makes any.

Each kind knows its own cost (Terraform providers' style): an optional ``calls_for(changes) -> int``
counts the calls its ``apply`` makes for those changes, from the batch sizes its provider already
uses. A kind without one costs one call per change.
"""

from __future__ import annotations

from typing import Sequence

from .plan import Plan
from .resource import Change, ResourceKind, provider_of


def batches(count: int, size: int) -> int:
    """Calls needed for ``count`` items at ``size`` a call."""
    return -(-count // size) if count > 0 else 0


def kind_calls(kind: ResourceKind, changes: list[Change]) -> int:
    """The calls ``kind.apply(changes)`` makes: the kind's own count, or one call per change."""
    count = getattr(kind, "calls_for", None)
    return int(count(changes)) if count is not None else len(changes)


def apply_calls(plan: Plan, kinds: Sequence[ResourceKind]) -> dict[str, int]:
    """Calls apply makes to write this plan (manual steps and no-ops cost nothing), by provider."""
    out: dict[str, int] = {}
    for kind in kinds:
        changes = [c for c in plan.changes if c.kind == kind.name and not (c.is_no_op or c.is_manual)]
        if changes:
            provider = provider_of(kind.name)
            out[provider] = out.get(provider, 0) + kind_calls(kind, changes)
    return out
