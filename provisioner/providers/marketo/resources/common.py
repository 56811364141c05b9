"""Small helpers the Marketo kinds share: addresses, results, and writes that survive a lost reply."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from ....plan import Live, Result
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


def failure(address_: str, action: str, exc: Exception) -> Result:
    """A failed Result with Marketo's message (never a secret: client errors carry none)."""
    text = str(exc) if isinstance(exc, MarketoError) else f"{type(exc).__name__}: {exc}"
    return Result(address_, False, action, text)


def state_name(raw: str | None) -> str:
    """Marketo's type states in plan words: ``draft``, ``approved`` or ``approved with draft``."""
    value = (raw or "").strip()
    return {"approvedWithDraft": "approved with draft", "approved with draft": "approved with draft",
            "approved": "approved", "draft": "draft"}.get(value, value or "unknown")
