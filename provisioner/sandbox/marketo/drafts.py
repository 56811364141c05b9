"""The draft/approved versioning Marketo uses for custom object types and custom activity types.

An entry is ``{"approved": model | None, "draft": model | None, "updatedAt": ...}``: edits land in
the draft (a copy of the approved model when there is none yet) until approve publishes it.
"""

from __future__ import annotations

import copy
from typing import Any

from . import errors
from .errors import ApiError
from .state import now_iso


def entry_named(entries: dict[str, Any], api_name: str, what: str) -> dict[str, Any]:
    """The entry called ``api_name`` (1013 naming ``what`` when there is none)."""
    entry = entries.get(api_name)
    if entry is None:
        raise ApiError(errors.OBJECT_NOT_FOUND, f"{what} '{api_name}' not found")
    return entry


def state_of(entry: dict[str, Any]) -> str:
    """``draft`` (never approved), ``approved``, or ``approvedWithDraft``."""
    if entry["approved"] is None:
        return "draft"
    return "approvedWithDraft" if entry["draft"] is not None else "approved"


def current(entry: dict[str, Any]) -> dict[str, Any]:
    """The model edits apply to: the draft when there is one, else the approved model."""
    return entry["draft"] if entry["draft"] is not None else entry["approved"]


def editable(entry: dict[str, Any]) -> dict[str, Any]:
    """The draft to change, created from the approved model on the first edit after approval."""
    if entry["draft"] is None:
        entry["draft"] = copy.deepcopy(entry["approved"])
    entry["updatedAt"] = now_iso()
    return entry["draft"]


def publish(entry: dict[str, Any]) -> None:
    """Make the draft the approved model (the caller has checked there is a valid draft)."""
    entry["approved"], entry["draft"] = entry["draft"], None
    entry["updatedAt"] = now_iso()


def discard(entry: dict[str, Any], what: str) -> None:
    """Drop the draft of an approved model (1048 when there is nothing approved to fall back to)."""
    if entry["draft"] is None or entry["approved"] is None:
        raise ApiError(errors.DISCARD_DRAFT_FAILED, f"{what} has no draft of an approved version to discard "
                       "(delete a never-approved type instead)")
    entry["draft"] = None
    entry["updatedAt"] = now_iso()
