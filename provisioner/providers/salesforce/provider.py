"""The Salesforce provider: manifests → desired resources, the kinds that read and apply them, connect."""

from __future__ import annotations

from typing import Any, Mapping

from ...manifest.model import CampaignStatuses, ManifestSet, SalesforceManifest, object_api_name
from ...plan.resource import Desired, ResourceKind
from .normalize import field_attributes, object_attributes
from .resources.campaign import KIND as CAMPAIGN, CampaignKind
from .resources.campaign_status import KIND as STATUS, CampaignStatusKind
from .resources.common import quoted
from .resources.custom_field import KIND as FIELD, CustomFieldKind
from .resources.custom_object import KIND as OBJECT, CustomObjectKind
from .resources.permission_set import KIND as PERMISSION_SET, PermissionSetKind


def object_address(api_name: str) -> str:
    return f"{OBJECT}.{api_name}"


def field_address(object_api: str, field_api: str) -> str:
    return f"{FIELD}.{object_api}.{field_api}"


def campaign_address(name: str) -> str:
    return f"{CAMPAIGN}.{quoted(name)}"


def status_address(campaign: str, label: str) -> str:
    return f"{STATUS}.{quoted(campaign)}.{quoted(label)}"


def campaign_attributes(campaign: CampaignStatuses) -> dict[str, Any]:
    """A campaign in manifest terms; the per-event attributes only where the manifest sets them."""
    attributes: dict[str, Any] = {"name": campaign.campaign, "type": campaign.type,
                                  "description": campaign.description or None}
    for key, value in (("status", campaign.status), ("startDate", campaign.start_date),
                       ("endDate", campaign.end_date), ("parent", campaign.parent), ("isActive", campaign.is_active)):
        if value is not None:
            attributes[key] = value
    return attributes


def _manifest_resources(m: SalesforceManifest, seen_objects: set[str]) -> list[Desired]:
    out: list[Desired] = []
    for obj in m.objects:
        api = obj.api_name
        if obj.custom:
            out.append(Desired(object_address(api), OBJECT, dict(object_attributes(obj), apiName=api),
                               ensure=obj.ensure, location=obj.location))
        elif api not in seen_objects:
            out.append(Desired(object_address(api), OBJECT, {"apiName": api, "standard": True}, location=obj.location))
        seen_objects.add(api)
        if obj.ensure == "absent":
            continue  # deleting the object deletes its fields; one change, not one per field
        for f in obj.fields:
            depends = (object_address(api),)
            if f.type == "Lookup" and f.reference_to:
                depends += (object_address(object_api_name(f.reference_to)),)
            out.append(Desired(field_address(api, f.api_name), FIELD,
                               dict(field_attributes(f, obj.plural_label), object=api, apiName=f.api_name),
                               ensure=f.ensure,
                               depends_on=depends, location=f.location))
    for campaign in m.campaign_statuses:
        out.append(Desired(campaign_address(campaign.campaign), CAMPAIGN, campaign_attributes(campaign),
                           depends_on=(campaign_address(campaign.parent),) if campaign.parent else (),
                           location=campaign.location))
        for order, status in enumerate(campaign.statuses, start=1):
            out.append(Desired(status_address(campaign.campaign, status.label), STATUS,
                               {"campaign": campaign.campaign, "label": status.label, "order": order,
                                "default": status.default, "responded": status.responded},
                               depends_on=(campaign_address(campaign.campaign),), location=status.location))
    ps = m.permission_set
    if ps is not None:
        granted = [(obj.api_name, f) for obj in m.objects if obj.ensure == "present"
                   for f in obj.fields if f.ensure == "present" and not f.required]
        out.append(Desired(
            f"{PERMISSION_SET}.{ps.name}", PERMISSION_SET,
            {"name": ps.name, "label": ps.label, "description": ps.description or None,
             "fieldPermissions": sorted(({"field": f"{api}.{f.api_name}", "readable": True, "editable": ps.editable}
                                         for api, f in granted), key=lambda p: p["field"]),
             "assignedToApiUser": ps.assign_to_api_user},
            depends_on=tuple(field_address(api, f.api_name) for api, f in granted), location=ps.location))
    return out


class SalesforceProvider:
    """Terraform-style provider for a Salesforce org."""

    name = "salesforce"

    def applies_to(self, manifests: ManifestSet) -> bool:
        return bool(manifests.salesforce)

    def desired(self, manifests: ManifestSet) -> list[Desired]:
        seen: set[str] = set()
        out: list[Desired] = []
        for m in manifests.salesforce:
            out.extend(_manifest_resources(m, seen))
        return out

    def kinds(self) -> list[ResourceKind]:
        return [CustomObjectKind(), CustomFieldKind(), CampaignKind(), CampaignStatusKind(), PermissionSetKind()]

    def connect(self, env: Mapping[str, str], api_version: str | None = None) -> Any:
        from .connection import SalesforceConnection

        return SalesforceConnection.from_env(env, api_version)


PROVIDER = SalesforceProvider()
