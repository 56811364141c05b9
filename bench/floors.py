"""Floors: the fewest API calls the vendors' published limits (bench/limits.py) allow for each benchmark.

Every function takes plain counts that the benchmark knows from the data it wrote and the manifests it
read with pyyaml/jinja2; nothing here imports provisioner. Each docstring derives its floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote_plus

import jinja2
import yaml

from limits import (MK_BROWSE_PAGE, MK_FOLDER_PATH_CALLS, MK_IMPORT_BYTES, MK_IMPORT_CALLS, MK_RECORDS,
                    MK_TOKEN_CALLS, MK_USAGE_CALLS, SF_BULK_JOB_BYTES, SF_BULK_JOB_CALLS, SF_BULK_RESULTS_CALL,
                    SF_COLLECTION_RECORDS, SF_COMPOSITE_QUERIES, SF_HEADER_BYTES, SF_METADATA_COMPONENTS,
                    SF_QUERY_PAGE, SF_SOQL_CHARS, SF_TOKEN_CALLS, SF_URI_BYTES)


def ceil_div(n: int, d: int) -> int:
    return -(-n // d) if n > 0 else 0


# --- Salesforce building blocks -------------------------------------------------------------------

def soql_in_queries(head: str, values: Iterable[str], api_path: str = "/services/data/v60.0/query?q=") -> int:
    """How many GET /query calls carry every value in ``head``'s ``IN (...)`` list within the URI limit
    (less the request's own headers, which share the 16 KB).

    Packs greedily (optimal for one list: every query but the last is full). ``head`` holds ``{values}``.
    """
    base = len(api_path) + len(quote_plus(head.replace("{values}", "")))
    queries, used = 0, None
    for value in values:
        literal = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        cost = len(quote_plus(literal)) + len(quote_plus(","))
        if used is None or used + cost > SF_URI_BYTES - SF_HEADER_BYTES:
            queries, used = queries + 1, base + cost
        else:
            used += cost
    return queries


def soql_calls(head: str, values: list[str]) -> int:
    """Fewest calls to run ``head``'s IN list over ``values``: GETs within the URI limit, or statements of up
    to 100,000 characters sent 5 to a Composite call, whichever is fewer."""
    statements, used = 0, None
    base = len(head.replace("{values}", ""))
    for value in values:
        cost = len(value) + 3  # quotes and a comma
        if used is None or used + cost > SF_SOQL_CHARS:
            statements, used = statements + 1, base + cost
        else:
            used += cost
    return min(soql_in_queries(head, values), ceil_div(statements, SF_COMPOSITE_QUERIES))


def sf_write(records: int, csv_bytes: int, need_ids: bool) -> int:
    """Fewest calls to write ``records``: sObject Collections (200 a call) or Bulk API 2.0 jobs (100 MB each)."""
    if records == 0:
        return 0
    jobs = max(1, ceil_div(csv_bytes, SF_BULK_JOB_BYTES))
    bulk = jobs * (SF_BULK_JOB_CALLS + (SF_BULK_RESULTS_CALL if need_ids else 0))
    return min(ceil_div(records, SF_COLLECTION_RECORDS), bulk)


def mk_write(records: int, csv_bytes: int, bulk_allowed: bool = True) -> int:
    """Fewest Marketo calls to write ``records``: REST (300 a call) or bulk imports (2 calls per 10 MB file)."""
    if records == 0:
        return 0
    rest = ceil_div(records, MK_RECORDS)
    if not bulk_allowed:
        return rest
    return min(rest, MK_IMPORT_CALLS * max(1, ceil_div(csv_bytes, MK_IMPORT_BYTES)))


# --- sync ------------------------------------------------------------------------------------------

@dataclass
class SyncWork:
    """What a sync of the bench data must achieve, counted by the bench from the rows it wrote."""

    emails: list[str]                       # distinct people, all new to both orgs
    sessions: list[str]                     # campaigns / programs the rows name (they exist already)
    registrations: int                      # campaign members to upsert
    engagement: int                         # engagement records (Salesforce object, Marketo object + activity)
    member_groups: dict[tuple[str, str], int]  # (session, Marketo status) -> members
    lead_csv_bytes: int
    member_csv_bytes: int
    engagement_csv_bytes: int
    object_csv_bytes: int
    programs_in_instance: int


def sync_salesforce_floor(w: SyncWork) -> int:
    """token + campaign ids by name (one query) + people matched on Contact and on Lead (IN lists packed to
    the 16 KB URI, or 100,000-character statements 5 to a Composite call; new people return no rows, so no
    extra pages; counted per object, a lower bound on sharing one Composite call between the two) + Leads created with their Ids (a Bulk job
    with successfulResults, or collections) + CampaignMembers upserted + engagement records upserted."""
    names = soql_in_queries("SELECT Id,Name FROM Campaign WHERE Name IN ({values})", w.sessions)
    contacts = soql_calls("SELECT Id,Email,CreatedDate FROM Contact WHERE Email IN ({values})", w.emails)
    leads = soql_calls("SELECT Id,Email,CreatedDate FROM Lead WHERE IsConverted=false AND Email IN ({values})",
                       w.emails)
    return (SF_TOKEN_CALLS + names + contacts + leads
            + sf_write(len(w.emails), w.lead_csv_bytes, need_ids=True)
            + sf_write(w.registrations, w.member_csv_bytes, need_ids=False)
            + sf_write(w.engagement, w.engagement_csv_bytes, need_ids=False))


def sync_marketo_floor(w: SyncWork) -> int:
    """token + program ids (browse, 200 a page, or one byName per session, whichever is fewer) + one REST
    lead upsert per 300 people (activities need each lead's numeric id, no bulk call returns ids, and
    reading them back by email costs the same 300 a call) + program members per (program, status) group
    (REST 300 a call, or a bulk import: create + one status read per 10 MB) + custom object records (REST or
    bulk) + activity type read + activities (300 a call; there is no bulk import for activities) + the day's
    usage (the run checks its share of the daily quota before writing; Salesforce's share rides on its replies'
    Sforce-Limit-Info header, so the Salesforce floor has no such call)."""
    programs = min(len(w.sessions), ceil_div(w.programs_in_instance, MK_BROWSE_PAGE))
    leads = ceil_div(len(w.emails), MK_RECORDS)
    share = w.member_csv_bytes / max(1, w.registrations)
    members = sum(mk_write(n, int(n * share)) for n in w.member_groups.values())
    objects = mk_write(w.engagement, w.object_csv_bytes)
    activities = 1 + ceil_div(w.engagement, MK_RECORDS)
    return MK_TOKEN_CALLS + programs + leads + members + objects + activities + MK_USAGE_CALLS


# --- event new ---------------------------------------------------------------------------------------

def event_new_floor(sessions: list[str], statuses_per_campaign: int, programs_in_instance: int) -> tuple[int, int]:
    """(Salesforce, Marketo) floor for creating one campaign and one cloned, dated program per session.

    Salesforce: token + campaigns by name + Campaign creates (200 a call) + the new campaigns' own two
    statuses read back (Salesforce adds "Sent" and "Responded" to every new campaign; a new status needs a
    SortOrder none of them holds; 2,000 a page) + the template's statuses created (200 a call). "Sent" and
    "Responded" stay: a campaign member status in use, or the default, cannot be deleted. The remaining daily
    limit rides on every REST reply (``Sforce-Limit-Info``): no call.
    Marketo: token + browse programs (gives every name and the template's id) + the declared folder path
    resolved to its id (programs name their folder by id only: one folder read) + the day's usage (a run that
    writes states its share of the daily quota, and Marketo reports usage only through stats/usage.json) + one
    clone per session + one date update per session (the clone endpoint takes no dates; programs have no batch
    write).
    """
    s = len(sessions)
    sf = (SF_TOKEN_CALLS + soql_in_queries("SELECT Id,Name FROM Campaign WHERE Name IN ({values})", sessions)
          + ceil_div(s, SF_COLLECTION_RECORDS) + ceil_div(2 * s, SF_QUERY_PAGE)
          + ceil_div(statuses_per_campaign * s, SF_COLLECTION_RECORDS))
    mk = (MK_TOKEN_CALLS + ceil_div(programs_in_instance, MK_BROWSE_PAGE) + MK_FOLDER_PATH_CALLS
          + MK_USAGE_CALLS + 2 * s)
    return sf, mk


def event_reschedule_floor() -> tuple[int, int]:
    """(Salesforce, Marketo) floor for moving one existing session to another day.

    Salesforce: token + the campaign with its statuses (one query with a subquery) + one update.
    Marketo: token + the program by name (browse results carry no dates) + its folder's path (the program
    names its folder by id only, and the plan compares the declared path) + the day's usage (the run writes)
    + one update.
    """
    return SF_TOKEN_CALLS + 1 + 1, MK_TOKEN_CALLS + 1 + MK_FOLDER_PATH_CALLS + MK_USAGE_CALLS + 1


def event_again_floor(sessions: list[str], programs_in_instance: int) -> tuple[int, int]:
    """(Salesforce, Marketo) floor for re-running the same sessions: only reads, so no usage read.

    Salesforce: token + campaigns with their statuses (one query per URI-sized chunk of names).
    Marketo: token + the programs' folder path + one byName per program to compare its dates (browse has no
    dates; a byName also answers for a program that does not exist, so no browse is needed).
    """
    sf = SF_TOKEN_CALLS + soql_in_queries("SELECT Id,Name,(SELECT Id FROM CampaignMemberStatuses) FROM Campaign "
                                          "WHERE Name IN ({values})", sessions)
    mk = MK_TOKEN_CALLS + MK_FOLDER_PATH_CALLS + len(sessions)
    return sf, mk


# --- provisioning ------------------------------------------------------------------------------------

def load_manifests(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every YAML document of ``paths`` (``.j2`` rendered with plain Jinja: the shipped ones need no variables)."""
    docs = []
    for path in paths:
        text = path.read_text("utf-8")
        if path.name.endswith(".j2"):
            text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render()
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def salesforce_provision_floor(docs: list[dict[str, Any]]) -> dict[str, int]:
    """Floors for plan and apply of the Salesforce documents on an empty and a converged org.

    plan: token + readMetadata of the named objects (10 a call; custom fields come with their object) +
    readMetadata of the permission sets + one SOQL for the campaigns with their statuses (subquery); on a
    converged org one more SOQL for the API user's permission set assignments.
    apply on an empty org, writes only: CustomObjects, CustomFields (10 a call, any object), PermissionSets
    (10 a call, field permissions inline); Campaigns (200 a call); their auto-created statuses read back
    (2 per campaign, for free SortOrders) and the manifest's statuses created (200 a call); the API user's id (one query) and the
    assignments (200 a call). A converged org needs no writes.
    """
    sf = [d["spec"] for d in docs if d.get("kind") == "Salesforce"]
    objects = [o for s in sf for o in s.get("objects", [])]
    standard = {"Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity", "Case", "User"}
    custom = [o for o in objects if o["name"] not in standard]
    fields = sum(len(o.get("fields", [])) for o in objects)
    campaigns = [c for s in sf for c in s.get("campaignMemberStatuses", [])]
    statuses = sum(len(c["statuses"]) for c in campaigns)
    permsets = [s["access"]["permissionSet"] for s in sf if s.get("access", {}).get("permissionSet")]
    plan = SF_TOKEN_CALLS + ceil_div(len(objects), SF_METADATA_COMPONENTS) + ceil_div(len(permsets),
                                                                                    SF_METADATA_COMPONENTS) + 1
    apply = (ceil_div(len(custom), SF_METADATA_COMPONENTS) + ceil_div(fields, SF_METADATA_COMPONENTS)
             + ceil_div(len(permsets), SF_METADATA_COMPONENTS) + ceil_div(len(campaigns), SF_COLLECTION_RECORDS)
             + ceil_div(2 * len(campaigns), SF_QUERY_PAGE) + ceil_div(statuses, SF_COLLECTION_RECORDS)
             + (1 + ceil_div(len(permsets), SF_COLLECTION_RECORDS) if permsets else 0))
    return {"plan empty": plan, "apply empty (writes)": apply,
            "plan converged": plan + (1 if permsets else 0), "apply converged (writes)": 0}


