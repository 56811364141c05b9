"""The vendors' documented rules that validate checks, each with the document it comes from.

One row per rule: what the vendor says, the document, and its address. A finding made for a rule
(:func:`finding`) carries the rule's id and source, so ``validate --format json`` and the text
output both say where the rule is written down. The field-type rules themselves (lengths,
precision, which types may be unique, external ids or required) are the table in
:mod:`.fieldtypes`; the row ``salesforce.field-type`` is their source.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Finding, Location


@dataclass(frozen=True)
class VendorRule:
    """One documented rule: its id (``vendor.topic``), what it says, and where the vendor says it."""

    id: str
    says: str
    document: str
    url: str

    @property
    def source(self) -> str:
        return f"{self.document} <{self.url}>"


_SF_OBJECTS = "https://developer.salesforce.com/docs/platform/object-reference/guide/sforce-api-objects-custom-objects.html"
_SF_CUSTOM_FIELD = ("https://developer.salesforce.com/docs/platform/api-metadata/references/meta-types/"
                    "metadata-customfield.html")
_MKTO_OPENAPI = "https://developer.adobe.com/marketo-apis/api/mapi/"

RULES: dict[str, VendorRule] = {r.id: r for r in (
    VendorRule("salesforce.developer-name",
               "An API (developer) name has at most 40 characters, begins with a letter, contains only letters, "
               "digits and underscores, does not end with an underscore and has no two consecutive underscores.",
               "Salesforce Object Reference: DeveloperName (the unique name of the object in the API)",
               "https://developer.salesforce.com/docs/platform/object-reference/references/standard-objects/"
               "object-sharingset.html"),
    VendorRule("salesforce.reserved-suffix",
               "Custom objects and fields get the suffix __c in the API and relationships __r; other double-"
               "underscore suffixes (__x, __e, __mdt, __b, __share, __history, __feed, __kav) are reserved.",
               "Salesforce Object Reference: Custom Objects, naming conventions", _SF_OBJECTS),
    VendorRule("salesforce.relationship-name",
               "A lookup's relationshipName is a developer name (the API adds __r), unique among the child "
               "relationships of the object it points to.",
               "Salesforce Metadata API: CustomField (relationshipName)", _SF_CUSTOM_FIELD),
    VendorRule("salesforce.required-lookup-delete",
               "\"Clear the value of this field\" (deleteConstraint SetNull) cannot be chosen when the lookup "
               "field is required: use Restrict (don't allow deletion) or Cascade.",
               "Salesforce Help: Lookup relationship options (What to do if the lookup record is deleted?)",
               "https://help.salesforce.com/s/articleView?id=sf.relationships_considerations.htm&type=5"),
    VendorRule("salesforce.field-type",
               "Per field type: Text length 1-255, LongTextArea 256-131072, Number/Currency/Percent precision at "
               "most 18 with scale at most precision; externalId on Text, Number and Email (never long text); "
               "unique on Text, Number and Email; a Checkbox is never required (the table in fieldtypes.py).",
               "Salesforce Metadata API: CustomField (length, precision, scale, externalId, unique, required)",
               _SF_CUSTOM_FIELD),
    VendorRule("salesforce.campaign-member-status",
               "A campaign has exactly one default member status and at least one responded status; labels are "
               "unique per campaign.",
               "Salesforce Object Reference: CampaignMemberStatus",
               "https://developer.salesforce.com/docs/platform/object-reference/references/standard-objects/"
               "object-campaignmemberstatus.html"),
    VendorRule("marketo.api-name",
               "API names of custom activity types and their attributes, and of custom object types and their "
               "fields, are alphanumeric (underscores allowed) and begin with a letter.",
               "Marketo Lead Database API (OpenAPI): CustomActivityType.apiName, shipped in "
               "provisioner/sandbox/data/marketo-openapi/swagger-mapi.json", _MKTO_OPENAPI),
    VendorRule("marketo.dedupe-type",
               "A custom object dedupes on 1 to 3 fields of type string, integer, email or link.",
               "Marketo developer docs: Custom Objects (dedupe fields)",
               "https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/lead-database/"
               "custom-objects"),
    VendorRule("marketo.program-folder",
               "Programs live in the Marketing Activities tree: its folders hold programs, while Design Studio "
               "folders each hold one asset type. On instances with workspaces the API shows the workspace after "
               "the root (/Marketing Activities/Default/...); a manifest leaves it out.",
               "Marketo developer docs: Folders (folderType; Marketing Activities folders hold programs)",
               "https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/folders"),
    VendorRule("marketo.type-limits",
               "Most subscriptions hold at most 10 custom activity types (and 10 custom object types).",
               "Adobe Marketo Engage: Create a Custom Activity",
               "https://experienceleague.adobe.com/docs/marketo/using/product-docs/administration/"
               "marketo-custom-activities/create-a-custom-activity.html"),
)}


def finding(location: Location, rule_id: str, message: str, hint: str = "") -> Finding:
    """A finding for a documented rule: its id in ``rule``, its document and address in ``source``."""
    rule = RULES[rule_id]
    return Finding(location, message, hint, rule.id, rule.source)
