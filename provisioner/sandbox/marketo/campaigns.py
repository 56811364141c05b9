"""Smart campaigns (``GET /rest/v1/campaigns.json``): listed, never run.

The sandbox holds no smart campaigns; the route exists because a client checks the API
user's Read-Write Campaigns permission with it, as the Kaltura article asks for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MarketoApp
    from .context import CallContext


def browse_campaigns(app: "MarketoApp", ctx: "CallContext") -> dict[str, Any]:
    """``GET campaigns.json``: the instance's smart campaigns (none here), paged like Marketo's."""
    for name in ("id", "name", "programName", "workspaceName", "batchSize", "nextPageToken", "isTriggerable"):
        ctx.query(name)
    return {"result": []}
