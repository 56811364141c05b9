"""Metadata API deploy/retrieve of zip packages, driven by simple-salesforce's own methods
(``sf.mdapi.deploy``, ``check_deploy_status``, ``retrieve``, ``retrieve_zip``) and by zeep with
simple-salesforce's WSDL, which parses every result against the vendor's schema.

Vendor rules (Metadata API Developer Guide): "deploy()" and "DeployResult" (componentSuccesses /
componentFailures, rollbackOnError undoes the whole deploy, checkOnly validates without saving),
"retrieve()" and "RetrieveResult" (zip with package.xml, ``objects/<Object>.object`` holding
the custom fields, ``permissionsets/<Name>.permissionset``; ``*`` never names standard objects),
"Working with the Zip File" (singlePackage false: one folder down).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from lxml import etree
from simple_salesforce import Salesforce

from .conftest import grant, soap, unique

NS = "http://soap.sforce.com/2006/04/metadata"


def package_xml(types: dict[str, list[str]]) -> str:
    body = "".join("<types>" + "".join(f"<members>{m}</members>" for m in members) + f"<name>{name}</name></types>"
                   for name, members in types.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{NS}">{body}<version>59.0</version></Package>'


def object_xml(fields: str, top: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="{NS}">{top}{fields}</CustomObject>'


OBJECT_TOP = ("<deploymentStatus>Deployed</deploymentStatus><label>Package Thing</label>"
              "<nameField><label>Thing Name</label><type>Text</type></nameField>"
              "<pluralLabel>Package Things</pluralLabel><sharingModel>ReadWrite</sharingModel>")


def text_field_xml(name: str, length: int = 40, extra: str = "") -> str:
    return (f"<fields><fullName>{name}</fullName><externalId>false</externalId><label>{name}</label>"
            f"<length>{length}</length><required>false</required><type>Text</type>{extra}</fields>")


def zip_of(files: dict[str, str]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    out.seek(0)
    return out


def deploy(sf: Salesforce, files: dict[str, str], **options: Any) -> tuple[Any, Any, Any]:
    job_id, state = sf.mdapi.deploy(zip_of(files), sandbox=True, **options)
    assert job_id and state == "Queued"
    status, _detail, deployment, _tests = sf.mdapi.check_deploy_status(job_id)
    return job_id, status, deployment


def retrieve(sf: Salesforce, types: dict[str, list[str]]) -> dict[str, Any]:
    """The retrieved zip as {file name: parsed XML as nested dicts}."""
    job_id, _state = sf.mdapi.retrieve("", unpackaged=types)
    state, error, messages, raw = sf.mdapi.retrieve_zip(job_id)
    assert state == "Succeeded" and error is None and messages == [], (state, error, messages)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {n: as_dict(etree.fromstring(zf.read(n))) for n in zf.namelist()}


def as_dict(el: Any) -> Any:
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        return el.text
    out: dict[str, list[Any]] = {}
    for c in children:
        out.setdefault(etree.QName(c).localname, []).append(as_dict(c))
    return out


def test_deploy_then_retrieve_hand_written_package(sf: Salesforce, md: Any) -> None:
    obj, ps = unique("Pkg") + "__c", unique("PkgPerms")
    files = {
        "package.xml": package_xml({"CustomObject": [obj, "Lead"], "PermissionSet": [ps]}),
        f"objects/{obj}.object": object_xml(text_field_xml("Code__c", 20), OBJECT_TOP),
        "objects/Lead.object": object_xml(text_field_xml(f"{obj[:-3]}Src__c", 60)),
        f"permissionsets/{ps}.permissionset": (
            f'<?xml version="1.0" encoding="UTF-8"?><PermissionSet xmlns="{NS}"><fieldPermissions>'
            f"<editable>true</editable><field>{obj}.Code__c</field><readable>true</readable></fieldPermissions>"
            f"<label>{ps}</label></PermissionSet>"),
    }
    _job, status, deployment = deploy(sf, files)
    assert status == "Succeeded" and deployment["errors"] == []
    assert (deployment["total_count"], deployment["deployed_count"], deployment["failed_count"]) == ("3", "3", "0")
    read = md.CustomObject.read([obj])
    assert read.label == "Package Thing" and [f.fullName for f in read.fields] == ["Code__c"]
    assert md.CustomField.read([f"Lead.{obj[:-3]}Src__c"]).length == 60
    assert md.PermissionSet.read([ps]).fieldPermissions[0].field == f"{obj}.Code__c"
    grant(sf, [f"{obj}.Code__c"])
    sf.restful(f"sobjects/{obj}/", method="POST", json={"Name": "row", "Code__c": "C-1"})  # a live sObject now

    got = retrieve(sf, {"CustomObject": [obj], "CustomField": [f"Lead.{obj[:-3]}Src__c"], "PermissionSet": [ps]})
    assert sorted(got) == sorted(["package.xml", f"objects/{obj}.object", "objects/Lead.object",
                                  f"permissionsets/{ps}.permissionset"])
    assert got[f"objects/{obj}.object"] == as_dict(etree.fromstring(files[f"objects/{obj}.object"].encode()))
    assert got["objects/Lead.object"] == as_dict(etree.fromstring(files["objects/Lead.object"].encode()))
    assert got[f"permissionsets/{ps}.permissionset"] == as_dict(
        etree.fromstring(files[f"permissionsets/{ps}.permissionset"].encode()))


def test_failed_component_rolls_back_the_whole_deploy(sf: Salesforce, md: Any) -> None:
    obj = unique("Roll") + "__c"
    bad = "<fields><fullName>Bad__c</fullName><label>Bad</label><type>NoSuchType</type></fields>"
    files = {"package.xml": package_xml({"CustomObject": [obj, "Lead"]}),
             f"objects/{obj}.object": object_xml("", OBJECT_TOP),
             "objects/Lead.object": object_xml(bad)}
    _job, status, deployment = deploy(sf, files, rollbackOnError=True)
    assert status == "Failed" and deployment["failed_count"] == "1" and deployment["deployed_count"] == "0"
    (failure,) = deployment["errors"]
    assert failure["type"] == "CustomObject" and failure["file"] == "objects/Lead.object"
    assert failure["status"] == "Error" and "NoSuchType" in failure["message"]
    assert md.CustomObject.read([obj]).fullName is None  # rolled back: nothing invented


def test_without_rollback_the_good_components_stay(sf: Salesforce, md: Any) -> None:
    obj = unique("Part") + "__c"
    files = {"package.xml": package_xml({"CustomObject": [obj], "CustomField": ["Lead.Missing__c"]}),
             f"objects/{obj}.object": object_xml("", OBJECT_TOP)}
    _job, status, deployment = deploy(sf, files, rollbackOnError=False)
    assert status == "SucceededPartial" and deployment["failed_count"] == "1"
    assert "Lead.Missing__c" in deployment["errors"][0]["message"]
    assert md.CustomObject.read([obj]).label == "Package Thing"


def test_check_only_validates_without_saving(sf: Salesforce, md: Any) -> None:
    obj = unique("Check") + "__c"
    files = {"package.xml": package_xml({"CustomObject": [obj]}), f"objects/{obj}.object": object_xml("", OBJECT_TOP)}
    _job, status, _deployment = deploy(sf, files, checkOnly=True)
    assert status == "Succeeded"
    assert md.CustomObject.read([obj]).fullName is None


def test_package_level_refusals(sf: Salesforce) -> None:
    _job, status, _d = deploy(sf, {"objects/X__c.object": object_xml("", OBJECT_TOP)})
    assert status == "Failed"  # no package.xml
    _job, status, deployment = deploy(sf, {"package.xml": package_xml({"CustomObject": ["Nope__c"]})})
    assert status == "Failed" and "Nope__c" in deployment["errors"][0]["message"]  # named but not in the zip


def call(md: Any, operation: str, *args: Any) -> Any:
    """A raw zeep call's result (unwrapped from body/result where the WSDL declares a response header)."""
    reply = soap(md, operation, *args)
    body = getattr(reply, "body", None) if "body" in dir(reply) else None
    return body.result if body is not None else reply