def marketo_provision_floor(docs: list[dict[str, Any]]) -> dict[str, int]:
    """Floors for plan and apply of the Marketo documents on an empty instance and a converged one.

    plan: token + channels (one page of 200) + programs (one browse page of 200 for all names) + folders
    (one browse of folders gives every path) + custom object types (all names in one schema.json call) +
    activity types (one list) — each only when the documents name one — + the day's usage when the plan has
    changes (it states their share of the daily quota; Salesforce's rides on its REST replies' headers).
    apply on an empty instance, writes only: the folders of each program path that do not exist, one create
    each; one create per program; per custom object type: create, addField (all fields in one call), approve;
    per activity type: create, attributes (all in one call), approve.
    """
    mk = [d["spec"] for d in docs if d.get("kind") == "Marketo"]
    programs = [p for s in mk for p in s.get("programs", [])]
    objects = [o for s in mk for o in s.get("customObjects", [])]
    activities = [a for s in mk for a in s.get("customActivities", [])]
    folders = {tuple(p["folder"].split("/")[: i + 1]) for p in programs for i in range(len(p["folder"].split("/")))}
    reads = (MK_TOKEN_CALLS + (1 if any(s.get("channels") for s in mk) else 0) + (1 if programs else 0)
             + (1 if folders else 0) + (1 if objects else 0) + (1 if activities else 0))
    # On an empty instance only Marketo's top-level folders exist: every deeper level is created.
    apply = sum(1 for f in folders if len(f) > 1) + len(programs) + 3 * len(objects) + 3 * len(activities)
    usage = MK_USAGE_CALLS if apply else 0  # a plan with changes states its share of the day's quota
    return {"plan empty": reads + usage, "apply empty (writes)": apply, "plan converged": reads,
            "apply converged (writes)": 0}


def in_groups(items: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    groups: dict[tuple[str, str], int] = {}
    for key in items:
        groups[key] = groups.get(key, 0) + 1
    return groups


def ratio(calls: int, floor: int) -> str:
    return f"{calls / floor:.2f}" if floor else ("1.00" if calls == 0 else "inf")

