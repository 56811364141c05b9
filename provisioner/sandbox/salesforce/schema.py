"""The org's schema: sObject types and their fields, as describe reports them.

Standard objects the tool touches are defined here with their usual fields; custom objects
and fields are added by the Metadata API (see :mod:`.metadata_api`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Metadata API CustomField type -> describe type (and default length for text-like types).
FIELD_TYPES: dict[str, tuple[str, int]] = {
    "Text": ("string", 0),
    "TextArea": ("textarea", 255),
    "LongTextArea": ("textarea", 0),
    "Email": ("email", 80),
    "Phone": ("phone", 40),
    "Url": ("url", 255),
    "Number": ("double", 0),
    "Currency": ("currency", 0),
    "Percent": ("percent", 0),
    "Checkbox": ("boolean", 0),
    "Date": ("date", 0),
    "DateTime": ("datetime", 0),
    "Lookup": ("reference", 18),
    "MasterDetail": ("reference", 18),
    "Picklist": ("picklist", 255),
    "AutoNumber": ("string", 30),
}

NUMERIC_TYPES = ("double", "currency", "percent", "int")
TEXT_TYPES = ("string", "textarea", "email", "phone", "url", "picklist")


@dataclass
class FieldDef:
    """One field of an sObject, with the properties describe reports."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    custom: bool = False
    auto_number: bool = False
    name_field: bool = False
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    default_value: Any = None
    #: the CustomField metadata this field was created from (custom fields only)
    metadata: dict[str, Any] | None = None

    @property
    def required(self) -> bool:
        """Required on create: not nillable, createable and not defaulted."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    def describe(self) -> dict[str, Any]:
        """The field as ``GET sobjects/<T>/describe`` lists it."""
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "length": self.length,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 0,
            "byteLength": self.length * 3,
            "externalId": self.external_id,
            "unique": self.unique,
            "caseSensitive": self.case_sensitive,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create,
            "custom": self.custom,
            "autoNumber": self.auto_number,
            "nameField": self.name_field,
            "idLookup": self.external_id or self.type == "id" or self.name_field,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "defaultValue": self.default_value,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "picklistValues": self.picklist_values(),
        }

    def picklist_values(self) -> list[dict[str, Any]]:
        """Describe's picklistValues, from the CustomField's valueSet (custom picklists only)."""
        definition = ((self.metadata or {}).get("valueSet") or {}).get("valueSetDefinition") or {}
        return [{"active": True, "defaultValue": bool(v.get("default")), "label": v.get("label") or v.get("fullName"),
                 "value": v.get("fullName"), "validFor": None} for v in definition.get("value") or []]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FieldDef":
        return cls(**data)


_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "double": "xsd:double",
    "currency": "xsd:double", "percent": "xsd:double", "int": "xsd:int", "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass
class SObjectType:
    """One sObject type: its fields (keyed by lower-cased name) and object-level flags."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    fields: dict[str, FieldDef] = field(default_factory=dict)
    #: the CustomObject metadata (without ``fields``) for custom objects
    metadata: dict[str, Any] | None = None
    auto_number: int = 0

    def add(self, f: FieldDef) -> None:
        self.fields[f.name.lower()] = f

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = [f.to_json() for f in self.fields.values()]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SObjectType":
        data = dict(data)
        fields = data.pop("fields")
        obj = cls(**data)
        for f in fields:
            obj.add(FieldDef.from_json(f))
        return obj


def _f(name: str, type_: str, length: int = 0, **kw: Any) -> FieldDef:
    return FieldDef(name=name, type=type_, label=kw.pop("label", name), length=length, **kw)


