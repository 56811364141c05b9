"""The emulated instance's data: one JSON-serialisable dict, seeded with folders and channels.

Keys of id-indexed maps are strings so that ``snapshot()`` survives a JSON round trip unchanged.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

#: Folders every new instance has (Marketo's system roots plus two working folders).
SEED_FOLDERS: tuple[tuple[int, str, int | None, bool], ...] = (
    (10, "Marketing Activities", None, True),
    (11, "Webinars", 10, False),
    (12, "Events", 10, False),
    (13, "Design Studio", None, True),
)


def now_iso(at: float | None = None) -> str:
    """A timestamp as Marketo writes them (UTC, seconds, ``Z``)."""
    moment = _dt.datetime.now(_dt.timezone.utc) if at is None else _dt.datetime.fromtimestamp(at, _dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> _dt.datetime | None:
    """An ISO-8601 date or datetime (``Z`` or offset; a bare date is midnight UTC), or None if it is not one."""
    try:
        value = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def new_state(channels: list[dict[str, Any]]) -> dict[str, Any]:
    """A fresh instance: seeded folders and the configured channels, nothing else."""
    stamp = now_iso()
    state: dict[str, Any] = {
        "counters": {"folder": 100, "program": 1000, "lead": 0, "activityType": 100000, "activity": 0,
                     "batch": 0, "request": 0},
        "tokens": {},  # sha256 of an access token -> {"expires_at": epoch seconds}
        "folders": {},
        "channels": {},
        "programs": {},
        "members": {},  # programId -> {leadId -> member}
        "leads": {},
        "customObjectTypes": {},  # apiName -> {"approved": def|None, "draft": def|None, ...}
        "customObjects": {},  # apiName -> {marketoGUID -> record}
        "activityTypes": {},  # apiName -> {"id": n, "approved": def|None, "draft": def|None, ...}
        "activities": [],
        "batches": {},
    }
    for fid, name, parent, system in SEED_FOLDERS:
        state["folders"][str(fid)] = {"id": fid, "name": name, "parentId": parent, "isSystem": system,
                                     "description": "", "createdAt": stamp, "updatedAt": stamp}
    for i, channel in enumerate(channels, start=1):
        state["channels"][str(i)] = {"id": i, **channel, "createdAt": stamp, "updatedAt": stamp}
    return state


def next_id(state: dict[str, Any], kind: str) -> int:
    """The next number of a counter (ids, batch ids, request ids)."""
    state["counters"][kind] += 1
    return state["counters"][kind]
