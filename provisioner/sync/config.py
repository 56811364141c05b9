"""The Sync manifest typed for the sync: targets, objects, fields with sizes, the status map.

Built once from the loaded :class:`ManifestSet`; everything the row checks and the sinks need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..manifest.model import (CampaignStatuses, ManifestSet, MarketoCustomActivity, MarketoCustomObject,
                              SalesforceField, SalesforceObject, SyncManifest)

#: Source columns whose Salesforce field had to be shortened (Salesforce allows 40 characters).
SALESFORCE_ALIASES = {"combined_live_engaged_users_play_time_ratio": "combined_live_engaged_play_time_ratio"}

#: Sizes of the standard person fields the mappings write (Salesforce describe).
STANDARD_LENGTHS = {"FirstName": 40, "LastName": 80, "Company": 255, "Title": 128, "Email": 80}


class SyncConfigError(Exception):
    """The manifests do not describe a usable sync; the message says what is missing."""


@dataclass
class SalesforceTarget:
    campaign_template: CampaignStatuses
    create_as: str
    fallbacks: dict[str, str]
    mappings: dict[str, dict[str, str]]  # object → {SF field: source column}
    engagement: SalesforceObject | None
    polls: SalesforceObject | None
    replay_field: str | None
    member_external_id: str = "external_id__c"


@dataclass
class MarketoTarget:
    program_template: str
    channel: str
    lead_mapping: dict[str, str]  # Marketo field → source column
    custom_object: MarketoCustomObject | None
    activity: MarketoCustomActivity | None


@dataclass
class SyncConfig:
    """Everything the sync reads from the manifests."""

    name: str
    sync: SyncManifest
    salesforce: SalesforceTarget | None
    marketo: MarketoTarget | None
    status_to_salesforce: dict[str, str] = field(default_factory=dict)
    status_to_marketo: dict[str, str] = field(default_factory=dict)
    idempotency: dict[str, list[str]] = field(default_factory=dict)

    def salesforce_field(self, obj: SalesforceObject | None, column: str) -> SalesforceField | None:
        """The manifest field a source column lands in (``None`` when the object has no such field)."""
        if obj is None:
            return None
        name = SALESFORCE_ALIASES.get(column, column)
        return next((f for f in obj.fields if f.name == name), None)


def _object(manifests: ManifestSet, name: str | None) -> SalesforceObject | None:
    if not name:
        return None
    return next((o for o in manifests.salesforce_objects() if o.name == name), None)


def build_config(manifests: ManifestSet, name: str | None = None) -> SyncConfig:
    """Type the Sync manifest ``name`` (or the only one) against the Salesforce/Marketo manifests it names."""
    syncs = [s for s in manifests.sync if name in (None, s.name)]
    if not syncs:
        raise SyncConfigError(f"no Sync manifest{' named ' + repr(name) if name else ''} in the given manifests")
    if len(syncs) > 1:
        raise SyncConfigError("several Sync manifests given: name one with --sync "
                              + ", ".join(s.name for s in syncs))
    sync = syncs[0]
    sf: SalesforceTarget | None = None
    if sync.salesforce:
        spec: dict[str, Any] = sync.salesforce
        template = manifests.campaign(spec["campaign"])
        if template is None:
            raise SyncConfigError(f"campaign template {spec['campaign']!r} is in no Salesforce manifest given")
        matching = spec.get("matching", {})
        external = spec.get("campaignMemberExternalId", "external_id")
        sf = SalesforceTarget(template, matching.get("createAs", "Lead"), dict(matching.get("fallbacks", {})),
                              {k: dict(v) for k, v in spec.get("fieldMappings", {}).items()},
                              _object(manifests, spec.get("engagementObject")),
                              _object(manifests, spec.get("pollsObject")),
                              (spec["replayStatusField"] + "__c") if spec.get("replayStatusField") else None,
                              external + "__c")
    mk: MarketoTarget | None = None
    if sync.marketo:
        spec = sync.marketo
        objects = [o for m in manifests.marketo for o in m.custom_objects]
        activities = [a for m in manifests.marketo for a in m.custom_activities]
        mk = MarketoTarget(spec["program"], spec.get("channel", ""),
                           dict(spec.get("fieldMappings", {}).get("lead", {"email": "email"})),
                           next((o for o in objects if o.api_name == spec.get("customObject")), None),
                           next((a for a in activities if a.api_name == spec.get("customActivity")), None))
    return SyncConfig(
        sync.name, sync, sf, mk,
        {m.source: m.salesforce for m in sync.status_map if m.salesforce},
        {m.source: m.marketo for m in sync.status_map if m.marketo},
        {k: list(v) for k, v in (sync.idempotency or {}).items()})
