"""Preflight against the org: before the first write, compare the describe of every object the sync writes
with the fields it fills, so a sync the org would reject wholesale stops before it creates anything.

Two findings refuse the run, each naming object and field: a field the org requires on create (not
nillable, createable, not defaulted) that the sync does not fill — e.g. another integration's manifest
made ``CampaignMember.external_id__c`` required — and a field the sync fills that the org does not have
or that the API user cannot write (field-level security).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Writes:
    """What the sync writes to one object: fields it fills on create, and fields it may set on update only."""

    sobject: str
    fills: set[str] = field(default_factory=set)
    updates: set[str] = field(default_factory=set)
    why: str = ""  # which rows write it, for the message ("registration rows")


def problems(writes: Writes, describe: dict[str, Any] | None) -> list[str]:
    """What stops the org from taking these writes (empty when nothing does); ``describe`` is the object's
    REST describe, ``None`` when the org has no such object."""
    obj = writes.sobject
    if describe is None:
        return [f"the org has no object {obj} (or the API user cannot see it), which {writes.why} are written to: "
                "apply the Salesforce manifest first"]
    fields = {f["name"].lower(): f for f in describe.get("fields") or []}
    out: list[str] = []
    for name in sorted(writes.fills | writes.updates):
        f = fields.get(name.lower())
        if f is None:
            out.append(f"the org has no field {obj}.{name} (or the API user cannot see it), which the sync fills "
                       f"for {writes.why}: apply the manifest that defines it, or grant its field-level security")
        elif name in writes.fills and not f.get("createable"):
            out.append(f"{obj}.{name} is not writable by the API user (field-level security), and the sync fills it "
                       f"for {writes.why}")
        elif name in writes.updates and not f.get("updateable"):
            out.append(f"{obj}.{name} is not updateable by the API user (field-level security), and the sync sets it "
                       f"for {writes.why}")
    filled = {n.lower() for n in writes.fills}
    for f in describe.get("fields") or [] if writes.fills else []:  # only objects the sync creates records of
        required = f.get("createable") and not f.get("nillable") and not f.get("defaultedOnCreate") \
            and f.get("type") != "boolean"
        if required and f["name"].lower() not in filled:
            out.append(f"the org requires {obj}.{f['name']} on every new record, and the Sync manifest does not fill "
                       f"it for {writes.why} (another integration's manifest may have made it required: make it "
                       "optional there, or map a column to it)")
    return out
