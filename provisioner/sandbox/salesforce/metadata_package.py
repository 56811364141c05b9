"""Metadata API ``deploy`` / ``checkDeployStatus`` and ``retrieve`` / ``checkRetrieveStatus``: zip
packages in the metadata format (Metadata API Developer Guide, "deploy()", "retrieve()",
"Working with the Zip File", "Sample package.xml Manifest Files").

A package holds ``package.xml`` and, for the types the sandbox emulates, ``objects/<Object>.object``
(CustomObject, with its fields; a standard object's file carries only its custom fields),
CustomField members ``<Object>.<Field>`` read from the same object files, and
``permissionsets/<Name>.permissionset``. With ``singlePackage`` false the files sit one folder
down (``unpackaged/package.xml``). Components go through the same checks as createMetadata;
``rollbackOnError`` undoes the whole deploy when one fails, ``checkOnly`` always does. The work
is done when ``deploy``/``retrieve`` is called; the status calls report it (done, Succeeded).
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from ..httpserver import Response
from . import soap
from .mdxml import dict_to_xml, element_to_dict
from .schema import STANDARD_OBJECT_NAMES, make_id
from .store import API_USER_ID

if TYPE_CHECKING:
    from .metadata_api import MetadataService

MAX_ZIP_BYTES = 39 * 1024 * 1024  # the base64-encoded zip a deploy() call accepts
MAX_FILES = 10_000
#: metadata type -> (folder, suffix) in the metadata format; CustomField lives in its object's file
FOLDERS = {"CustomObject": ("objects", "object"), "PermissionSet": ("permissionsets", "permissionset")}
DEPLOY_ORDER = ("CustomObject", "CustomField", "PermissionSet")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)


class PackageError(Exception):
    """A zip or package.xml the Metadata API would refuse as a whole."""


@dataclass
class Message:
    """One componentSuccesses/componentFailures entry."""

    type_name: str
    full_name: str
    file_name: str
    problem: str | None = None
    created: bool = False
    component_id: str = ""


@dataclass
class AsyncJob:
    """A finished deploy or retrieve, as its status call reports it."""

    kind: str  # "deploy" | "retrieve"
    created: str
    options: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    status: str = "Succeeded"
    error: str | None = None
    zip_bytes: bytes = b""
    files: list[tuple[str, str, str]] = field(default_factory=list)  # retrieve: (type, fullName, fileName)


def _bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "1")


class PackageService:
    """deploy/retrieve on top of a :class:`MetadataService` (caller holds the store lock)."""

    def __init__(self, metadata: "MetadataService") -> None:
        self.md = metadata
        self.store = metadata.store
        self.jobs: dict[str, AsyncJob] = {}
        self._ids = itertools.count(1)
        self._existed: set[tuple[str, str]] = set()  # (type, fullName lower) present before the running deploy

    # -- deploy -------------------------------------------------------------------------------
    def deploy(self, op: Any) -> Response:
        raw = soap.child_text(op, "ZipFile") or ""
        options_el = next((c for c in op if isinstance(c.tag, str) and soap.local(c) == "DeployOptions"), None)
        options = {soap.local(c): (c.text or "") for c in options_el} if options_el is not None else {}
        if len(raw) > MAX_ZIP_BYTES:
            return soap.fault("EXCEEDED_MAX_SIZE_REQUEST", f"Maximum size of request reached. Maximum size of request "
                                                           f"is {MAX_ZIP_BYTES} bytes.")
        job = AsyncJob("deploy", self.store.now(), options)
        try:
            files = _read_zip(raw)
            root, package = _package(files, _bool(options.get("singlePackage"), True))
            self._deploy(job, files, root, package)
        except PackageError as exc:
            job.status, job.error = "Failed", str(exc)
        return self._async_result("deployResponse", self._register("0Af", job))

    def _deploy(self, job: AsyncJob, files: dict[str, bytes], root: str, package: dict[str, list[str]]) -> None:
        check_only = _bool(job.options.get("checkOnly"))
        rollback = _bool(job.options.get("rollbackOnError"), True)
        saved = self.store.checkpoint()
        self._existed = {(t, m.lower()) for t, members in package.items() for m in members if self.md.exists(t, m)}
        for type_name, members in package.items():
            if type_name not in DEPLOY_ORDER:
                job.messages += [Message(type_name, member, f"{root}package.xml",
                                         f"The sandbox does not emulate metadata type {type_name}")
                                 for member in members]
        for type_name in DEPLOY_ORDER:
            for member in package.get(type_name, []):
                job.messages.append(self._deploy_one(type_name, member, files, root))
        failed = any(m.problem for m in job.messages)
        none_saved = all(m.problem for m in job.messages)
        job.status = ("Failed" if failed and (rollback or check_only or none_saved)
                      else "SucceededPartial" if failed else "Succeeded")
        if check_only or (failed and rollback):
            self.store.rollback(saved)

    def _deploy_one(self, type_name: str, member: str, files: dict[str, bytes], root: str) -> Message:
        obj_name = member.partition(".")[0] if type_name == "CustomField" else member
        folder, suffix = FOLDERS["PermissionSet" if type_name == "PermissionSet" else "CustomObject"]
        file_name = f"{root}{folder}/{obj_name}.{suffix}"
        message = Message(type_name, member, file_name)
        if file_name not in files:
            message.problem = f"An object '{member}' of type {type_name} was named in package.xml, but was not " \
                              f"found in zipped directory"
            return message
        try:
            element = etree.fromstring(files[file_name], _PARSER)
        except etree.XMLSyntaxError as exc:
            message.problem = f"Error parsing file: {exc}"
            return message
        expected = "PermissionSet" if type_name == "PermissionSet" else "CustomObject"
        if soap.local(element) != expected:
            message.problem = f"Expected a {expected} element in {file_name}, found {soap.local(element)}"
            return message
        md = element_to_dict(element)
        if type_name == "CustomField":
            field_name = member.partition(".")[2]
            found = next((f for f in md.get("fields") or [] if str(f.get("fullName", "")).lower()
                          == field_name.lower()), None)
            if found is None:
                message.problem = f"An object '{member}' of type CustomField was named in package.xml, but was not " \
                                  f"found in zipped directory"
                return message
            return self._save(message, "CustomField", dict(found, fullName=member))
        md["fullName"] = member
        if type_name == "CustomObject" and member in STANDARD_OBJECT_NAMES:
            for f in md.get("fields") or []:  # a standard object's file only carries its custom fields
                result = self._save(Message("CustomField", f"{member}.{f.get('fullName')}", file_name), "CustomField",
                                    dict(f, fullName=f"{member}.{f.get('fullName')}"))
                if result.problem:
                    message.problem = result.problem
                    return message
            return message
        return self._save(message, type_name, md)

    def _save(self, message: Message, type_name: str, md: dict[str, Any]) -> Message:
        exists = self.md.exists(type_name, message.full_name)
        errors = self.md.update(type_name, md) if exists else self.md.create(type_name, md)
        if errors:
            message.problem = "; ".join(f"{e['message']}" for e in errors)
        else:
            # a field deployed inside its object's file and again as a CustomField member is still "created"
            message.created = (type_name, message.full_name.lower()) not in self._existed
            info = self.store.components.get(f"{type_name}:{message.full_name}".lower())
            message.component_id = info["id"] if info else ""
        return message

    def check_deploy_status(self, op: Any) -> Response:
        job = self.jobs.get(soap.child_text(op, "asyncProcessId") or "")
        if job is None or job.kind != "deploy":
            return soap.fault("INVALID_ID_FIELD", "Invalid deploy ID")
        details = _bool(soap.child_text(op, "includeDetails"))
        job_id = next(k for k, v in self.jobs.items() if v is job)
        failures = [m for m in job.messages if m.problem]
        successes = [m for m in job.messages if not m.problem] if job.status != "Failed" else []
        detail_xml = ""
        if details:
            detail_xml = "".join(_deploy_message(m, job.created, False) for m in failures) + \
                "".join(_deploy_message(m, job.created, True) for m in successes)
        deployed = len(successes)
        parts = [
            f"<checkOnly>{soap.text(_bool(job.options.get('checkOnly')))}</checkOnly>",
            f"<completedDate>{_iso(job.created)}</completedDate>",
            f"<createdBy>{API_USER_ID[:15]}</createdBy><createdByName>Integration User</createdByName>",
            f"<createdDate>{_iso(job.created)}</createdDate>",
            f"<details>{detail_xml}</details>",
            "<done>true</done>",
        ]
        if job.error:
            parts.append(f"<errorMessage>{soap.text(job.error)}</errorMessage>"
                         f"<errorStatusCode>INVALID_CROSS_REFERENCE_KEY</errorStatusCode>")
        parts += [
            f"<id>{job_id}</id>",
            f"<ignoreWarnings>{soap.text(_bool(job.options.get('ignoreWarnings')))}</ignoreWarnings>",
            f"<lastModifiedDate>{_iso(job.created)}</lastModifiedDate>",
            f"<numberComponentErrors>{len(failures)}</numberComponentErrors>",
            f"<numberComponentsDeployed>{deployed}</numberComponentsDeployed>",
            f"<numberComponentsTotal>{len(job.messages)}</numberComponentsTotal>",
            "<numberTestErrors>0</numberTestErrors><numberTestsCompleted>0</numberTestsCompleted>"
            "<numberTestsTotal>0</numberTestsTotal>",
            f"<rollbackOnError>{soap.text(_bool(job.options.get('rollbackOnError'), True))}</rollbackOnError>",
            "<runTestsEnabled>false</runTestsEnabled>",
            f"<startDate>{_iso(job.created)}</startDate>",
            f"<status>{job.status}</status>",
            f"<success>{soap.text(job.status != 'Failed')}</success>",
        ]
        return Response.xml(soap.envelope(f"<checkDeployStatusResponse><result>{''.join(parts)}</result>"
                                          f"</checkDeployStatusResponse>"))

    # -- retrieve -----------------------------------------------------------------------------
    def retrieve(self, op: Any) -> Response:
        # The one part is retrieveRequest in the WSDL; jsforce (Salesforce CLI) names it "request": SOAP
        # document/literal servers read it by position, so any name is taken, as Salesforce does.
        request = next((c for c in op if isinstance(c.tag, str)), None)
        job = AsyncJob("retrieve", self.store.now())
        if request is None:
            return soap.fault("INVALID_REQUEST", "retrieveRequest is required")
        req = element_to_dict(request)
        if req.get("packageNames"):
            job.status, job.error = "Failed", "The sandbox has no installed packages to retrieve by packageNames"
            return self._async_result("retrieveResponse", self._register("09S", job))
        single = _bool(req.get("singlePackage"), False)
        unpackaged = next((c for c in request if isinstance(c.tag, str) and soap.local(c) == "unpackaged"), None)
        package: dict[str, list[str]] = {}
        version = str(req.get("apiVersion") or "")
        if unpackaged is not None:
            for types in unpackaged:
                if not isinstance(types.tag, str) or soap.local(types) != "types":
                    if isinstance(types.tag, str) and soap.local(types) == "version":
                        version = types.text or version
                    continue
                name = soap.child_text(types, "name") or ""
                package.setdefault(name, []).extend(c.text or "" for c in types
                                                    if isinstance(c.tag, str) and soap.local(c) == "members")
        job.zip_bytes = self._build_zip(job, package, "" if single else "unpackaged/", version)
        return self._async_result("retrieveResponse", self._register("09S", job))

    def _build_zip(self, job: AsyncJob, package: dict[str, list[str]], root: str, version: str) -> bytes:
        objects: dict[str, dict[str, Any]] = {}  # object file name -> content
        permission_sets: dict[str, dict[str, Any]] = {}
        for type_name, members in package.items():
            names = [n for n, _f in self.md.components(type_name)  # "*" never names standard objects
                     if not (type_name == "CustomObject" and n in STANDARD_OBJECT_NAMES)] if "*" in members else []
            names += [m for m in members if m != "*"]
            for name in dict.fromkeys(names):
                if type_name not in DEPLOY_ORDER:
                    job.messages.append(Message(type_name, name, f"{root}package.xml",
                                                f"Entity type: '{type_name}' is not supported by the sandbox"))
                    continue
                data = self.md.read_one(type_name, name)
                if data is None:
                    job.messages.append(Message(type_name, name, f"{root}package.xml",
                                                f"Entity of type '{type_name}' named '{name}' cannot be found"))
                    continue
                if type_name == "PermissionSet":
                    permission_sets[name] = data
                    job.files.append((type_name, name, f"{root}permissionsets/{name}.permissionset"))
                elif type_name == "CustomObject":
                    entry = objects.setdefault(name, {})
                    fields = {f["fullName"]: f for f in entry.get("fields", [])}
                    fields.update({f["fullName"]: f for f in data.get("fields", [])})
                    if name in STANDARD_OBJECT_NAMES:  # only the custom fields a standard object's file can carry
                        data = {}
                    entry.update({k: v for k, v in data.items() if k not in ("fullName", "fields")})
                    entry["fields"] = list(fields.values())
                    job.files.append((type_name, name, f"{root}objects/{name}.object"))
                else:
                    obj_name, _, field_name = name.partition(".")
                    entry = objects.setdefault(obj_name, {})
                    fields = {f["fullName"]: f for f in entry.get("fields", [])}
                    fields[field_name] = dict(data, fullName=data["fullName"].partition(".")[2])
                    entry["fields"] = list(fields.values())
                    job.files.append((type_name, name, f"{root}objects/{obj_name}.object"))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{root}package.xml", _package_xml(package, version))
            for name, data in sorted(objects.items()):
                data["fields"] = sorted(data.get("fields", []), key=lambda f: str(f.get("fullName")))
                zf.writestr(f"{root}objects/{name}.object", _file_xml("CustomObject", data))
            for name, data in sorted(permission_sets.items()):
                zf.writestr(f"{root}permissionsets/{name}.permissionset",
                            _file_xml("PermissionSet", {k: v for k, v in data.items() if k != "fullName"}))
        return out.getvalue()

    def check_retrieve_status(self, op: Any) -> Response:
        job_id = soap.child_text(op, "asyncProcessId") or ""
        job = self.jobs.get(job_id)
        if job is None or job.kind != "retrieve":
            return soap.fault("INVALID_LOCATOR", "Retrieve result has been deleted.")
        include_zip = _bool(soap.child_text(op, "includeZip"), True)
        props = "".join(self.md.file_properties(t, n, f, "fileProperties") for t, n, f in job.files)
        messages = "".join(f"<messages><fileName>{soap.text(m.file_name)}</fileName>"
                           f"<problem>{soap.text(m.problem)}</problem></messages>" for m in job.messages)
        error = f"<errorMessage>{soap.text(job.error)}</errorMessage><errorStatusCode>INVALID_CROSS_REFERENCE_KEY" \
                f"</errorStatusCode>" if job.error else ""
        zipped = base64.b64encode(job.zip_bytes).decode() if include_zip and not job.error else ""
        body = (f"<checkRetrieveStatusResponse><result><done>true</done>{error}{props}<id>{job_id}</id>{messages}"
                f"<status>{job.status}</status><success>{soap.text(job.status == 'Succeeded')}</success>"
                f"<zipFile>{zipped}</zipFile></result></checkRetrieveStatusResponse>")
        return Response.xml(soap.envelope(body))

    # -- shared -------------------------------------------------------------------------------
    def _register(self, prefix: str, job: AsyncJob) -> str:
        job_id = make_id(prefix, next(self._ids))
        self.jobs[job_id] = job
        return job_id

    def _async_result(self, tag: str, job_id: str) -> Response:
        return Response.xml(soap.envelope(f"<{tag}><result><done>false</done><id>{job_id}</id>"
                                          f"<state>Queued</state></result></{tag}>"))


def _read_zip(raw: str) -> dict[str, bytes]:
    try:
        data = base64.b64decode(raw.strip(), validate=False)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if len(names) > MAX_FILES:
                raise PackageError(f"The zip holds {len(names)} files; a deploy accepts at most {MAX_FILES}")
            return {n: zf.read(n) for n in names}
    except (binascii.Error, zipfile.BadZipFile, ValueError) as exc:
        raise PackageError(f"Error reading the zip file: {exc}") from None


def _package(files: dict[str, bytes], single: bool) -> tuple[str, dict[str, list[str]]]:
    """The folder the package sits in ("" or "name/") and its types -> members from package.xml."""
    candidates = [n for n in files if n == "package.xml" or (n.count("/") == 1 and n.endswith("/package.xml"))]
    if not candidates:
        raise PackageError("No package.xml found")
    if single and "package.xml" not in candidates:
        raise PackageError("With singlePackage, package.xml must be at the root of the zip")
    if not single and len(candidates) > 1:
        raise PackageError("More than one package.xml found; deploy one package at a time")
    name = "package.xml" if "package.xml" in candidates else candidates[0]
    root = name[: -len("package.xml")]
    try:
        element = etree.fromstring(files[name], _PARSER)
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"Error parsing package.xml: {exc}") from None
    package: dict[str, list[str]] = {}
    for types in element:
        if isinstance(types.tag, str) and soap.local(types) == "types":
            type_name = soap.child_text(types, "name") or ""
            package.setdefault(type_name, []).extend(
                (c.text or "").strip() for c in types if isinstance(c.tag, str) and soap.local(c) == "members")
    for type_name, members in package.items():  # "*": every file of that type in the zip
        if "*" in members and type_name in FOLDERS:
            folder, suffix = FOLDERS[type_name]
            found = [n[len(root) + len(folder) + 1: -len(suffix) - 1] for n in files
                     if n.startswith(f"{root}{folder}/") and n.endswith(f".{suffix}")]
            if type_name == "CustomObject":
                found = [n for n in found if n not in STANDARD_OBJECT_NAMES]
            package[type_name] = list(dict.fromkeys([m for m in members if m != "*"] + sorted(found)))
        elif "*" in members:
            raise PackageError(f"Wildcards (*) are not supported for {type_name} by the sandbox")
    return root, package


def _package_xml(package: dict[str, list[str]], version: str) -> str:
    types = "".join("<types>" + "".join(f"<members>{soap.text(m)}</members>" for m in members) +
                    f"<name>{soap.text(name)}</name></types>" for name, members in sorted(package.items()))
    return _pretty(f'<Package xmlns="{soap.METADATA_NS}">{types}<version>{soap.text(version)}</version></Package>')


def _file_xml(root_tag: str, data: dict[str, Any]) -> str:
    """A metadata-format file: the component without its fullName (the file name carries it)."""
    inner = dict_to_xml(root_tag, data)
    return _pretty(inner.replace(f"<{root_tag}>", f'<{root_tag} xmlns="{soap.METADATA_NS}">', 1))


def _pretty(xml: str) -> str:
    element = etree.fromstring(xml.encode("utf-8"), _PARSER)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(element, pretty_print=True,
                                                                         encoding="unicode")


def _deploy_message(m: Message, created: str, success: bool) -> str:
    tag = "componentSuccesses" if success else "componentFailures"
    problem = "" if success else f"<problem>{soap.text(m.problem)}</problem><problemType>Error</problemType>"
    component_id = f"<id>{m.component_id}</id>" if success and m.component_id else ""
    return (f"<{tag}><changed>{soap.text(success)}</changed><componentType>{soap.text(m.type_name)}</componentType>"
            f"<created>{soap.text(success and m.created)}</created><createdDate>{_iso(created)}</createdDate>"
            f"<deleted>false</deleted><fileName>{soap.text(m.file_name)}</fileName>"
            f"<fullName>{soap.text(m.full_name)}</fullName>{component_id}{problem}"
            f"<success>{soap.text(success)}</success></{tag}>")


def _iso(stamp: str) -> str:
    return stamp.replace("+0000", "Z")
