"""The route table of the emulated instance: every path it serves, as spelled in Adobe's OpenAPI documents.

The contract test enumerates :data:`ROUTES` and checks each against the specs, so a route is
added here and nowhere else. ``permission`` is the API role permission a call needs (see below).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..httpserver import Request
from . import activities, assets, bulk, campaigns, customobjects, leads, usage

# Permission names are the five the setup articles ask for. The OpenAPI documents name finer
# ones ("Read-Write Lead", "Read-Write Custom Object", "Read-Write Custom Object Type"); they map
# here as: lead, program member, custom object record and bulk calls -> Read-Write Person;
# custom object *types* -> Read-Write Assets (schema administration); activity types ->
# Read-Write Activity Metadata; activities -> Read-Write Activity; the smart campaign list ->
# Read-Write Campaigns (smart campaigns are listed, none exist and none run).
PERSON = "Read-Write Person"
ACTIVITY = "Read-Write Activity"
ACTIVITY_METADATA = "Read-Write Activity Metadata"
ASSETS = "Read-Write Assets"
CAMPAIGNS = "Read-Write Campaigns"

A = "/rest/asset/v1"
CO = "/rest/v1/customobjects"
AT = "/rest/v1/activities/external/type"


@dataclass(frozen=True)
class Route:
    """One served operation: HTTP method, the spec's path template, its handler and what it needs."""

    method: str
    path: str
    handler: Callable[..., Any]
    permission: str | None
    body: str = "none"  # "none" | "json" | "form" | "multipart"
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def name(self) -> str:
        """The stable name used in call statistics, e.g. ``GET /rest/asset/v1/program/{id}.json``."""
        return f"{self.method} {self.path}"


def _identity(*_: Any) -> Any:  # served by the app itself (no token, no envelope)
    raise NotImplementedError


IDENTITY_PATH = "/identity/oauth/token"
FORM = "application/x-www-form-urlencoded"

