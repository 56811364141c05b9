"""The forecast before writing: the API calls ``apply`` of a plan will use, per org, set against what
remains of each org's daily API limit today (read with :mod:`provisioner.limits`).

``plan`` prints it (text and JSON); ``apply`` and ``event new`` refuse with exit 3, before their first
write, when the writes ahead exceed what remains, unless given ``--ignore-limits``. ``sync`` uses the same
entries, rendering and refusal: ``sync --dry-run`` forecasts the real run's calls exactly (its reads made,
its writes counted by the sinks), and a real ``sync`` checks an upper bound of its writes before the first.
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
    help="Write even when the forecast of API calls exceeds what remains of an org's daily limit "
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
    exact: bool = True  # False: the writes are an upper bound (sync before matching)
    not_counted: str = ""  # what the figure leaves out (sync: campaigns/programs the sessions policy creates)

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
                "exact": self.exact and not self.not_counted, "not_counted": self.not_counted or None,
                "unknown": self.unknown or None}


def forecast(session: Any, plan: Any) -> list[OrgForecast]:
    """Each org the plan writes to: the calls its plan made so far, the writes ahead, and (one call per
    org) what remains of its daily limit. Nothing is read when the plan writes nothing."""
    from ..plan import apply_calls

    writes = apply_calls(plan, session.kinds)
    orgs = [org for org in session.connections if writes.get(org)]
    reads = {org: int(getattr(session.connections[org], "calls", 0)) for org in orgs}  # before the limit read
    return org_forecasts({org: (reads[org], writes[org]) for org in orgs}, session.connections)


def org_forecasts(calls: dict[str, tuple[int, int]], connections: Any, exact: bool = True,
                  not_counted: dict[str, str] | None = None) -> list[OrgForecast]:
    """``{org: (reads made, writes ahead)}`` set against what remains of each org's limit (one call per org);
    ``exact`` False: the writes are an upper bound; ``not_counted``: what an org's figure leaves out."""
    from ..limits import LimitsError, allowances

    orgs = list(calls)
    before = {org: getattr(connections[org], "calls", None) for org in orgs}
    try:
        found = allowances(connections, orgs)
    except LimitsError as exc:
        fail(str(exc), "set it to the daily API call limit of your Marketo subscription, or unset it (50,000)")
    except Exception as exc:  # a daily limit already used up: exit 3, like any call refused for it
        fail_connection(exc)
    out = []
    for org in orgs:
        allowance = found.get(org)
        counted = before[org] is not None  # the connection counts its calls: the limit check's cost is measured
        check = int(getattr(connections[org], "calls", 0)) - int(before[org]) if counted else LIMIT_CHECK
        entry = OrgForecast(org, *calls[org], limit_check=check, exact=exact,
                            not_counted=(not_counted or {}).get(org, ""))
        if isinstance(allowance, str) or allowance is None:
            entry.unknown = allowance or "this org reports no daily limit"
        else:
            entry.maximum, entry.remaining = allowance.maximum, allowance.remaining
        out.append(entry)
    return out


def render_forecast(forecasts: list[OrgForecast], run: str = "apply of this plan", who: str = "apply") -> str:
    """Text lines for ``plan`` (``sync --dry-run``): calls per org, their share of what remains, and whether
    ``who`` would refuse."""
    if not forecasts:
        return ""
    kind = "" if all(f.exact for f in forecasts) else ", an upper bound"
    lines = ["", f"API calls {run} will use (forecast{kind}):"]
    for f in forecasts:
        head = (f"  {f.org}: {f.calls:,} ({f.reads:,} to read, {f.limit_check} to check the limit, "
                f"{f'{f.writes:,} to write' if f.exact else f'at most {f.writes:,} to read and write from here'}"
                f"{'; not counting ' + f.not_counted if f.not_counted else ''})")
        if f.remaining is None:
            lines.append(f"{head}; what remains of today's limit is unknown: {f.unknown}")
        elif f.exceeds:
            lines.append(f"{head}, more than the {f.remaining:,} left of today's limit ({f.maximum:,} a day): "
                         f"{who} will refuse (exit 3) unless given --ignore-limits")
        else:
            share = 100 * f.calls / f.remaining
            lines.append(f"{head}: {share:.2f}% of the {f.remaining:,} left of today's limit ({f.maximum:,} a day)")
    return "\n".join(lines) + "\n"


def refuse_over_limit(session: Any, plan: Any) -> None:
    """Before apply's first write: exit 3 naming both numbers when an org has fewer calls left today than
    the writes ahead (the plan's reads are already spent)."""
    refusal = over_limit(forecast(session, plan), "apply", "Nothing was changed")
    if refusal is not None:
        raise refusal


def over_limit(forecasts: list[OrgForecast], who: str, outcome: str, spent: bool = True) -> DailyLimitReached | None:
    """The exit-3 error naming both numbers for each org whose calls ahead exceed what remains (``spent``: the
    reads are already made, only the writes count), or ``None`` when every org has room."""
    ahead = (lambda f: f.writes) if spent else (lambda f: f.calls)
    over = [f for f in forecasts if f.remaining is not None and ahead(f) > f.remaining]
    if not over:
        return None
    return DailyLimitReached(
        "; ".join(f"{f.org}: {who} needs {'' if f.exact else 'at most '}{ahead(f):,} API calls"
                  f"{(' to write' if f.exact else ' to read and write') if spent else ''}, "
                  f"more than the {f.remaining:,} left of today's limit "
                  f"({f.maximum:,} a day)" for f in over) + f". {outcome}",
        "run it again when the limit has room (Salesforce counts a rolling 24 hours, Marketo resets at "
        f"midnight US Central), or pass --ignore-limits to {who} anyway")
