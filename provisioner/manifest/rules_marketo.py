"""Marketo rules beyond the schema: endpoint form, channel steps, program channels, type limits."""

from __future__ import annotations

import re
from typing import Any

from ..redaction import strip_userinfo
from .dates import date_range_problems
from .fieldtypes import DEDUPE_TYPES
from .findings import Finding
from .vendor_rules import finding
from .yaml_loader import Document

MAX_CUSTOM_OBJECT_TYPES = 10
MAX_CUSTOM_OBJECT_FIELDS = 50
MAX_DEDUPE_FIELDS = 3
MAX_ACTIVITY_TYPES = 10
MAX_SECONDARY_ATTRIBUTES = 20
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
API_NAME_RULE = "marketo.api-name"


def _suggest(name: str) -> str:
    """``'Entry ID'`` → ``entryID``: the name with what Marketo refuses taken out (a hint, not a rule)."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    joined = (words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])) if words \
        else "name"
    return joined if joined[:1].isalpha() else "x" + joined

#: Which channel programType each program type needs.
PROGRAM_CHANNEL_TYPES = {"Event": "event", "Event with Webinar": "webinar", "Default": "program",
                         "Engagement": "nurture", "Email": "email"}

#: The root of every program's folder path (rule ``marketo.program-folder``): a system folder every instance has.
PROGRAM_ROOT = "Marketing Activities"

def folder_parts(path: str) -> list[str]:
    """A Marketo folder path's names, as a manifest means them: ``/Marketing Activities/ Events /`` →
    ``["Marketing Activities", "Events"]`` (slashes at the ends and blanks around names do not count)."""
    return [part.strip() for part in path.strip().strip("/").split("/") if part.strip()]


#: Program types whose start and end dates the asset API sets.
DATED_PROGRAM_TYPES = ("Event", "Event with Webinar")


def endpoint_problem(endpoint: str) -> tuple[str, str] | None:
    """The classic setup mistake: the REST endpoint pasted with its /rest or /identity path; or a
    user:password@ in it (never repeated in the message)."""
    endpoint, had_userinfo = strip_userinfo(endpoint)
    if had_userinfo:
        return ("the Marketo endpoint carries a user name and password (user:password@host)",
                f"remove them: '{endpoint.rstrip('/')}'; the API user's credentials come from MARKETO_CLIENT_ID "
                "and MARKETO_CLIENT_SECRET, never from a manifest")
    trimmed = endpoint.rstrip("/")
    for suffix in ("/rest", "/identity"):
        if trimmed.endswith(suffix):
            return (f"the Marketo endpoint ends in '{suffix}'",
                    f"use the domain only: '{trimmed[: -len(suffix)]}' (Admin > Web Services shows the REST endpoint;"
                    f" leave out '{suffix}')")
    if not trimmed.startswith("https://"):
        return "the Marketo endpoint must start with https://", "copy it from Admin > Web Services"
    return None


def check_marketo(doc: Document) -> list[Finding]:
    """Findings that one Marketo document can show on its own."""
    findings: list[Finding] = []
    spec = doc.data["spec"]

    def add(path: tuple[Any, ...], message: str, hint: str = "", key: bool = False) -> None:
        findings.append(Finding(doc.location(path, key=key), message, hint, "marketo"))

    def rule(path: tuple[Any, ...], rule_id: str, message: str, hint: str = "", key: bool = False) -> None:
        findings.append(finding(doc.location(path, key=key), rule_id, message, hint))

    def api_name(path: tuple[Any, ...], what: str, name: str) -> None:
        if not _API_NAME.match(name):
            rule(path, API_NAME_RULE, f"{what} '{name}' must start with a letter and use only letters, digits and "
                 "underscores", f"for example '{_suggest(name)}'")

    if spec.get("endpoint"):
        problem = endpoint_problem(spec["endpoint"])
        if problem:
            add(("spec", "endpoint"), *problem)
    for i, channel in enumerate(spec.get("channels", [])):
        seen: set[str] = set()
        for j, status in enumerate(channel["statuses"]):
            if status["name"].lower() in seen:
                add(("spec", "channels", i, "statuses", j, "name"),
                    f"status '{status['name']}' is listed twice on channel '{channel['name']}'")
            seen.add(status["name"].lower())
            if status["name"] == "Not in Program":
                add(("spec", "channels", i, "statuses", j, "name"),
                    "'Not in Program' is Marketo's built-in step 0", "leave it out; it is always there")
    for i, obj in enumerate(spec.get("customObjects", [])):
        base = ("spec", "customObjects", i)
        api_name(base + ("apiName",), "custom object apiName", obj["apiName"])
        names = [f["name"] for f in obj["fields"]]
        if len(names) > MAX_CUSTOM_OBJECT_FIELDS:
            add(base + ("fields",), f"custom object '{obj['apiName']}' has {len(names)} fields; Marketo allows "
                f"{MAX_CUSTOM_OBJECT_FIELDS}", key=True)
        for j, f in enumerate(obj["fields"]):
            api_name(base + ("fields", j, "name"), "custom object field name", f["name"])
            if names.index(f["name"]) != j:
                add(base + ("fields", j, "name"), f"field '{f['name']}' is declared twice")
            if f["dataType"] == "link" and "relatedTo" not in f:
                add(base + ("fields", j), f"link field '{f['name']}' needs relatedTo",
                    "for example relatedTo: {object: lead, field: email}")
            if f["dataType"] != "link" and "relatedTo" in f:
                add(base + ("fields", j, "relatedTo"), "relatedTo applies to link fields only", key=True)
        dedupe = obj["dedupeFields"]
        if not 1 <= len(dedupe) <= MAX_DEDUPE_FIELDS:
            rule(base + ("dedupeFields",), "marketo.dedupe-type", f"custom object '{obj['apiName']}' has "
                 f"{len(dedupe)} dedupe fields; Marketo needs 1 to {MAX_DEDUPE_FIELDS}", key=True)
        types = {f["name"]: f["dataType"] for f in obj["fields"]}
        for j, name in enumerate(dedupe):
            if name not in names:
                add(base + ("dedupeFields", j), f"dedupe field '{name}' is not a field of '{obj['apiName']}'",
                    "list names from 'fields'")
            elif types[name] not in DEDUPE_TYPES:
                rule(base + ("dedupeFields", j), "marketo.dedupe-type", f"dedupe field '{name}' is of type "
                     f"{types[name]}; Marketo dedupes custom objects on {', '.join(DEDUPE_TYPES)} fields only",
                     "pick another field, or change its type")
    for i, program in enumerate(spec.get("programs", [])):
        parts = folder_parts(program["folder"])
        if not parts or parts[0] != PROGRAM_ROOT:
            example = f"{PROGRAM_ROOT}/{parts[-1] if parts else 'Events'}"
            rule(("spec", "programs", i, "folder"), "marketo.program-folder",
                 f"program '{program['name']}' is in folder '{program['folder']}', outside {PROGRAM_ROOT}",
                 f"start the path with '{PROGRAM_ROOT}/', for example '{example}'; leave out any workspace name")
        for key, message, hint in date_range_problems(program):
            add(("spec", "programs", i, key), message, hint)
        dated = [k for k in ("startDate", "endDate") if k in program]
        if dated and program["type"] not in DATED_PROGRAM_TYPES:
            add(("spec", "programs", i, dated[0]), f"program '{program['name']}' is of type {program['type']}; "
                f"Marketo keeps start and end dates on {' and '.join(DATED_PROGRAM_TYPES)} programs only",
                "remove the dates, or use an event program", key=True)
    for i, act in enumerate(spec.get("customActivities", [])):
        base = ("spec", "customActivities", i)
        api_name(base + ("apiName",), "custom activity apiName", act["apiName"])
        api_name(base + ("primaryAttribute", "apiName"), "primary attribute apiName", act["primaryAttribute"]["apiName"])
        for j, a in enumerate(act.get("attributes", [])):
            api_name(base + ("attributes", j, "apiName"), "attribute apiName", a["apiName"])
        attributes = act.get("attributes", [])
        if len(attributes) > MAX_SECONDARY_ATTRIBUTES:
            add(base + ("attributes",), f"custom activity '{act['apiName']}' has {len(attributes)} secondary "
                f"attributes; Marketo allows {MAX_SECONDARY_ATTRIBUTES}",
                "keep the most useful ones, or move the rest to a custom object", key=True)
        names = [act["primaryAttribute"]["apiName"]] + [a["apiName"] for a in attributes]
        for j, a in enumerate(attributes):
            if names.index(a["apiName"]) != j + 1:
                add(base + ("attributes", j, "apiName"), f"attribute '{a['apiName']}' is declared twice"
                    + (" (it is the primary attribute)" if a["apiName"] == names[0] else ""))
    return findings


def check_marketo_set(docs: list[Document]) -> list[Finding]:
    """Findings across all Marketo documents: instance-wide limits and program channels."""
    findings: list[Finding] = []
    channels = {c["name"]: c for d in docs for c in d.data["spec"].get("channels", [])}
    for kind, limit, what in (("customObjects", MAX_CUSTOM_OBJECT_TYPES, "custom object types"),
                              ("customActivities", MAX_ACTIVITY_TYPES, "custom activity types")):
        entries = [(d, i) for d in docs for i, _ in enumerate(d.data["spec"].get(kind, []))]
        if len(entries) > limit:
            d, i = entries[limit]
            findings.append(finding(d.location(("spec", kind, i)), "marketo.type-limits", f"{len(entries)} {what} "
                                    f"declared; a Marketo instance holds at most {limit}", "remove or merge some"))
        seen: dict[str, Any] = {}
        for d, i in entries:
            name = d.data["spec"][kind][i]["apiName"]
            if name in seen:
                findings.append(Finding(d.location(("spec", kind, i, "apiName")), f"'{name}' is declared twice",
                                        f"the first is at {seen[name]}", "marketo"))
            seen.setdefault(name, d.location(("spec", kind, i)))
    programs = {p["name"]: p for d in docs for p in d.data["spec"].get("programs", [])}
    for d in docs:
        for i, program in enumerate(d.data["spec"].get("programs", [])):
            source = programs.get(program.get("cloneFrom", ""))
            if source is not None and (source["type"], source["channel"]) != (program["type"], program["channel"]):
                findings.append(Finding(d.location(("spec", "programs", i, "cloneFrom")),
                                        f"program '{program['name']}' is cloned from '{source['name']}' "
                                        f"({source['type']}, channel {source['channel']}) but declares "
                                        f"{program['type']}, channel {program['channel']}",
                                        "a clone keeps its source's type and channel: declare the same ones",
                                        "marketo"))
            channel = channels.get(program["channel"])
            path = ("spec", "programs", i, "channel")
            if channel is None:
                findings.append(Finding(d.location(path), f"program '{program['name']}' uses channel "
                                        f"'{program['channel']}', which no Marketo manifest declares",
                                        "declare the channel under spec.channels (it is verified, never written)",
                                        "marketo"))
            elif PROGRAM_CHANNEL_TYPES[program["type"]] != channel["programType"]:
                findings.append(Finding(d.location(path), f"channel '{channel['name']}' is for {channel['programType']}"
                                        f" programs; program '{program['name']}' is of type {program['type']}",
                                        f"use a channel of type {PROGRAM_CHANNEL_TYPES[program['type']]}", "marketo"))
    return findings
