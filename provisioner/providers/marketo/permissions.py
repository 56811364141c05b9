"""The API role permissions the tool needs, which calls need which, and a cheap read that proves each."""

from __future__ import annotations

PERSON = "Read-Write Person"
ACTIVITY = "Read-Write Activity"
ACTIVITY_METADATA = "Read-Write Activity Metadata"
ASSETS = "Read-Write Assets"
CAMPAIGNS = "Read-Write Campaigns"

#: In the order the setup articles list them.
REQUIRED = (PERSON, ACTIVITY, ACTIVITY_METADATA, ASSETS, CAMPAIGNS)

#: One cheap read per permission area (path, query). Marketo has no API to list a role's
#: permissions, so a successful read proves at least read access to the area; a missing write
#: permission still shows on the first write, as a 603 naming the area (see :func:`area_of`).
PROBES: dict[str, tuple[str, dict[str, str]]] = {
    PERSON: ("/rest/v1/leads/describe.json", {}),
    ACTIVITY: ("/rest/v1/activities/pagingtoken.json", {"sinceDatetime": "2020-01-01T00:00:00Z"}),
    ACTIVITY_METADATA: ("/rest/v1/activities/external/types.json", {}),
    ASSETS: ("/rest/asset/v1/channels.json", {"maxReturn": "1"}),
    CAMPAIGNS: ("/rest/v1/campaigns.json", {"batchSize": "1"}),
}


def area_of(path: str) -> str | None:
    """The permission area a REST path belongs to (custom object *types* are schema: Assets)."""
    if path.startswith("/rest/asset/") or path.startswith("/rest/v1/customobjects/schema"):
        return ASSETS
    if path.startswith("/rest/v1/activities/external/type"):
        return ACTIVITY_METADATA
    if path.startswith("/rest/v1/activities"):
        return ACTIVITY
    if path.startswith("/rest/v1/campaigns"):
        return CAMPAIGNS
    if path.startswith(("/rest/v1/leads", "/rest/v1/programs", "/rest/v1/customobjects", "/bulk/")):
        return PERSON
    return None