def _system_fields(owner: bool = True) -> list[FieldDef]:
    fields = [
        _f("Id", "id", 18, nillable=False, createable=False, updateable=False, defaulted_on_create=True),
        _f("IsDeleted", "boolean", nillable=False, createable=False, updateable=False, defaulted_on_create=True),
        _f("CreatedDate", "datetime", nillable=False, createable=False, updateable=False, defaulted_on_create=True),
        _f("CreatedById", "reference", 18, nillable=False, createable=False, updateable=False,
           defaulted_on_create=True, reference_to=["User"], relationship_name="CreatedBy"),
        _f("LastModifiedDate", "datetime", nillable=False, createable=False, updateable=False,
           defaulted_on_create=True),
        _f("SystemModstamp", "datetime", nillable=False, createable=False, updateable=False,
           defaulted_on_create=True),
    ]
    if owner:
        fields.append(_f("OwnerId", "reference", 18, nillable=False, defaulted_on_create=True,
                         reference_to=["User"], relationship_name="Owner"))
    return fields


def _ro(name: str, type_: str, length: int = 0, **kw: Any) -> FieldDef:
    return _f(name, type_, length, createable=False, updateable=False, **kw)


def standard_objects() -> list[SObjectType]:
    """The standard objects a fresh org starts with (only the fields the tool can meet)."""
    specs: list[tuple[str, str, str, str, bool, list[FieldDef]]] = [
        ("Account", "Account", "Accounts", "001", True, [
            _f("Name", "string", 255, nillable=False, name_field=True),
            _f("Type", "picklist", 255), _f("Industry", "picklist", 255), _f("Website", "url", 255),
            _f("Phone", "phone", 40), _f("Description", "textarea", 32000),
        ]),
        ("Contact", "Contact", "Contacts", "003", True, [
            _f("FirstName", "string", 40), _f("LastName", "string", 80, nillable=False),
            _ro("Name", "string", 121, name_field=True, nillable=False),
            _f("Email", "email", 80), _f("Phone", "phone", 40), _f("Title", "string", 128),
            _f("AccountId", "reference", 18, reference_to=["Account"], relationship_name="Account"),
            _f("LeadSource", "picklist", 255),
        ]),
        ("Lead", "Lead", "Leads", "00Q", True, [
            _f("FirstName", "string", 40), _f("LastName", "string", 80, nillable=False),
            _ro("Name", "string", 121, name_field=True, nillable=False),
            _f("Company", "string", 255, nillable=False), _f("Email", "email", 80),
            _f("Phone", "phone", 40), _f("Title", "string", 128),
            _f("Status", "picklist", 255, nillable=False, defaulted_on_create=True,
               default_value="Open - Not Contacted"),
            _f("LeadSource", "picklist", 255),
            _ro("IsConverted", "boolean", nillable=False, defaulted_on_create=True),
            _ro("ConvertedDate", "date"),
            _ro("ConvertedContactId", "reference", 18, reference_to=["Contact"],
                relationship_name="ConvertedContact"),
        ]),
        ("Campaign", "Campaign", "Campaigns", "701", True, [
            _f("Name", "string", 80, nillable=False, name_field=True),
            _f("Type", "picklist", 255), _f("Status", "picklist", 255),
            _f("StartDate", "date"), _f("EndDate", "date"), _f("Description", "textarea", 32000),
            _f("ParentId", "reference", 18, reference_to=["Campaign"], relationship_name="Parent"),
            _f("IsActive", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
        ]),
        ("CampaignMemberStatus", "Campaign Member Status", "Campaign Member Statuses", "01Y", False, [
            _f("CampaignId", "reference", 18, nillable=False, updateable=False, reference_to=["Campaign"],
               relationship_name="Campaign"),
            _f("Label", "string", 765, nillable=False, name_field=True),
            _f("SortOrder", "int", precision=9),
            _f("IsDefault", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
            _f("HasResponded", "boolean", nillable=False, defaulted_on_create=True, default_value=False),
        ]),
        ("CampaignMember", "Campaign Member", "Campaign Members", "00v", False, [
            _f("CampaignId", "reference", 18, nillable=False, updateable=False, reference_to=["Campaign"],
               relationship_name="Campaign"),
            _f("LeadId", "reference", 18, updateable=False, reference_to=["Lead"], relationship_name="Lead"),
            _f("ContactId", "reference", 18, updateable=False, reference_to=["Contact"],
               relationship_name="Contact"),
            _f("Status", "picklist", 255, defaulted_on_create=True),
            _ro("HasResponded", "boolean", nillable=False, defaulted_on_create=True),
            _ro("FirstName", "string", 40), _ro("LastName", "string", 80), _ro("Email", "email", 80),
            _ro("Name", "string", 121, name_field=True),
        ]),
        ("User", "User", "Users", "005", False, [
            _f("Username", "string", 80, nillable=False), _f("Email", "email", 128, nillable=False),
            _f("FirstName", "string", 40), _f("LastName", "string", 80, nillable=False),
            _ro("Name", "string", 121, name_field=True), _f("IsActive", "boolean", nillable=False),
        ]),
        # Read by tooling before it deploys (Salesforce CLI: "SELECT Name, InstanceName, IsSandbox, ... FROM
        # Organization"); one row, the org itself, that no API call may change.
        ("Organization", "Organization", "Organizations", "00D", False, [
            _ro("Name", "string", 80, name_field=True, nillable=False), _ro("InstanceName", "string", 5),
            _ro("IsSandbox", "boolean", nillable=False), _ro("TrialExpirationDate", "datetime"),
            _ro("NamespacePrefix", "string", 15), _ro("OrganizationType", "picklist", 255),
        ]),
        ("PermissionSet", "Permission Set", "Permission Sets", "0PS", False, [
            _f("Name", "string", 80, nillable=False), _f("Label", "string", 80, nillable=False, name_field=True),
            _f("Description", "textarea", 255),
            _ro("IsOwnedByProfile", "boolean", nillable=False, defaulted_on_create=True),
        ]),
        ("PermissionSetAssignment", "Permission Set Assignment", "Permission Set Assignments", "0Pa", False, [
            _f("AssigneeId", "reference", 18, nillable=False, updateable=False, reference_to=["User"],
               relationship_name="Assignee"),
            _f("PermissionSetId", "reference", 18, nillable=False, updateable=False,
               reference_to=["PermissionSet"], relationship_name="PermissionSet"),
        ]),
    ]
    objects = []
    for name, label, plural, prefix, owned, fields in specs:
        obj = SObjectType(name=name, label=label, label_plural=plural, key_prefix=prefix)
        for f in _system_fields(owner=owned):
            obj.add(f)
        for f in fields:
            obj.add(f)
        objects.append(obj)
    by_name = {o.name: o for o in objects}
    by_name["User"].createable = by_name["User"].deletable = False
    by_name["Organization"].createable = by_name["Organization"].updateable = False
    by_name["Organization"].deletable = False
    # PermissionSet rows are written through the Metadata API in this sandbox.
    by_name["PermissionSet"].createable = by_name["PermissionSet"].updateable = False
    by_name["PermissionSet"].deletable = False
    by_name["PermissionSetAssignment"].updateable = False
    return objects


STANDARD_OBJECT_NAMES = tuple(o.name for o in standard_objects())


def custom_object_fields(name_field: dict[str, Any]) -> list[FieldDef]:
    """The system fields and the Name field every custom object has."""
    auto = name_field.get("type") == "AutoNumber"
    name = FieldDef(
        name="Name", type="string", label=name_field.get("label") or "Name", length=30 if auto else 80,
        nillable=auto, createable=not auto, updateable=not auto, defaulted_on_create=True,
        auto_number=auto, name_field=True,
    )
    return _system_fields(owner=True) + [name]


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def make_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce Id: 3-char key prefix, pod, counter, and the case-safe suffix."""
    digits = ""
    n = number
    for _ in range(7):
        digits = _B62[n % 62] + digits
        n //= 62
    base = f"{prefix}5g000{digits}"
    suffix = ""
    for chunk in (base[0:5], base[5:10], base[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _SUFFIX[bits]
    return base + suffix


def to15(record_id: str) -> str:
    """The 15-character form of an Id (comparisons ignore the suffix)."""
    return record_id[:15]