ROUTES: tuple[Route, ...] = (
    Route("GET", IDENTITY_PATH, _identity, None),
    Route("POST", IDENTITY_PATH, _identity, None),
    # assets: folders, channels, programs
    Route("GET", f"{A}/folder/byName.json", assets.get_folder_by_name, ASSETS),
    Route("GET", f"{A}/folder/{{id}}.json", assets.get_folder_by_id, ASSETS),
    Route("GET", f"{A}/folders.json", assets.browse_folders, ASSETS),
    Route("POST", f"{A}/folders.json", assets.create_folder, ASSETS, "form"),
    Route("GET", f"{A}/channels.json", assets.browse_channels, ASSETS),
    Route("GET", f"{A}/channel/byName.json", assets.get_channel_by_name, ASSETS),
    Route("GET", f"{A}/programs.json", assets.browse_programs, ASSETS),
    Route("POST", f"{A}/programs.json", assets.create_program, ASSETS, "form"),
    Route("GET", f"{A}/program/byName.json", assets.get_program_by_name, ASSETS),
    Route("GET", f"{A}/program/{{id}}.json", assets.get_program_by_id, ASSETS),
    Route("POST", f"{A}/program/{{id}}.json", assets.update_program, ASSETS, "form"),
    Route("POST", f"{A}/program/{{id}}/clone.json", assets.clone_program, ASSETS, "form"),
    Route("POST", f"{A}/program/{{id}}/delete.json", assets.delete_program, ASSETS),
    # custom object types
    Route("GET", f"{CO}/schema.json", customobjects.list_types, ASSETS),
    Route("POST", f"{CO}/schema.json", customobjects.sync_type, ASSETS, "json"),
    Route("GET", f"{CO}/schema/{{apiName}}/describe.json", customobjects.describe_type, ASSETS),
    Route("POST", f"{CO}/schema/{{apiName}}/addField.json", customobjects.add_fields, ASSETS, "json"),
    Route("POST", f"{CO}/schema/{{apiName}}/{{fieldApiName}}/updateField.json", customobjects.update_field,
          ASSETS, "json"),
    Route("POST", f"{CO}/schema/{{apiName}}/deleteField.json", customobjects.delete_fields, ASSETS, "json"),
    Route("POST", f"{CO}/schema/{{apiName}}/approve.json", customobjects.approve_type, ASSETS),
    Route("POST", f"{CO}/schema/{{apiName}}/discardDraft.json", customobjects.discard_draft, ASSETS),
    Route("POST", f"{CO}/schema/{{apiName}}/delete.json", customobjects.delete_type, ASSETS),
    # custom object records
    Route("GET", "/rest/v1/customobjects.json", customobjects.list_objects, PERSON),
    Route("GET", f"{CO}/{{customObjectName}}/describe.json", customobjects.describe_object, PERSON),
    Route("GET", f"{CO}/{{customObjectName}}.json", customobjects.query_records, PERSON),
    Route("POST", f"{CO}/{{customObjectName}}.json", customobjects.sync_records, PERSON, "json"),
    Route("POST", f"{CO}/{{customObjectName}}/delete.json", customobjects.delete_records, PERSON, "json"),
    # custom activity types and activities
    Route("GET", "/rest/v1/activities/external/types.json", activities.list_types, ACTIVITY_METADATA),
    Route("POST", "/rest/v1/activities/external/type.json", activities.create_type, ACTIVITY_METADATA, "json"),
    Route("GET", f"{AT}/{{apiName}}/describe.json", activities.describe_type, ACTIVITY_METADATA),
    Route("POST", f"{AT}/{{apiName}}.json", activities.update_type, ACTIVITY_METADATA, "json"),
    Route("POST", f"{AT}/{{apiName}}/attributes/create.json", activities.create_attributes, ACTIVITY_METADATA,
          "json"),
    Route("POST", f"{AT}/{{apiName}}/attributes/update.json", activities.update_attributes, ACTIVITY_METADATA,
          "json"),
    Route("POST", f"{AT}/{{apiName}}/attributes/delete.json", activities.delete_attributes, ACTIVITY_METADATA,
          "json"),
    Route("POST", f"{AT}/{{apiName}}/approve.json", activities.approve_type, ACTIVITY_METADATA),
    Route("POST", f"{AT}/{{apiName}}/discardDraft.json", activities.discard_draft, ACTIVITY_METADATA),
    Route("POST", f"{AT}/{{apiName}}/delete.json", activities.delete_type, ACTIVITY_METADATA),
    Route("GET", "/rest/v1/activities/types.json", activities.list_activity_types, ACTIVITY),
    Route("POST", "/rest/v1/activities/external.json", activities.add_activities, ACTIVITY, "json"),
    Route("GET", "/rest/v1/activities/pagingtoken.json", activities.paging_token, ACTIVITY),
    Route("GET", "/rest/v1/activities.json", activities.get_activities, ACTIVITY),
    # leads and program members
    Route("POST", "/rest/v1/leads.json", leads.sync_leads, PERSON, "json"),
    Route("GET", "/rest/v1/leads.json", leads.get_leads, PERSON),
    Route("GET", "/rest/v1/campaigns.json", campaigns.browse_campaigns, CAMPAIGNS),
    Route("GET", "/rest/v1/stats/usage.json", usage.daily_usage, None),  # "Required Permissions: None"
    Route("GET", "/rest/v1/leads/describe.json", leads.describe_leads, PERSON),
    Route("GET", "/rest/v1/leads/describe2.json", leads.describe_leads2, PERSON),
    Route("POST", "/rest/v1/programs/{programId}/members/status.json", leads.sync_member_status, PERSON, "json"),
    Route("GET", "/rest/v1/programs/{programId}/members.json", leads.get_members, PERSON),
    Route("POST", "/rest/v1/leads/programs/{programId}/status.json", leads.change_lead_program_status, PERSON,
          "json"),
    # bulk imports
    Route("POST", "/bulk/v1/leads.json", bulk.import_leads, PERSON, "multipart"),
    Route("GET", "/bulk/v1/leads/batch/{batchId}.json", bulk.lead_batch, PERSON),
    Route("GET", "/bulk/v1/leads/batch/{batchId}/failures.json", bulk.lead_failures, PERSON),
    Route("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json", bulk.lead_warnings, PERSON),
    Route("POST", "/bulk/v1/customobjects/{apiName}/import.json", bulk.import_custom_objects, PERSON, "multipart"),
    Route("GET", "/bulk/v1/customobjects/{apiName}/import/{batchId}/status.json", bulk.custom_object_batch, PERSON),
    Route("GET", "/bulk/v1/customobjects/{apiName}/import/{batchId}/failures.json", bulk.custom_object_failures,
          PERSON),
    Route("GET", "/bulk/v1/customobjects/{apiName}/import/{batchId}/warnings.json", bulk.custom_object_warnings,
          PERSON),
    Route("POST", "/bulk/v1/program/{programId}/members/import.json", bulk.import_members, PERSON, "multipart"),
    Route("GET", "/bulk/v1/program/members/import/{batchId}/status.json", bulk.member_batch, PERSON),
    Route("GET", "/bulk/v1/program/members/import/{batchId}/failures.json", bulk.member_failures, PERSON),
    Route("GET", "/bulk/v1/program/members/import/{batchId}/warnings.json", bulk.member_warnings, PERSON),
)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route serving ``method path`` with its path values, and whether the path exists for another method.

    Literal segments win over templates (``program/byName.json`` before ``program/{id}.json``)
    because the table lists them first.
    """
    other_method = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if found:
            if route.method == method:
                return route, found.groupdict(), False
            other_method = True
    return None, {}, other_method


def served(request: Request) -> Request:
    """The request as Marketo serves it: ``POST … _method=GET`` is a GET.

    Marketo documents the form for filter lists too long for a URL (414): POST with ``_method=GET``
    and the query string moved into the body. ``_method`` may be in the URL or in a form-encoded body
    (marketorestpython sends it in the body); a form body's fields then count as query parameters.
    A JSON body stays a body (custom object lookups by compound key send their keys that way).
    """
    if request.method != "POST":
        return request
    form_body = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM
    try:
        fields = request.form() if form_body and request.body else {}
    except UnicodeDecodeError:
        fields = {}
    if (request.arg("_method") or fields.get("_method", [""])[0]).upper() != "GET":
        return request
    query = {k: v for k, v in request.query.items() if k != "_method"}
    if form_body:
        query.update({k: v for k, v in fields.items() if k != "_method"})
        return dataclasses.replace(request, method="GET", query=query, body=b"")
    return dataclasses.replace(request, method="GET", query=query)
