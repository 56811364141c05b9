"""Helpers the Salesforce kinds share: addresses and turning API results into Results."""

from __future__ import annotations

from typing import Sequence

from ....plan.forecast import batches
from ....plan.resource import Change, Result
from ..metadata_client import MAX_COMPONENTS, ComponentResult


def quoted(name: str) -> str:
    """Terraform-style address segment: quoted when it has spaces or dots."""
    return f'"{name}"' if any(c in name for c in ' ."') else name


def metadata_calls(changes: Sequence[Change]) -> int:
    """Calls a metadata kind's apply makes: upserts, then deletes, MAX_COMPONENTS components a call."""
    upserts = sum(c.action in ("create", "update") for c in changes)
    deletes = sum(c.action == "delete" for c in changes)
    return batches(upserts, MAX_COMPONENTS) + batches(deletes, MAX_COMPONENTS)


def metadata_results(changes: Sequence[Change], results: Sequence[ComponentResult],
                     full_names: Sequence[str]) -> list[Result]:
    """One Result per change, matching components by full name (case-insensitively)."""
    by_name = {r.full_name.lower(): r for r in results}
    out = []
    for change, full_name in zip(changes, full_names):
        result = by_name.get(full_name.lower())
        if result is None:
            out.append(Result(change.address, False, change.action, "no result returned for this component"))
        elif result.success:
            out.append(Result(change.address, True, change.action))
        else:
            out.append(Result(change.address, False, change.action, result.message()))
    return out
