"""Validation of CustomObject, CustomField and PermissionSet components, as the Metadata API does it.

Each ``check_*`` returns the errors (``{statusCode, message, fields}``) Salesforce would put in
the component's SaveResult; :func:`field_def` turns a valid CustomField into the describe-level
:class:`~.schema.FieldDef` the data API uses.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import error
from .schema import FIELD_TYPES, FieldDef
from .store import OrgStore

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_NAME = 40
SHARING_MODELS = ("Private", "Read", "ReadWrite", "ReadWriteTransfer", "FullAccess", "ControlledByParent")
DEPLOYMENT_STATUSES = ("Deployed", "InDevelopment")
DELETE_CONSTRAINTS = ("SetNull", "Restrict", "Cascade")
_LENGTH_TYPES = ("Text", "LongTextArea", "AutoNumber_")
_PRECISION_TYPES = ("Number", "Currency", "Percent")
_EXTERNAL_ID_TYPES = ("Text", "Number", "Email", "AutoNumber")
_UNIQUE_TYPES = ("Text", "Number", "Email")


def name_problem(base: str, what: str) -> str | None:
    """Why ``base`` (an API name without ``__c``) is not a valid developer name, or None."""
    if not base or not _NAME.match(base) or "__" in base or base.endswith("_"):
        return (f"The {what} Name field can only contain underscores and alphanumeric characters. It must be "
                f"unique, begin with a letter, not include spaces, not end with an underscore, and not contain "
                f"two consecutive underscores.")
    if len(base) > MAX_NAME:
        return f"The {what} Name field is too long: {len(base)} characters (maximum {MAX_NAME})."
    return None


def split_custom(name: str) -> str | None:
    """The base of a custom API name (``Foo__c`` -> ``Foo``), or None when it has no ``__c`` suffix."""
    return name[:-3] if name.endswith("__c") and len(name) > 3 else None


def check_custom_object(store: OrgStore, md: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors for a CustomObject (create, update or upsert)."""
    full_name = str(md.get("fullName") or "")
    base = split_custom(full_name)
    if base is None:
        return [error("FIELD_INTEGRITY_EXCEPTION", f"Custom object names must end with __c: {full_name}",
                      ["fullName"])]
    problem = name_problem(base, "Object")
    if problem:
        return [error("FIELD_INTEGRITY_EXCEPTION", problem, ["fullName"])]
    errors = []
    if not md.get("label"):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify a non-empty label for the CustomObject",
                            ["label"]))
    if not md.get("pluralLabel"):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify a non-empty plural label for the CustomObject",
                            ["pluralLabel"]))
    name_field = md.get("nameField")
    if not isinstance(name_field, dict):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify a nameField of type Text or AutoNumber",
                            ["nameField"]))
    else:
        if name_field.get("type") not in ("Text", "AutoNumber"):
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", "Must specify a nameField of type Text or AutoNumber",
                                ["nameField"]))
        elif name_field.get("type") == "AutoNumber" and not name_field.get("displayFormat"):
            errors.append(error("REQUIRED_FIELD_MISSING", "Must specify displayFormat for an AutoNumber nameField",
                                ["nameField.displayFormat"]))
        if not name_field.get("label"):
            errors.append(error("REQUIRED_FIELD_MISSING", "Must specify a non-empty label for the nameField",
                                ["nameField.label"]))
    if md.get("deploymentStatus") not in DEPLOYMENT_STATUSES:
        errors.append(error("REQUIRED_FIELD_MISSING" if not md.get("deploymentStatus") else
                            "FIELD_INTEGRITY_EXCEPTION",
                            "Must specify deploymentStatus Deployed or InDevelopment", ["deploymentStatus"]))
    sharing = md.get("sharingModel")
    if sharing not in SHARING_MODELS:
        errors.append(error("REQUIRED_FIELD_MISSING" if not sharing else "FIELD_INTEGRITY_EXCEPTION",
                            f"Must specify a valid sharingModel, not {sharing!r}", ["sharingModel"]))
    elif sharing == "ControlledByParent":
        fields = md.get("fields") or []
        has_master = any(f.get("type") == "MasterDetail" for f in fields)
        obj = store.obj(full_name)
        if obj is not None:
            has_master = has_master or any(
                (f.metadata or {}).get("type") == "MasterDetail" for f in obj.fields.values())
        if not has_master:
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", "Cannot set sharingModel to ControlledByParent on a "
                                                             "CustomObject without a MasterDetail relationship field",
                                ["sharingModel"]))
    return errors


