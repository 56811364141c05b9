"""Small helpers the Marketo kinds share: addresses, results, and writes that survive a lost reply."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from ....plan import Change, Desired, Live, Result, as_manual, classify_default
from ..client import MarketoClient
from ..errors import MarketoError, WriteOutcomeUnknown

T = TypeVar("T")
_BARE = re.compile(r"^[A-Za-z0-9_\-]+$")


def address(kind: str, name: str) -> str:
    """``marketo.channel."Kaltura Event"``: names with anything but letters, digits, ``_`` and ``-`` quoted."""
    if _BARE.match(name):
        return f"{kind}.{name}"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'{kind}."{escaped}"'


@dataclass
class MarketoLive(Live):
    """Live state plus what a kind's classify needs but the plan need not show (e.g. the approved version)."""

    approved: dict[str, Any] | None = field(default=None, repr=False)


def write_verified(write: Callable[[], T], applied: Callable[[], bool], rounds: int = 3) -> T | None:
    """Run a non-idempotent write; if its outcome is unknown (dropped connection, 5xx, timeout), re-read
    with ``applied()`` and write again only when it did not happen (up to ``rounds`` writes). Returns the
    write's result, or None when a re-read showed an earlier attempt had landed."""
    for round_ in range(1, rounds + 1):
        try:
            return write()
        except WriteOutcomeUnknown:
            if applied():
                return None
            if round_ == rounds:
                raise
    return None


class WritesAreas:
    """A Marketo kind that writes: the API permission areas its writes need (see :mod:`..permissions`),
    checked once before the run's first write (the engine calls :meth:`prepare` for every kind with
    changes before any kind applies), so a missing permission is named before anything is written."""

    areas: tuple[str, ...] = ()

    def prepare(self, conn: MarketoClient, changes: list[Change]) -> None:
        """Probe this kind's areas that no read of this run has proven; raise PermissionMissing naming them."""
        conn.ensure_preflight(self.areas)


def failure(address_: str, action: str, exc: Exception) -> Result:
    """A failed Result with Marketo's message (never a secret: client errors carry none)."""
    text = str(exc) if isinstance(exc, MarketoError) else f"{type(exc).__name__}: {exc}"
    return Result(address_, False, action, text)


def state_name(raw: str | None) -> str:
    """Marketo's type states in plan words: ``draft``, ``approved`` or ``approved with draft``."""
    value = (raw or "").strip()
    return {"approvedWithDraft": "approved with draft", "approved with draft": "approved with draft",
            "approved": "approved", "draft": "draft"}.get(value, value or "unknown")


def classify_type(kind: str, desired: Desired, live: Live, list_name: str, key: str,
                  list_keys: dict[str, str], forbidden: Callable[[dict[str, Any], dict[str, Any]], list[str]],
                  what: str, steps: Callable[[str], list[str]]) -> Change:
    """Classify a custom object or activity type.

    Only the list entries the manifest names are compared (others are not managed), and an
    update Marketo refuses once the type is approved becomes a manual step saying why.
    """
    if live.attributes is not None:
        named = {entry[key] for entry in desired.attributes.get(list_name, [])}
        shown = dict(live.attributes, **{list_name: [e for e in live.attributes[list_name] if e[key] in named]})
        live = MarketoLive(live.address, shown, live.info, approved=getattr(live, "approved", None))
    change = classify_default(desired, live, list_keys)
    approved = getattr(live, "approved", None)
    if change.actions != ["update"] or approved is None:
        return change
    why = forbidden(desired.attributes, approved)
    if not why:
        return change
    name = desired.address[len(kind) + 1:]
    return as_manual(change, f"Marketo refuses this once the {what} is approved: " + "; ".join(why), steps(name))


def approves(want: dict[str, Any], have: dict[str, Any], wrote: bool) -> bool:
    """True when apply approves a custom object or activity type: wanted approved, and just written
    (a new draft) or not approved yet."""
    return want.get("state") == "approved" and (wrote or have.get("state") != "approved")


def apply_each(changes: list[Change], apply_one: Callable[[Change], Result]) -> list[Result]:
    """Apply changes one type at a time; one type failing does not stop the others."""
    results = []
    for change in changes:
        try:
            results.append(apply_one(change))
        except Exception as exc:  # reported per address, never raised past the kind
            results.append(failure(change.address, change.action, exc))
    return results