def test_zeep_parses_deploy_and_retrieve_results(sf: Salesforce, md: Any) -> None:
    """The raw SOAP operations through zeep, which validates every element against the WSDL."""
    obj = unique("Zeep") + "__c"
    files = {"unpackaged/package.xml": package_xml({"CustomObject": [obj]}),
             f"unpackaged/objects/{obj}.object": object_xml(text_field_xml("Z__c"), OBJECT_TOP)}
    started = call(md, "deploy", zip_of(files).getvalue(), {
        "allowMissingFiles": False, "autoUpdatePackage": False, "checkOnly": False, "ignoreWarnings": False,
        "performRetrieve": False, "purgeOnDelete": False, "rollbackOnError": True, "singlePackage": False,
        "testLevel": "NoTestRun"})
    assert started.done is False and started.state == "Queued"
    result = call(md, "checkDeployStatus", started.id, True)
    assert (result.done, result.success, result.status, result.numberComponentsDeployed) == (True, True, "Succeeded", 1)
    (success,) = result.details.componentSuccesses
    assert (success.componentType, success.fullName, success.created) == ("CustomObject", obj, True)
    assert success.fileName == f"unpackaged/objects/{obj}.object" and success.id.startswith("01I")
    started = call(md, "retrieve", {"apiVersion": 59.0, "singlePackage": False, "unpackaged": {
        "types": [{"members": [obj], "name": "CustomObject"}], "version": "59.0"}})
    got = call(md, "checkRetrieveStatus", started.id, True)
    assert got.done is True and got.success is True and got.status == "Succeeded"
    assert [(p.type, p.fullName, p.fileName) for p in got.fileProperties] == [
        ("CustomObject", obj, f"unpackaged/objects/{obj}.object")]
    with zipfile.ZipFile(io.BytesIO(got.zipFile)) as zf:
        assert sorted(zf.namelist()) == ["unpackaged/objects/" + obj + ".object", "unpackaged/package.xml"]


