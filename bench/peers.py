"""The same sync work done by real peer libraries, for the side-by-side columns of bench/run.py.

Salesforce: simple-salesforce — the matching queries (query_all, IN lists packed to the URI limit), then
``bulk2`` for the Lead insert (its successful-records file gives the new Ids), the CampaignMember upsert
and the engagement upsert. Marketo: marketorestpython's REST path (leads 300 a call, program member
status, custom object records, custom activities) and its bulk lead import path. Both do what the tool's
sync must do for the same rows; neither imports provisioner.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote_plus

import requests

from limits import MK_RECORDS, SF_HEADER_BYTES, SF_URI_BYTES

BULK_POLL_S = 1  # simple-salesforce waits 5 s before its first poll by default; 1 s is kinder to it


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _in_lists(head: str, values: list[str]) -> Iterator[str]:
    """SOQL queries whose URL stays under the URI limit, each with as many quoted values as fit."""
    budget = SF_URI_BYTES - len("/services/data/v60.0/query?q=") - len(quote_plus(head)) - 2 * SF_HEADER_BYTES
    batch: list[str] = []
    used = 0
    for value in values:
        literal = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        cost = len(quote_plus(literal + ","))
        if batch and used + cost > budget:
            yield head.replace("{values}", ",".join(batch))
            batch, used = [], 0
        batch.append(literal)
        used += cost
    if batch:
        yield head.replace("{values}", ",".join(batch))


def salesforce_bulk2(env: dict[str, str], data: list[Path]) -> None:
    """Registrations and engagement rows into Salesforce with simple-salesforce (bulk2 for every write)."""
    from simple_salesforce import Salesforce

    os.environ["REQUESTS_CA_BUNDLE"] = env["SF_CA_BUNDLE"]  # simple-salesforce passes no verify per request
    http = requests.Session()
    token = http.post(env["SF_LOGIN_URL"] + "/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": env["SF_CLIENT_ID"],
        "client_secret": env["SF_CLIENT_SECRET"]}).json()
    sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=http,
                    version="60.0")
    regs, engs = _rows(data[0]), _rows(data[1])
    sessions = sorted({r["session"] for r in regs})
    campaigns = {r["Name"]: r["Id"] for q in _in_lists("SELECT Id, Name FROM Campaign WHERE Name IN ({values})",
                                                        sessions) for r in sf.query_all(q)["records"]}
    emails = sorted({r["email"] for r in regs})
    people: dict[str, tuple[str, str]] = {}
    for obj, extra in (("Contact", ""), ("Lead", " AND IsConverted = false")):
        for q in _in_lists(f"SELECT Id, Email FROM {obj} WHERE Email IN ({{values}}){extra} ORDER BY CreatedDate",
                           emails):
            for r in sf.query_all(q)["records"]:
                people.setdefault(r["Email"].lower(), (obj, r["Id"]))
    first = {r["email"]: r for r in regs}
    new = [{"Email": e, "FirstName": first[e]["first_name"], "LastName": first[e]["last_name"],
            "Company": first[e]["company"]} for e in emails if e.lower() not in people]
    if new:
        for job in sf.bulk2.Lead.insert(records=new, wait=BULK_POLL_S):
            created = sf.bulk2.Lead.get_successful_records(job["job_id"])
            for r in csv.DictReader(io.StringIO(created)):
                people[r["Email"].lower()] = ("Lead", r["sf__Id"])
    members, keys = [], {}
    for r in regs:
        obj, pid = people[r["email"].lower()]
        cid = campaigns[r["session"]]
        keys[(r["session"], r["email"])] = f"{cid}_{pid}"
        members.append({"external_id__c": f"{cid}_{pid}", "CampaignId": cid,
                        ("ContactId" if obj == "Contact" else "LeadId"): pid, "Status": r["status"]})
    sf.bulk2.CampaignMember.upsert(records=members, external_id_field="external_id__c", wait=BULK_POLL_S)
    engagement = [{"external_id__c": f"{keys[(r['session'], r['email'])]}_{r['entry_id']}",
                   "entry_id__c": r["entry_id"], "plays__c": r["plays"],
                   "live_minutes_viewed__c": r["live_minutes_viewed"]} for r in engs]
    sf.bulk2.UserSessionEngagement__c.upsert(records=engagement, external_id_field="external_id__c",
                                             wait=BULK_POLL_S)


def _marketo(env: dict[str, str]) -> Any:
    from marketorestpython.client import MarketoClient

    os.environ["REQUESTS_CA_BUNDLE"] = env["MARKETO_CA_BUNDLE"]  # the library has no verify parameter
    client = MarketoClient("sandbox", env["MARKETO_CLIENT_ID"], env["MARKETO_CLIENT_SECRET"])
    client.host = env["MARKETO_ENDPOINT"]  # it builds https://<munchkin>.mktorest.com otherwise
    return client


def marketo_rest(env: dict[str, str], data: list[Path], status_of: dict[str, str] | None = None) -> None:
    """Registrations and engagement rows into Marketo with marketorestpython's REST calls (300 a call)."""
    from run import status_map

    mc = _marketo(env)
    status_of = status_of or status_map()
    regs, engs = _rows(data[0]), _rows(data[1])
    emails = sorted({r["email"] for r in regs})
    first = {r["email"]: r for r in regs}
    lead_id: dict[str, int] = {}
    for chunk in _chunks(emails, MK_RECORDS):
        result = mc.execute(method="create_update_leads", leads=[
            {"email": e, "firstName": first[e]["first_name"], "lastName": first[e]["last_name"],
             "company": first[e]["company"]} for e in chunk], action="createOrUpdate", lookupField="email")
        lead_id.update({e: r["id"] for e, r in zip(chunk, result) if "id" in r})
    programs = {p["name"]: p["id"] for p in mc.execute(method="browse_programs", maxReturn=200)}
    groups: dict[tuple[int, str], list[int]] = {}
    for r in regs:
        groups.setdefault((programs[r["session"]], status_of[r["status"]]), []).append(lead_id[r["email"]])
    for (program, status), leads in groups.items():
        for chunk in _chunks(leads, MK_RECORDS):
            mc.execute(method="change_lead_program_status", id=program, leadIds=chunk, status=status)
    for chunk in _chunks(engs, MK_RECORDS):
        mc.execute(method="create_update_custom_objects", name="kalturaUserSessionEngagement", input=[
            {"entry_id": r["entry_id"], "email": r["email"], "personId": lead_id[r["email"]],
             "plays": int(r["plays"]), "live_minutes_viewed": float(r["live_minutes_viewed"])} for r in chunk],
            action="createOrUpdate", dedupeBy="dedupeFields")
    type_id = next(t["id"] for t in mc.execute(method="get_custom_activity_types")
                   if t["apiName"] == "userSessionEngagement")
    for chunk in _chunks(engs, MK_RECORDS):
        mc.execute(method="add_custom_activities", input=[
            {"leadId": lead_id[r["email"]], "activityDate": r["time"], "activityTypeId": type_id,
             "primaryAttributeValue": r["entry_id"],
             "attributes": [{"apiName": "email", "value": r["email"]}]} for r in chunk])
