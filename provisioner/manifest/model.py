"""The typed manifest model the rest of the tool uses (built from schema-valid documents).

Names are kept as written (without ``__c``); ``api_name`` gives the Salesforce name.
Every element keeps its :class:`Location` so later stages (plan, sync) can point at the
manifest line a problem comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .fieldtypes import NUMERIC_TYPES
from .findings import Location
from .yaml_loader import Document

#: Salesforce standard objects the tool knows; other object names are custom objects.
STANDARD_OBJECTS = frozenset({
    "Account", "Campaign", "CampaignMember", "CampaignMemberStatus", "Case", "Contact", "Event",
    "Lead", "Opportunity", "Task", "User",
})

__all__ = ["NUMERIC_TYPES"]  # re-exported: sized by length and decimalPlaces (see fieldtypes)


def custom_suffix(name: str) -> str:
    """Salesforce API name of a custom object or field written without the suffix."""
    return f"{name}__c"


@dataclass(frozen=True)
class SalesforceField:
    """A custom field in Setup's terms (``Number(16,2)`` is length 16, decimalPlaces 2)."""

    object_name: str
    name: str
    type: str
    location: Location
    label: str | None = None
    length: int | None = None
    decimal_places: int | None = None
    visible_lines: int | None = None
    description: str | None = None
    help_text: str | None = None
    required: bool = False
    unique: bool = False
    case_sensitive: bool = False
    external_id: bool = False
    default_value: Any = None
    reference_to: str | None = None
    relationship_name: str | None = None
    relationship_label: str | None = None
    delete_constraint: str | None = None
    values: tuple[str, ...] = ()
    restricted: bool = False
    ensure: str = "present"

    @property
    def api_name(self) -> str:
        return custom_suffix(self.name)

    @property
    def full_name(self) -> str:
        """Metadata API fullName, e.g. ``CampaignMember.external_id__c``."""
        return f"{object_api_name(self.object_name)}.{self.api_name}"

    @property
    def precision(self) -> int | None:
        """API precision (total digits) of a numeric field: Setup's length + decimal places."""
        if self.type in NUMERIC_TYPES and self.length is not None:
            return self.length + (self.decimal_places or 0)
        return None


def object_api_name(name: str) -> str:
    """``UserSessionEngagement`` → ``UserSessionEngagement__c``; standard names unchanged."""
    return name if name in STANDARD_OBJECTS else custom_suffix(name)


@dataclass(frozen=True)
class NameField:
    label: str
    type: str  # Text or AutoNumber
    display_format: str | None = None
    starting_number: int | None = None


@dataclass(frozen=True)
class SalesforceObject:
    """A standard object (custom fields only) or a custom object."""

    name: str
    custom: bool
    location: Location
    fields: tuple[SalesforceField, ...] = ()
    label: str | None = None
    plural_label: str | None = None
    description: str | None = None
    name_field: NameField | None = None
    sharing_model: str = "ReadWrite"
    ensure: str = "present"

    @property
    def api_name(self) -> str:
        return custom_suffix(self.name) if self.custom else self.name


@dataclass(frozen=True)
class CampaignStatus:
    label: str
    location: Location
    responded: bool = False
    default: bool = False


@dataclass(frozen=True)
class CampaignStatuses:
    """A campaign and its member statuses, in sort order: a setup's template campaign, or a
    per-event campaign (which adds status, dates, parent and the active flag)."""

    campaign: str
    location: Location
    statuses: tuple[CampaignStatus, ...]
    type: str = "Webinar"
    description: str | None = None
    status: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    parent: str | None = None
    is_active: bool | None = None

    def labels(self) -> list[str]:
        return [s.label for s in self.statuses]


@dataclass(frozen=True)
class PermissionSetSpec:
    name: str
    label: str
    location: Location
    description: str | None = None
    assign_to_api_user: bool = True
    editable: bool = True


@dataclass(frozen=True)
class SalesforceManifest:
    name: str
    location: Location
    api_version: str | None = None
    campaign_statuses: tuple[CampaignStatuses, ...] = ()
    objects: tuple[SalesforceObject, ...] = ()
    permission_set: PermissionSetSpec | None = None


@dataclass(frozen=True)
class ChannelStatus:
    name: str
    step: int
    location: Location
    success: bool = False
    hidden: bool = False
    description: str | None = None


@dataclass(frozen=True)
class MarketoChannel:
    name: str
    program_type: str
    statuses: tuple[ChannelStatus, ...]
    location: Location


@dataclass(frozen=True)
class MarketoProgram:
    name: str
    type: str
    channel: str
    folder: str
    location: Location
    description: str | None = None
    ensure: str = "present"
    clone_from: str | None = None
    start_date: str | None = None
    end_date: str | None = None


