"""The Sync manifest's policy, in one place: how people are matched, which status a source status becomes,
and what happens to a session that has no campaign or program. Plain functions the sinks call.

- Matching (``spec.salesforce.matching``): ``order`` (objects searched, first match wins),
  ``duplicates`` (``oldest`` or ``newest`` record of one email wins), ``ignoreConvertedLeads``.
- Status map (``spec.statusMap``): source values match case-insensitively (``Attended`` = ``attended``);
  a target without its own status in an entry gets the entry's ``displayedAs``.
- Sessions (``spec.sessions``): ``policy: declared`` (default) rejects a row whose session has no
  campaign/program, with the nearest existing name as a hint; ``policy: create`` creates one from the
  template, except for past sessions (a ``session_start`` before now), like ``event new``, unless
  ``includePast: true``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from ..manifest.model import StatusMapping

SESSION_START = "session_start"  # optional column: when the session starts (ISO 8601)
SESSION_TYPE = "session_type"  # optional column: live (default) or on-demand


@dataclass(frozen=True)
class Matching:
    """``spec.salesforce.matching`` as the sink applies it."""

    order: tuple[str, ...] = ("Contact", "Lead")
    duplicates: str = "oldest"
    ignore_converted_leads: bool = True

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> "Matching":
        return cls(tuple(spec.get("order") or ("Contact", "Lead")), spec.get("duplicates", "oldest"),
                   bool(spec.get("ignoreConvertedLeads", True)))


@dataclass(frozen=True)
class Sessions:
    """``spec.sessions``: declared (the default) or created per session from a template."""

    policy: str = "declared"  # create: a campaign from spec.salesforce.campaign, a program from spec.marketo.program
    include_past: bool = False

    @classmethod
    def from_spec(cls, spec: dict[str, Any] | None) -> "Sessions":
        spec = spec or {}
        return cls(spec.get("policy", "declared"), bool(spec.get("includePast", False)))

    @property
    def create(self) -> bool:
        return self.policy == "create"


# -- people --------------------------------------------------------------------------------------------

def match_soql(obj: str, matching: Matching) -> str:
    """The SOQL (with ``{values}`` for the IN list of e-mails) that finds ``obj`` records in policy order:
    the winning record of an e-mail comes first."""
    extra = " AND IsConverted = false" if obj == "Lead" and matching.ignore_converted_leads else ""
    way = "ASC" if matching.duplicates == "oldest" else "DESC"
    return (f"SELECT Id, Email, CreatedDate FROM {obj} WHERE Email IN ({{values}}){extra} "
            f"ORDER BY CreatedDate {way}, Id {way}")


def choose_people(found: dict[str, list[dict[str, Any]]], emails: Iterable[str],
                  matching: Matching) -> dict[str, tuple[str, str]]:
    """``email → (object, Id)``: the first object of ``order`` that has the e-mail, and within it the first
    record of its query (``match_soql`` sorts by the duplicates rule)."""
    wanted = set(emails)
    chosen: dict[str, tuple[str, str]] = {}
    for obj in matching.order:
        for record in found.get(obj, []):
            email = (record.get("Email") or "").lower()
            if email in wanted and email not in chosen:
                chosen[email] = (obj, record["Id"])
    return chosen


# -- statuses ------------------------------------------------------------------------------------------

def status_key(value: str) -> str:
    """How source statuses compare: case and surrounding spaces do not matter."""
    return value.strip().casefold()


def status_map(entries: Sequence[StatusMapping], target: str) -> dict[str, str]:
    """``status_key(source) → target status`` for ``salesforce`` or ``marketo``; an entry without the target's
    own status writes its ``displayedAs`` (what the platform shows) there."""
    out: dict[str, str] = {}
    for m in entries:
        value = getattr(m, target) or m.displayed_as
        if value:
            out[status_key(m.source)] = value
    return out


def map_status(mapping: dict[str, str], source: str) -> str | None:
    """The target status of a source status (case-insensitive), ``None`` when the map has none."""
    return mapping.get(status_key(source))


# -- sessions ------------------------------------------------------------------------------------------

def nearest(name: str, names: Iterable[str]) -> str | None:
    """The existing name closest to ``name`` (case-insensitive), for a "did you mean" hint."""
    by_key = {n.casefold(): n for n in names if n}
    close = difflib.get_close_matches(name.casefold(), list(by_key), n=1, cutoff=0.6)
    return by_key[close[0]] if close else None


def same_name(name: str, names: Iterable[str]) -> str | None:
    """The existing name equal to ``name`` but for case (program and campaign names are case-insensitive)."""
    key = name.casefold()
    return next((n for n in names if n.casefold() == key), None)


def session_start(data: dict[str, str]) -> datetime | None:
    """The ``session_start`` of a row, read as ``event new`` reads a session's start (naive means UTC)."""
    from ..events.sessions import parse_when
    return parse_when(data.get(SESSION_START) or "")


def may_create(sessions: Sessions, data: dict[str, str], now: datetime | None = None) -> str | None:
    """Why no campaign/program may be created for the session of this row (``None``: create it).

    Same rule as ``event new``: a live session that has started is past and gets none unless asked.
    """
    if not sessions.create:
        return "spec.sessions.policy is declared"
    start = session_start(data)
    on_demand = (data.get(SESSION_TYPE) or "").strip().lower().replace(" ", "-") in ("on-demand", "ondemand")
    if start is not None and not on_demand and not sessions.include_past and start < (now or datetime.now(timezone.utc)):
        return f"the session started {start:%Y-%m-%d %H:%M} UTC: past sessions get none (spec.sessions.includePast)"
    return None


def missing_session(kind: str, name: str, existing: Iterable[str], why: str) -> str:
    """The reject reason of a row whose session has no ``kind`` (campaign, program), with a hint."""
    hint = nearest(name, existing)
    text = f"no {kind} named {name!r}"
    if hint:
        text += f" (did you mean {hint!r}?)"
    if why == "spec.sessions.policy is declared":
        return (text + "; create it with `provisioner event new`, fix the session name, or set "
                "spec.sessions.policy: create in the Sync manifest")
    return f"{text}; not created: {why}"