def check_custom_field(store: OrgStore, object_name: str, md: dict[str, Any],
                       pending_objects: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Errors for a CustomField of ``object_name``; ``md['fullName']`` is the field's own API name."""
    name = str(md.get("fullName") or "")
    base = split_custom(name)
    if base is None:
        return [error("FIELD_INTEGRITY_EXCEPTION", f"Custom field names must end with __c: {name}", ["fullName"])]
    problem = name_problem(base, "Field")
    if problem:
        return [error("FIELD_INTEGRITY_EXCEPTION", problem, ["fullName"])]
    ftype = md.get("type")
    if not ftype:
        return [error("REQUIRED_FIELD_MISSING", "Must specify a type for the CustomField", ["type"])]
    if ftype not in FIELD_TYPES:
        return [error("FIELD_INTEGRITY_EXCEPTION", f"The sandbox does not support fields of type {ftype}",
                      ["type"])]
    errors = []
    if not md.get("label"):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify a non-empty label for the CustomField",
                            ["label"]))
    length, precision, scale = md.get("length"), md.get("precision"), md.get("scale")
    if ftype in ("Text",):
        if length is None:
            errors.append(error("REQUIRED_FIELD_MISSING", f"Must specify 'length' for a CustomField of type {ftype}",
                                ["length"]))
        elif not 1 <= int(length) <= 255:
            errors.append(error("FIELD_INTEGRITY_EXCEPTION",
                                f"Length must be between 1 and 255 for a CustomField of type Text (got {length})",
                                ["length"]))
    elif ftype == "LongTextArea":
        if length is None or not 256 <= int(length) <= 131072:
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", "Length must be between 256 and 131072 for a "
                                                             "CustomField of type LongTextArea", ["length"]))
    elif length is not None and ftype not in ("Picklist",):
        errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Can not specify 'length' for a CustomField of type {ftype}",
                            ["length"]))
    if ftype in _PRECISION_TYPES:
        if precision is None:
            errors.append(error("REQUIRED_FIELD_MISSING", f"Must specify 'precision' for a CustomField of type "
                                                          f"{ftype}", ["precision"]))
        elif not 1 <= int(precision) <= 18:
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Precision must be between 1 and 18 (got {precision})",
                                ["precision"]))
        if scale is not None and precision is not None and not 0 <= int(scale) <= int(precision):
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Scale must be between 0 and the precision "
                                                             f"{precision} (got {scale})", ["scale"]))
    else:
        for key in ("precision", "scale"):
            if md.get(key) is not None:
                errors.append(error("FIELD_INTEGRITY_EXCEPTION",
                                    f"Can not specify '{key}' for a CustomField of type {ftype}", [key]))
    if ftype == "Checkbox" and md.get("defaultValue") in (None, ""):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify 'defaultValue' for a CustomField of type Checkbox",
                            ["defaultValue"]))
    if ftype == "AutoNumber" and not md.get("displayFormat"):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify 'displayFormat' for a CustomField of type "
                                                      "AutoNumber", ["displayFormat"]))
    if ftype in ("Lookup", "MasterDetail"):
        target = md.get("referenceTo")
        if not target:
            errors.append(error("REQUIRED_FIELD_MISSING", f"Must specify 'referenceTo' for a CustomField of type "
                                                          f"{ftype}", ["referenceTo"]))
        elif store.obj(str(target)) is None and str(target).lower() not in {p.lower() for p in pending_objects}:
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"referenceTo value of '{target}' does not resolve to a "
                                                             f"valid sObject type", ["referenceTo"]))
        rel = md.get("relationshipName")
        if not rel:
            errors.append(error("REQUIRED_FIELD_MISSING", f"Must specify 'relationshipName' for a CustomField of type "
                                                          f"{ftype}", ["relationshipName"]))
        elif name_problem(str(rel), "Child Relationship"):
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", name_problem(str(rel), "Child Relationship") or "",
                                ["relationshipName"]))
        if ftype == "Lookup":
            constraint = md.get("deleteConstraint")
            if constraint not in DELETE_CONSTRAINTS:
                errors.append(error("REQUIRED_FIELD_MISSING" if not constraint else "FIELD_INTEGRITY_EXCEPTION",
                                    "Must specify 'deleteConstraint' (SetNull, Restrict or Cascade) for a "
                                    "CustomField of type Lookup", ["deleteConstraint"]))
            elif constraint == "SetNull" and str(md.get("required")).lower() == "true":
                errors.append(error("FIELD_INTEGRITY_EXCEPTION", "A required lookup field cannot clear its value "
                                    "when the lookup record is deleted: use Restrict or Cascade",
                                    ["deleteConstraint"]))
    elif md.get("referenceTo"):
        errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Can not specify 'referenceTo' for a CustomField of type "
                                                         f"{ftype}", ["referenceTo"]))
    if md.get("externalId") and ftype not in _EXTERNAL_ID_TYPES:
        errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Can not specify 'externalId' for a CustomField of type "
                                                         f"{ftype}", ["externalId"]))
    if md.get("unique") and ftype not in _UNIQUE_TYPES:
        errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Can not specify 'unique' for a CustomField of type {ftype}",
                            ["unique"]))
    if md.get("caseSensitive") and not md.get("unique"):
        errors.append(error("FIELD_INTEGRITY_EXCEPTION", "Can not specify 'caseSensitive' on a field that is not "
                                                         "unique", ["caseSensitive"]))
    if md.get("required") and ftype == "Checkbox":
        errors.append(error("FIELD_INTEGRITY_EXCEPTION", "Can not specify 'required' for a CustomField of type "
                                                         "Checkbox", ["required"]))
    return errors