@dataclass(frozen=True)
class CustomObjectField:
    name: str
    data_type: str
    location: Location
    display_name: str | None = None
    description: str | None = None
    related_object: str | None = None
    related_field: str | None = None


@dataclass(frozen=True)
class MarketoCustomObject:
    api_name: str
    display_name: str
    dedupe_fields: tuple[str, ...]
    fields: tuple[CustomObjectField, ...]
    location: Location
    plural_name: str | None = None
    description: str | None = None
    show_in_lead_detail: bool = True
    approve: bool = True
    ensure: str = "present"


@dataclass(frozen=True)
class ActivityAttribute:
    api_name: str
    data_type: str
    location: Location
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class MarketoCustomActivity:
    api_name: str
    name: str
    trigger_name: str
    filter_name: str
    primary_attribute: ActivityAttribute
    location: Location
    attributes: tuple[ActivityAttribute, ...] = ()
    description: str | None = None
    approve: bool = True
    ensure: str = "present"


@dataclass(frozen=True)
class MarketoManifest:
    name: str
    location: Location
    endpoint: str | None = None
    channels: tuple[MarketoChannel, ...] = ()
    programs: tuple[MarketoProgram, ...] = ()
    custom_objects: tuple[MarketoCustomObject, ...] = ()
    custom_activities: tuple[MarketoCustomActivity, ...] = ()


@dataclass(frozen=True)
class StatusMapping:
    source: str
    location: Location
    displayed_as: str | None = None
    salesforce: str | None = None
    marketo: str | None = None


