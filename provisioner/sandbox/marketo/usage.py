"""Usage statistics (``GET /rest/v1/stats/usage.json``): the API calls the instance admitted today.

Marketo counts calls per day in its home time zone (the day the daily quota covers); the reply is a
list of ``UsageData`` (``date``, ``total``, ``users``: one ``UserCount`` per API user) as Adobe's
OpenAPI document describes it. The daily quota itself is not in the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MarketoApp
    from .context import CallContext


def daily_usage(app: "MarketoApp", ctx: "CallContext") -> dict[str, Any]:
    """``GET stats/usage.json``: today's calls, this one included (it was admitted before it was served)."""
    day, total = app.calls_today()
    return {"result": [{"date": f"{day.isoformat()}T00:00:00Z", "total": total,
                        "users": [{"userId": app.config.api_user, "count": total}] if total else []}]}
