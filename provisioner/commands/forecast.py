"""The forecast before writing: the API calls ``apply`` of a plan will use, per org, set against what
remains of each org's daily API limit today (read with :mod:`provisioner.limits`).

``plan`` prints it (text and JSON); ``apply`` and ``event new`` refuse with exit 3, before their first
write, when the writes ahead exceed what remains, unless given ``--ignore-limits``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from .common import DailyLimitReached, fail, fail_connection

#: apply reads each org's remaining limit once (one API call) before its first write, unless the org's
#: replies already said it (Salesforce's Sforce-Limit-Info header): then the check costs nothing.
LIMIT_CHECK = 1

ignore_limits_option = click.option(
    "--ignore-limits", is_flag=True,
    help="Apply even when the forecast of API calls exceeds what remains of an org's daily limit "
         "(and do not read the limits: one call less per org).")


@dataclass
class OrgForecast:
    """One org: the calls a plan cost to read, the calls apply writes with, and what remains today."""

    org: str
    reads: int
    writes: int
    maximum: int | None = None
    remaining: int | None = None
    unknown: str = ""
    limit_check: int = LIMIT_CHECK  # what reading the remaining limit cost (0 when the replies carried it)

    @property
    def calls(self) -> int:
        """What ``apply`` of the plan uses: a fresh plan (as many reads), the limit check, the writes."""
        return self.reads + self.limit_check + self.writes

    @property
    def exceeds(self) -> bool:
        """True when the calls apply will use are more than what remains of the daily limit."""
        return self.remaining is not None and self.calls > self.remaining

    def as_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "reads": self.reads, "limit_check": self.limit_check, "writes": self.writes,
                "daily_limit": self.maximum, "remaining": self.remaining,
                "share": self.calls / self.remaining if self.remaining else None, "exceeds": self.exceeds,
                "unknown": self.unknown or None}


def forecast(session: Any, plan: Any) -> list[OrgForecast]:
    """Each org the plan writes to: the calls its plan made so far, the writes ahead, and (one call per
    org) what remains of its daily limit. Nothing is read when the plan writes nothing."""
    from ..limits import LimitsError, allowances
    from ..plan import apply_calls

    writes = apply_calls(plan, session.kinds)
    orgs = [org for org in session.connections if writes.get(org)]
    reads = {org: int(getattr(session.connections[org], "calls", 0)) for org in orgs}  # before the limit read
    try:
        found = allowances(session.connections, orgs)
    except LimitsError as exc:
        fail(str(exc), "set it to the daily API call limit of your Marketo subscription, or unset it (50,000)")
    except Exception as exc:  # a daily limit already used up: exit 3, like any call refused for it
        fail_connection(exc)
    out = []
    for org in orgs:
        allowance = found.get(org)
        check = int(getattr(session.connections[org], "calls", 0)) - reads[org] if reads[org] else LIMIT_CHECK
        entry = OrgForecast(org, reads[org], writes[org], limit_check=check)
        if isinstance(allowance, str) or allowance is None:
            entry.unknown = allowance or "this org reports no daily limit"
        else:
            entry.maximum, entry.remaining = allowance.maximum, allowance.remaining
        out.append(entry)
    return out


def render_forecast(forecasts: list[OrgForecast]) -> str:
    """Text lines for ``plan``: calls per org, their share of what remains, and whether apply would refuse."""
    if not forecasts:
        return ""
    lines = ["", "API calls apply of this plan will use (forecast):"]
    for f in forecasts:
        head = (f"  {f.org}: {f.calls:,} ({f.reads:,} to read, {f.limit_check} to check the limit, "
                f"{f.writes:,} to write)")
        if f.remaining is None:
            lines.append(f"{head}; what remains of today's limit is unknown: {f.unknown}")
        elif f.exceeds:
            lines.append(f"{head}, more than the {f.remaining:,} left of today's limit ({f.maximum:,} a day): "
                         "apply will refuse (exit 3) unless given --ignore-limits")
        else:
            share = 100 * f.calls / f.remaining
            lines.append(f"{head}: {share:.2f}% of the {f.remaining:,} left of today's limit ({f.maximum:,} a day)")
    return "\n".join(lines) + "\n"


def refuse_over_limit(session: Any, plan: Any) -> None:
    """Before apply's first write: exit 3 naming both numbers when an org has fewer calls left today than
    the writes ahead (the plan's reads are already spent)."""
    over = [f for f in forecast(session, plan) if f.remaining is not None and f.writes > f.remaining]
    if over:
        raise DailyLimitReached(
            "; ".join(f"{f.org}: apply needs {f.writes:,} API calls to write, more than the {f.remaining:,} left "
                      f"of today's limit ({f.maximum:,} a day)" for f in over) + ". Nothing was changed",
            "run it again when the limit has room (Salesforce counts a rolling 24 hours, Marketo resets at "
            "midnight US Central), or pass --ignore-limits to apply anyway")