@dataclass(frozen=True)
class SyncManifest:
    """How event data flows; the target sections stay dicts until the sync module types them."""

    name: str
    location: Location
    platform: str
    status_map: tuple[StatusMapping, ...] = ()
    salesforce: dict[str, Any] | None = None
    marketo: dict[str, Any] | None = None
    idempotency: dict[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = ("csv", "jsonl")
    sessions: dict[str, Any] | None = None


@dataclass
class ManifestSet:
    """Everything loaded from the paths given on the command line."""

    salesforce: list[SalesforceManifest] = field(default_factory=list)
    marketo: list[MarketoManifest] = field(default_factory=list)
    sync: list[SyncManifest] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def salesforce_objects(self) -> list[SalesforceObject]:
        return [o for m in self.salesforce for o in m.objects]

    def campaign(self, name: str) -> CampaignStatuses | None:
        return next((c for m in self.salesforce for c in m.campaign_statuses if c.campaign == name), None)

    def channel(self, name: str) -> MarketoChannel | None:
        return next((c for m in self.marketo for c in m.channels if c.name == name), None)


# -- building ------------------------------------------------------------------

class _Builder:
    """Turns one schema-valid document into model objects, with locations."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def at(self, *path: Any) -> Location:
        return self.doc.location(path)

    def salesforce(self) -> SalesforceManifest:
        spec = self.doc.data["spec"]
        campaigns = tuple(self._campaign(i, c) for i, c in enumerate(spec.get("campaignMemberStatuses", [])))
        objects = tuple(self._object(i, o) for i, o in enumerate(spec.get("objects", [])))
        ps = (spec.get("access") or {}).get("permissionSet")
        permission_set = None
        if ps:
            permission_set = PermissionSetSpec(
                name=ps["name"], label=ps["label"], location=self.at("spec", "access", "permissionSet"),
                description=ps.get("description"), assign_to_api_user=ps.get("assignToApiUser", True),
                editable=ps.get("editable", True))
        return SalesforceManifest(self.doc.data["metadata"]["name"], self.at(), spec.get("apiVersion"),
                                  campaigns, objects, permission_set)

    def _campaign(self, i: int, c: dict[str, Any]) -> CampaignStatuses:
        base = ("spec", "campaignMemberStatuses", i)
        statuses = tuple(
            CampaignStatus(s["label"], self.at(*base, "statuses", j), s.get("responded", False), s.get("default", False))
            for j, s in enumerate(c["statuses"]))
        return CampaignStatuses(c["campaign"], self.at(*base), statuses, c.get("type", "Webinar"),
                                c.get("description"), c.get("status"),
                                c.get("startDate"), c.get("endDate"), c.get("parent"), c.get("isActive"))

    def _object(self, i: int, o: dict[str, Any]) -> SalesforceObject:
        base = ("spec", "objects", i)
        custom = o.get("custom", o["name"] not in STANDARD_OBJECTS)
        nf = o.get("nameField")
        name_field = NameField(nf["label"], nf["type"], nf.get("displayFormat"), nf.get("startingNumber")) if nf else None
        fields = tuple(self._field(o["name"], base + ("fields", j), f) for j, f in enumerate(o.get("fields", [])))
        return SalesforceObject(o["name"], custom, self.at(*base), fields, o.get("label"), o.get("pluralLabel"),
                                o.get("description"), name_field, o.get("sharingModel", "ReadWrite"),
                                o.get("ensure", "present"))

    def _field(self, object_name: str, path: tuple[Any, ...], f: dict[str, Any]) -> SalesforceField:
        return SalesforceField(
            object_name=object_name, name=f["name"], type=f["type"], location=self.at(*path),
            label=f.get("label"), length=f.get("length"), decimal_places=f.get("decimalPlaces"),
            visible_lines=f.get("visibleLines"), description=f.get("description"), help_text=f.get("helpText"),
            required=f.get("required", False), unique=f.get("unique", False),
            case_sensitive=f.get("caseSensitive", False), external_id=f.get("externalId", False),
            default_value=f.get("defaultValue"), reference_to=f.get("referenceTo"),
            relationship_name=f.get("relationshipName"), relationship_label=f.get("relationshipLabel"),
            delete_constraint=f.get("deleteConstraint"), values=tuple(f.get("values", ())),
            restricted=f.get("restricted", False), ensure=f.get("ensure", "present"))

    def marketo(self) -> MarketoManifest:
        spec = self.doc.data["spec"]
        channels = tuple(
            MarketoChannel(c["name"], c["programType"],
                           tuple(ChannelStatus(s["name"], s["step"], self.at("spec", "channels", i, "statuses", j),
                                               s.get("success", False), s.get("hidden", False), s.get("description"))
                                 for j, s in enumerate(c["statuses"])),
                           self.at("spec", "channels", i))
            for i, c in enumerate(spec.get("channels", [])))
        programs = tuple(
            MarketoProgram(p["name"], p["type"], p["channel"], p["folder"], self.at("spec", "programs", i),
                           p.get("description"), p.get("ensure", "present"), p.get("cloneFrom"),
                           p.get("startDate"), p.get("endDate"))
            for i, p in enumerate(spec.get("programs", [])))
        objects = tuple(self._custom_object(i, o) for i, o in enumerate(spec.get("customObjects", [])))
        activities = tuple(self._activity(i, a) for i, a in enumerate(spec.get("customActivities", [])))
        return MarketoManifest(self.doc.data["metadata"]["name"], self.at(), spec.get("endpoint"),
                               channels, programs, objects, activities)

    def _custom_object(self, i: int, o: dict[str, Any]) -> MarketoCustomObject:
        base = ("spec", "customObjects", i)
        fields = tuple(
            CustomObjectField(f["name"], f["dataType"], self.at(*base, "fields", j), f.get("displayName"),
                              f.get("description"), (f.get("relatedTo") or {}).get("object"),
                              (f.get("relatedTo") or {}).get("field"))
            for j, f in enumerate(o["fields"]))
        return MarketoCustomObject(o["apiName"], o["displayName"], tuple(o["dedupeFields"]), fields, self.at(*base),
                                   o.get("pluralName"), o.get("description"), o.get("showInLeadDetail", True),
                                   o.get("approve", True), o.get("ensure", "present"))

    def _attribute(self, path: tuple[Any, ...], a: dict[str, Any]) -> ActivityAttribute:
        return ActivityAttribute(a["apiName"], a["dataType"], self.at(*path), a.get("name"), a.get("description"))

    def _activity(self, i: int, a: dict[str, Any]) -> MarketoCustomActivity:
        base = ("spec", "customActivities", i)
        return MarketoCustomActivity(
            a["apiName"], a["name"], a["triggerName"], a["filterName"],
            self._attribute(base + ("primaryAttribute",), a["primaryAttribute"]), self.at(*base),
            tuple(self._attribute(base + ("attributes", j), x) for j, x in enumerate(a.get("attributes", []))),
            a.get("description"), a.get("approve", True), a.get("ensure", "present"))

    def sync(self) -> SyncManifest:
        spec = self.doc.data["spec"]
        status_map = tuple(
            StatusMapping(r["source"], self.at("spec", "statusMap", i), r.get("displayedAs"), r.get("salesforce"),
                          r.get("marketo"))
            for i, r in enumerate(spec.get("statusMap", [])))
        return SyncManifest(self.doc.data["metadata"]["name"], self.at(), spec["source"]["platform"], status_map,
                            spec.get("salesforce"), spec.get("marketo"), spec.get("idempotency", {}),
                            tuple(spec["source"].get("formats", ("csv", "jsonl"))), spec.get("sessions"))


def build(documents: list[Document]) -> ManifestSet:
    """Build the model from schema-valid documents."""
    result = ManifestSet(documents=list(documents), files=list(dict.fromkeys(d.file for d in documents)))
    for doc in documents:
        kind = doc.data["kind"]
        builder = _Builder(doc)
        if kind == "Salesforce":
            result.salesforce.append(builder.salesforce())
        elif kind == "Marketo":
            result.marketo.append(builder.marketo())
        elif kind == "Sync":
            result.sync.append(builder.sync())
    return result