def test_shipped_manifests_round_trip_through_a_zip(tmp_path: Any) -> None:
    """Apply the shipped Salesforce manifests with the tool to org A, retrieve them as a zip, deploy
    that zip to an empty org B, retrieve again: B holds exactly what A held, file for file."""
    from pathlib import Path

    from click.testing import CliRunner

    from provisioner.cli import cli
    from provisioner.http import make_session
    from provisioner.sandbox.runtime import Sandbox

    from .conftest import client_credentials_token, salesforce_client

    manifests = Path(__file__).resolve().parents[2] / "manifests"
    shipped = [str(manifests / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                            "livestorm-salesforce.yaml")]
    with Sandbox(tmp_path / "a", marketo=False) as org_a, Sandbox(tmp_path / "b", marketo=False) as org_b:
        applied = CliRunner().invoke(cli, ["apply", *shipped, "--auto-approve"], env=org_a.env(),
                                     catch_exceptions=False)
        assert applied.exit_code == 0, applied.output
        sf_a = salesforce_client(org_a, client_credentials_token(org_a, make_session(org_a.ca_bundle)))
        sf_b = salesforce_client(org_b, client_credentials_token(org_b, make_session(org_b.ca_bundle)))
        on_standard = [p.fullName for p in sf_a.mdapi._service.listMetadata(
            [{"type": "CustomField"}], 59.0, _soapheaders=[sf_a.mdapi._session_header])
            if not p.fullName.partition(".")[0].endswith("__c")]
        types = {"CustomObject": ["*"], "CustomField": on_standard, "PermissionSet": ["*"]}
        from_a = retrieve(sf_a, types)
        objects = [n for n in from_a if n.startswith("objects/") and n.endswith("__c.object")]
        assert len(objects) == 2 and on_standard and any(n.startswith("permissionsets/") for n in from_a)
        fields_a = sum(len(from_a[n].get("fields", [])) for n in objects)
        assert fields_a >= 60  # 31 engagement fields + key, 30 poll fields: the manifests' custom fields

        job_id, _state = sf_b.mdapi.deploy(zip_of_retrieved(sf_a, types), sandbox=False)
        status, _detail, deployment, _tests = sf_b.mdapi.check_deploy_status(job_id)
        assert status == "Succeeded" and deployment["errors"] == [], deployment
        assert retrieve(sf_b, types) == from_a


