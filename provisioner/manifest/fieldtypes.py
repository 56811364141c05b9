"""The field-type table: what Salesforce and Marketo allow for each field or attribute type.

One fact in one place. The manifest rules, the sync's row checks and the Salesforce provider's
translation to Metadata API terms read this table; a test keeps the JSON schema's type enums
equal to it, and another compares it with the sandbox's own, independent rules for every type.

Salesforce terms are Setup's: ``length`` of a Text field is its characters; of a Number, the
digits left of the point (Setup's ``Number(16,2)`` is length 16, decimalPlaces 2, which the
Metadata API calls precision 18, scale 2).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Total digits (API precision = length + decimalPlaces) a Number, Currency or Percent may have.
MAX_PRECISION = 18


@dataclass(frozen=True)
class SalesforceType:
    """One Salesforce custom field type, as Setup and the Metadata API define it.

    ``length``: the range the manifest's ``length`` must be in, for types that need one.
    ``value_length``: the most characters a value may have when the type has no ``length``.
    ``numeric``: sized by length + decimalPlaces ≤ :data:`MAX_PRECISION`.
    ``default``: ``required`` when the Metadata API needs a defaultValue (Checkbox).
    """

    name: str
    length: tuple[int, int] | None = None
    value_length: int | None = None
    numeric: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    required: bool = True
    default: str = "optional"
    visible_lines: bool = False
    lookup: bool = False
    picklist: bool = False

    @property
    def max_chars(self) -> int | None:
        """The most characters a value may have (None when not text or not limited)."""
        return self.length[1] if self.length else self.value_length


SALESFORCE_TYPES: dict[str, SalesforceType] = {t.name: t for t in (
    SalesforceType("Text", length=(1, 255), external_id=True, unique=True, case_sensitive=True),
    SalesforceType("TextArea", value_length=255),
    SalesforceType("LongTextArea", length=(256, 131072), visible_lines=True),
    SalesforceType("Number", numeric=True, external_id=True, unique=True),
    SalesforceType("Currency", numeric=True),
    SalesforceType("Percent", numeric=True),
    SalesforceType("Checkbox", required=False, default="required"),
    SalesforceType("Date"),
    SalesforceType("DateTime"),
    SalesforceType("Email", value_length=80, external_id=True, unique=True),
    SalesforceType("Phone", value_length=40),
    SalesforceType("Url", value_length=255),
    SalesforceType("Lookup", lookup=True),
    SalesforceType("Picklist", value_length=255, picklist=True),
)}

#: Types sized by length + decimalPlaces.
NUMERIC_TYPES = frozenset(n for n, t in SALESFORCE_TYPES.items() if t.numeric)
#: Types whose ``length`` is required and bounded.
LENGTH_TYPES = {n: t.length for n, t in SALESFORCE_TYPES.items() if t.length}
#: Types that may be unique or an external id (both flags are written for them, even when false).
UNIQUE_OR_EXTERNAL_ID_TYPES = frozenset(n for n, t in SALESFORCE_TYPES.items() if t.unique or t.external_id)


def salesforce_type(name: str) -> SalesforceType:
    """The row for ``name``; a type outside the table (read from an org) gets no privileges."""
    return SALESFORCE_TYPES.get(name) or SalesforceType(name)


@dataclass(frozen=True)
class MarketoType:
    """One Marketo data type: where it may be used (custom object field, dedupe field, activity attribute)."""

    name: str
    custom_object_field: bool = True
    dedupe: bool = False
    activity_attribute: bool = True
    link: bool = False


MARKETO_TYPES: dict[str, MarketoType] = {t.name: t for t in (
    MarketoType("string", dedupe=True),
    MarketoType("text"),
    MarketoType("integer", dedupe=True),
    MarketoType("float"),
    MarketoType("currency"),
    MarketoType("date"),
    MarketoType("datetime"),
    MarketoType("boolean"),
    MarketoType("email", dedupe=True),
    MarketoType("phone"),
    MarketoType("url", activity_attribute=False),
    MarketoType("link", dedupe=True, link=True),
)}

CUSTOM_OBJECT_FIELD_TYPES = tuple(n for n, t in MARKETO_TYPES.items() if t.custom_object_field)
DEDUPE_TYPES = tuple(n for n, t in MARKETO_TYPES.items() if t.dedupe)
ACTIVITY_ATTRIBUTE_TYPES = tuple(n for n, t in MARKETO_TYPES.items() if t.activity_attribute)
