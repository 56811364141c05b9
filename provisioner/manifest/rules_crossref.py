"""Cross-references between manifests: names unique, Sync targets and status maps resolvable."""

from __future__ import annotations

from typing import Any

from .findings import Finding
from .rules_sync import check_sync_columns
from .yaml_loader import Document


def check_crossrefs(docs: list[Document]) -> list[Finding]:
    """Findings that need every document: duplicate names, Sync references, status maps."""
    findings: list[Finding] = []
    by_name: dict[str, Document] = {}
    for doc in docs:
        name = doc.data["metadata"]["name"]
        if name in by_name:
            findings.append(Finding(doc.location(("metadata", "name")), f"manifest name '{name}' is used twice",
                                    f"the first is in {by_name[name].file}; names must be unique", "crossref"))
        by_name.setdefault(name, doc)
    campaigns: dict[str, tuple[Document, Any]] = {}
    for doc in docs:
        if doc.data["kind"] != "Salesforce":
            continue
        for i, c in enumerate(doc.data["spec"].get("campaignMemberStatuses", [])):
            if c["campaign"] in campaigns:
                findings.append(Finding(doc.location(("spec", "campaignMemberStatuses", i, "campaign")),
                                        f"campaign '{c['campaign']}' is declared twice", "keep one declaration",
                                        "crossref"))
            campaigns.setdefault(c["campaign"], (doc, c))
    for doc in docs:
        if doc.data["kind"] == "Sync":
            findings.extend(_check_sync(doc, by_name))
    return findings


def _target(doc: Document, spec: dict[str, Any], target: str, kind: str, by_name: dict[str, Document],
            findings: list[Finding]) -> Document | None:
    section = spec.get(target)
    if section is None:
        return None
    name = section.get("manifest")
    if name is None:
        candidates = [d for d in by_name.values() if d.data["kind"] == kind]
        if len(candidates) == 1:
            return candidates[0]
        findings.append(Finding(doc.location(("spec", target), key=True),
                                f"sync target '{target}' does not say which {kind} manifest it uses",
                                "add 'manifest: <metadata.name>'", "crossref"))
        return None
    ref = by_name.get(name)
    if ref is None or ref.data["kind"] != kind:
        known = sorted(n for n, d in by_name.items() if d.data["kind"] == kind)
        findings.append(Finding(doc.location(("spec", target, "manifest")),
                                f"no {kind} manifest named '{name}' is loaded",
                                f"known: {', '.join(known)}" if known else f"pass the {kind} manifest to the command too",
                                "crossref"))
        return None
    return ref


def _check_sync(doc: Document, by_name: dict[str, Document]) -> list[Finding]:
    findings: list[Finding] = check_sync_columns(doc)
    spec = doc.data["spec"]
    sf_doc = _target(doc, spec, "salesforce", "Salesforce", by_name, findings)
    mk_doc = _target(doc, spec, "marketo", "Marketo", by_name, findings)

    def add(path: tuple[Any, ...], message: str, hint: str = "") -> None:
        findings.append(Finding(doc.location(path), message, hint, "crossref"))

    sf_labels: list[str] | None = None
    if sf_doc is not None:
        sf = spec["salesforce"]
        campaigns = {c["campaign"]: c for c in sf_doc.data["spec"].get("campaignMemberStatuses", [])}
        name = sf.get("campaign") or (next(iter(campaigns)) if len(campaigns) == 1 else None)
        if name is None:
            add(("spec", "salesforce"), "sync does not say which campaign's statuses it writes",
                "add 'campaign: <template campaign name>'")
        elif name not in campaigns:
            add(("spec", "salesforce", "campaign"), f"campaign '{name}' is not declared in '{sf_doc.data['metadata']['name']}'",
                f"declared: {', '.join(campaigns) or 'none'}")
        else:
            sf_labels = [s["label"] for s in campaigns[name]["statuses"]]
        # Objects may be split over several Salesforce manifests (the polls object has its own file).
        sf_docs = [d for d in by_name.values() if d.data["kind"] == "Salesforce"]
        member_fields = {f["name"] for d in sf_docs for o in d.data["spec"].get("objects", [])
                         if o["name"] == "CampaignMember" for f in o.get("fields", [])}
        objects = {o["name"] for d in sf_docs for o in d.data["spec"].get("objects", [])}
        for key in ("campaignMemberExternalId", "replayStatusField"):
            field = sf.get(key)
            if field and field not in member_fields:
                add(("spec", "salesforce", key), f"CampaignMember field '{field}' is not declared in any Salesforce "
                    "manifest", "declare it under objects: CampaignMember")
        for key in ("engagementObject", "pollsObject"):
            if sf.get(key) and sf[key] not in objects:
                add(("spec", "salesforce", key), f"object '{sf[key]}' is not declared in any Salesforce manifest",
                    "declare it under spec.objects")
    mk_statuses: list[str] | None = None
    if mk_doc is not None:
        mk = spec["marketo"]
        mspec = mk_doc.data["spec"]
        channels = {c["name"]: c for c in mspec.get("channels", [])}
        programs = {p["name"]: p for p in mspec.get("programs", [])}
        channel = mk.get("channel")
        if channel is None and mk.get("program") in programs:
            channel = programs[mk["program"]]["channel"]
        if channel is None:
            add(("spec", "marketo"), "sync does not say which Marketo channel's statuses it writes",
                "add 'channel: <channel name>' or 'program: <program name>'")
        elif channel not in channels:
            add(("spec", "marketo", "channel"), f"channel '{channel}' is not declared in '{mk_doc.data['metadata']['name']}'",
                f"declared: {', '.join(channels) or 'none'}")
        else:
            mk_statuses = [s["name"] for s in channels[channel]["statuses"]]
        for key, section in (("program", "programs"), ("customObject", "customObjects"),
                             ("customActivity", "customActivities")):
            value = mk.get(key)
            names = {e.get("apiName") or e.get("name") for e in mspec.get(section, [])}
            if value and value not in names:
                add(("spec", "marketo", key), f"{key} '{value}' is not declared in '{mk_doc.data['metadata']['name']}'",
                    f"declared: {', '.join(sorted(names)) or 'none'}")
    seen: dict[str, int] = {}
    for i, row in enumerate(spec.get("statusMap", [])):
        key = row["source"].strip().casefold()  # sync matches source statuses case-insensitively
        if key in seen:
            add(("spec", "statusMap", i, "source"), f"source status '{row['source']}' is mapped twice "
                "(case does not matter)", f"the first is statusMap[{seen[key]}]")
        seen.setdefault(key, i)
        for target, labels, what in (("salesforce", sf_labels, "campaign"), ("marketo", mk_statuses, "channel")):
            value = row.get(target)
            if value is None:
                continue
            if spec.get(target) is None:
                add(("spec", "statusMap", i, target), f"status map writes to {target}, but the sync has no "
                    f"'{target}' target", f"add spec.{target} or remove the value")
            elif labels is not None and value not in labels:
                add(("spec", "statusMap", i, target), f"{target} status '{value}' (for source status "
                    f"'{row['source']}') does not exist on the {what}",
                    f"add it to the {what}, or map to one of: {', '.join(labels)}")
    return findings