def zip_of_retrieved(sf: Salesforce, types: dict[str, list[str]]) -> io.BytesIO:
    job_id, _state = sf.mdapi.retrieve("", unpackaged=types)
    _status, _error, _messages, raw = sf.mdapi.retrieve_zip(job_id)
    return io.BytesIO(raw)


def test_retrieve_request_part_is_read_by_position(sandbox: Any, http: Any, token: str) -> None:
    """jsforce (Salesforce CLI) names retrieve()'s one part ``request``, not the WSDL's ``retrieveRequest``;
    Salesforce reads document/literal parts by position and so must the sandbox."""
    envelope = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
                f'soap/envelope/" xmlns="{NS}"><soapenv:Header><SessionHeader><sessionId>{token}</sessionId>'
                f'</SessionHeader></soapenv:Header><soapenv:Body><retrieve><request><apiVersion>59.0</apiVersion>'
                f'<singlePackage>true</singlePackage><unpackaged><types><members>*</members><name>PermissionSet'
                f'</name></types><version>59.0</version></unpackaged></request></retrieve></soapenv:Body>'
                f'</soapenv:Envelope>')
    r = http.post(sandbox.salesforce_url + "/services/Soap/m/59.0", data=envelope,
                  headers={"Content-Type": "text/xml", "SOAPAction": "retrieve"})
    assert r.status_code == 200 and "<state>Queued</state>" in r.text


def test_rollback_removes_new_columns_rows_and_permission_sets(sf: Salesforce, md: Any, sandbox: Any,
                                                             http: Any) -> None:
    """rollbackOnError undoes everything the deploy did before the failing component: a new field on a
    standard object (and its column on existing rows), a permission set and its PermissionSet row."""
    lead = sf.Lead.create({"LastName": "Kept", "Company": "Acme"})["id"]
    field, ps = unique("RollField") + "__c", unique("RollPerms")
    files = {
        "package.xml": package_xml({"CustomObject": ["Lead", "Nope_Bad__c"], "PermissionSet": [ps]}),
        "objects/Lead.object": object_xml(text_field_xml(field)),
        "objects/Nope_Bad__c.object": object_xml("", "<label>No plural label</label>"),
        f"permissionsets/{ps}.permissionset": (f'<?xml version="1.0" encoding="UTF-8"?><PermissionSet xmlns="{NS}">'
                                               f"<label>{ps}</label></PermissionSet>"),
    }
    _job, status, deployment = deploy(sf, files, rollbackOnError=True)
    assert status == "Failed" and deployment["failed_count"] == "1"
    assert md.CustomField.read([f"Lead.{field}"]).fullName is None
    assert md.PermissionSet.read([ps]).fullName is None
    assert sf.query(f"SELECT COUNT() FROM PermissionSet WHERE Name = '{ps}'")["totalSize"] == 0
    state = http.get(sandbox.salesforce_url + "/__sandbox/state").json()
    row = state["records"]["Lead"][lead]
    assert field not in row and row["LastName"] == "Kept"  # the row stays, without the rolled-back column