def field_def(md: dict[str, Any]) -> FieldDef:
    """The describe-level field for a valid CustomField component."""
    ftype = str(md["type"])
    sf_type, default_length = FIELD_TYPES[ftype]
    required = bool(md.get("required")) or ftype == "MasterDetail"
    length = int(md.get("length") or default_length)
    precision = int(md.get("precision") or 0)
    scale = int(md.get("scale") or 0)
    default: Any = None
    if ftype == "Checkbox":
        default = str(md.get("defaultValue")).lower() == "true"
    auto = ftype == "AutoNumber"
    return FieldDef(
        name=str(md["fullName"]), type=sf_type, label=str(md.get("label") or md["fullName"]), length=length,
        precision=precision, scale=scale, external_id=bool(md.get("externalId")), unique=bool(md.get("unique")),
        case_sensitive=bool(md.get("caseSensitive")), nillable=not required and ftype != "Checkbox",
        createable=not auto, updateable=not auto and not (ftype == "MasterDetail"
                                                         and not md.get("reparentableMasterDetail")),
        defaulted_on_create=ftype in ("Checkbox", "AutoNumber"), custom=True, auto_number=auto,
        reference_to=[str(md["referenceTo"])] if md.get("referenceTo") else [],
        relationship_name=(str(md["relationshipName"]) + "__r") if md.get("relationshipName") else None,
        default_value=default, metadata=dict(md),
    )


def check_permission_set(store: OrgStore, md: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors for a PermissionSet: its name, label, and every fieldPermissions entry."""
    full_name = str(md.get("fullName") or "")
    problem = name_problem(full_name, "API")
    if problem:
        return [error("FIELD_INTEGRITY_EXCEPTION", problem, ["fullName"])]
    errors = []
    if not md.get("label"):
        errors.append(error("REQUIRED_FIELD_MISSING", "Must specify a non-empty label for the PermissionSet",
                            ["label"]))
    elif len(str(md["label"])) > 80:
        errors.append(error("STRING_TOO_LONG", "Label: data value too large (max length=80)", ["label"]))
    for fp in md.get("fieldPermissions") or []:
        ref = str(fp.get("field") or "")
        obj_name, _, field_name = ref.partition(".")
        obj = store.obj(obj_name)
        f = obj.field(field_name) if obj else None
        if f is None:
            errors.append(error("INVALID_CROSS_REFERENCE_KEY", f"In field: field - no CustomField named {ref} found",
                                ["field"]))
        elif f.custom and not f.nillable:
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"You cannot deploy to a required field: {ref}",
                                ["field"]))
        elif fp.get("editable") and not fp.get("readable"):
            errors.append(error("FIELD_INTEGRITY_EXCEPTION", f"Permission Edit {ref} depends on permission(s): Read "
                                                             f"{ref}", ["field"]))
    return errors
