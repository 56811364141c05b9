"""What is left of each org's daily API allowance today: Salesforce's ``GET /services/data/vXX.X/limits``
(``DailyApiRequests`` Max and Remaining) and Marketo's ``GET /rest/v1/stats/usage.json`` (the calls used
today; the quota itself is not in Marketo's API: 50,000 by default, or ``MARKETO_DAILY_QUOTA``).

One read per org, shared by the plan/apply forecast and ``sync --dry-run``: pass the connections a
session holds, keyed by provider name, and compare a forecast with :attr:`Allowance.remaining`::

    left = allowances({"salesforce": sf_connection, "marketo": marketo_client})
    for org, calls in forecast.items():          # e.g. {"salesforce": 13, "marketo": 4}
        allowance = left.get(org)                # an Allowance, or a str saying why it is unknown
        if isinstance(allowance, Allowance) and calls > allowance.remaining:
            ...                                  # refuse: exit 3 (EXIT_QUOTA), naming both numbers
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

#: Marketo's documented default daily quota (contracts may raise it: say so in MARKETO_DAILY_QUOTA).
MARKETO_DEFAULT_QUOTA = 50_000
MARKETO_QUOTA_VARIABLE = "MARKETO_DAILY_QUOTA"


class LimitsError(Exception):
    """A setting about limits the user must fix (the message names the variable)."""


@dataclass(frozen=True)
class Allowance:
    """An org's daily API allowance: the maximum a day and what remains of it now."""

    org: str
    maximum: int
    remaining: int

    def share(self, calls: int) -> float | None:
        """``calls`` as a fraction of what remains (None when nothing remains)."""
        return calls / self.remaining if self.remaining > 0 else None


def marketo_quota(env: Mapping[str, str] | None = None) -> int:
    """The instance's daily quota: MARKETO_DAILY_QUOTA when set, else Marketo's default 50,000."""
    raw = ((os.environ if env is None else env).get(MARKETO_QUOTA_VARIABLE) or "").strip()
    if not raw:
        return MARKETO_DEFAULT_QUOTA
    try:
        quota = int(raw.replace(",", "").replace("_", ""))
    except ValueError:
        raise LimitsError(f"{MARKETO_QUOTA_VARIABLE} must be a whole number of calls a day, not {raw!r}") from None
    if quota < 1:
        raise LimitsError(f"{MARKETO_QUOTA_VARIABLE} must be at least 1")
    return quota


def salesforce_allowance(conn: Any) -> Allowance:
    """DailyApiRequests: from the ``Sforce-Limit-Info`` header of the connection's last REST reply when it
    saw one (no call), else from ``/limits`` (one API call; it counts against the limit like any other)."""
    usage = getattr(conn, "api_usage", None)
    if usage:
        used, maximum = usage
        return Allowance("salesforce", maximum, max(0, maximum - used))
    found = conn.data.limits().get("DailyApiRequests") or {}
    return Allowance("salesforce", int(found.get("Max", 0)), int(found.get("Remaining", 0)))


def marketo_allowance(client: Any, env: Mapping[str, str] | None = None) -> Allowance:
    """The quota less today's calls from ``stats/usage.json`` (one call, no permission needed)."""
    quota = marketo_quota(env)
    days = client.get("/rest/v1/stats/usage.json")
    used = sum(int(day.get("total") or 0) for day in days)
    return Allowance("marketo", quota, max(0, quota - used))


READERS = {"salesforce": salesforce_allowance, "marketo": marketo_allowance}
#: Orgs whose REST replies state today's usage (Salesforce's Sforce-Limit-Info): once one came, reading what
#: remains costs no call. Marketo states it only through stats/usage.json (one call).
STATED_IN_REPLIES = frozenset({"salesforce"})


def daily_limit_errors() -> tuple[type[Exception], ...]:
    """The providers' "daily API limit used up" errors (Salesforce REQUEST_LIMIT_EXCEEDED, Marketo 607)."""
    from .providers.marketo.errors import QuotaExceeded
    from .providers.salesforce.retry import DailyLimitExceeded

    return (DailyLimitExceeded, QuotaExceeded)


def allowances(connections: Mapping[str, Any], orgs: list[str] | None = None) -> dict[str, Allowance | str]:
    """Each connected org's allowance, or why it could not be read (a daily limit already used up raises:
    the caller stops with exit 3 as for any call)."""
    out: dict[str, Allowance | str] = {}
    for org in orgs if orgs is not None else list(connections):
        reader = READERS.get(org)
        if reader is None or connections.get(org) is None:
            continue
        try:
            out[org] = reader(connections[org])
        except (LimitsError, *daily_limit_errors()):
            raise
        except Exception as exc:  # an org that cannot say: the forecast is shown without a share
            out[org] = f"could not read the remaining limit ({exc})"
    return out
