"""The Sync manifest typed for the sync: targets, objects, fields with sizes, the status map.

Built once from the loaded :class:`ManifestSet`; everything the row checks and the sinks need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..manifest.model import (CampaignStatuses, ManifestSet, MarketoCustomActivity, MarketoCustomObject,
                              SalesforceField, SalesforceObject, SyncManifest)
from ..schemas import event_data_columns
from .policy import Matching, Sessions, map_status, status_map

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
    matching: Matching = field(default_factory=Matching)


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
    sessions: Sessions = field(default_factory=Sessions)
    formats: tuple[str, ...] = ("csv", "jsonl")
    #: id(object) → (object, field name → field): :meth:`salesforce_field` runs for every column of every row
    _fields: dict[int, tuple[SalesforceObject, dict[str, SalesforceField]]] = field(
        default_factory=dict, repr=False, compare=False)
    #: The row checks compiled for this configuration (built by :mod:`.checks` on first use).
    compiled_checks: Any = field(default=None, repr=False, compare=False)

    def status_for(self, target: str, source: str) -> str | None:
        """The ``salesforce``/``marketo`` status a source status maps to (case-insensitive), ``None`` if none."""
        return map_status(self.status_to_salesforce if target == "salesforce" else self.status_to_marketo, source)

    def columns(self, kind: str) -> set[str]:
        """The source columns this sync knows for ``kind`` (every kind when ``kind`` is empty): the event-data
        schema's, the mappings', the engagement object's and the custom object's (header detection)."""
        names = set(event_data_columns())
        if self.salesforce:
            names |= {c for m in self.salesforce.mappings.values() for c in m.values()}
            for obj in (self.salesforce.engagement, self.salesforce.polls):
                names |= {f.name for f in (obj.fields if obj else ())}
        if self.marketo:
            names |= set(self.marketo.lead_mapping.values())
            names |= {f.name for f in (self.marketo.custom_object.fields if self.marketo.custom_object else ())}
        names |= {c for cols in self.idempotency.values() for c in cols}
        names |= {alias for alias, name in SALESFORCE_ALIASES.items()}
        return {n.lower() for n in names}

    def salesforce_field(self, obj: SalesforceObject | None, column: str) -> SalesforceField | None:
        """The manifest field a source column lands in (``None`` when the object has no such field)."""
        if obj is None:
            return None
        known = self._fields.get(id(obj))
        if known is None or known[0] is not obj:
            by_name: dict[str, SalesforceField] = {}
            for f in obj.fields:
                by_name.setdefault(f.name, f)  # the first of a name, as a search in field order finds
            known = self._fields[id(obj)] = (obj, by_name)
        return known[1].get(SALESFORCE_ALIASES.get(column, column))


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
                              external + "__c", Matching.from_spec(matching))
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
        sync.name, sync, sf, mk, status_map(sync.status_map, "salesforce"), status_map(sync.status_map, "marketo"),
        {k: list(v) for k, v in (sync.idempotency or {}).items()}, Sessions.from_spec(sync.sessions),
        tuple(sync.formats))
