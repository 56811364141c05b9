"""Sync manifest rules that need no other document: idempotency and mapped columns exist (in the platform's
sample header when ``spec.source.headers`` gives one), and a sync that creates Leads or Contacts has
fallbacks for their required fields."""

from __future__ import annotations

from typing import Any

from ..schemas import event_data_columns
from .findings import Finding
from .yaml_loader import Document

#: Required standard fields a created record needs a value for (Salesforce describe: nillable false).
REQUIRED_ON_CREATE = {"Lead": ("LastName", "Company"), "Contact": ("LastName",)}


def check_sync_columns(doc: Document) -> list[Finding]:
    """Findings for ``spec.idempotency``, ``fieldMappings`` columns and ``matching.fallbacks``."""
    spec = doc.data["spec"]
    findings: list[Finding] = []

    def add(path: tuple[Any, ...], message: str, hint: str) -> None:
        findings.append(Finding(doc.location(path), message, hint, "sync"))

    headers: dict[str, list[str]] = spec.get("source", {}).get("headers") or {}
    mapped: dict[tuple[Any, ...], str] = {}
    for target in ("salesforce", "marketo"):
        for obj, mapping in ((spec.get(target) or {}).get("fieldMappings") or {}).items():
            for field, column in mapping.items():
                mapped[(target, "fieldMappings", obj, field)] = column
    known = {c.lower() for c in event_data_columns()} | {c.lower() for c in mapped.values()}
    for kind, columns in (spec.get("idempotency") or {}).items():
        for i, column in enumerate(columns):
            if kind in headers and column.lower() not in {h.lower() for h in headers[kind]}:
                add(("spec", "idempotency", kind, i), f"idempotency column '{column}' is not in the {kind} header "
                    "of spec.source.headers", f"columns there: {', '.join(headers[kind])}")
            elif column.lower() not in known:
                add(("spec", "idempotency", kind, i), f"idempotency column '{column}' is neither an event-data "
                    "column nor a mapped one: every row would share one key for it",
                    f"known columns: {', '.join(sorted(known))}")
    every = {h.lower() for cols in headers.values() for h in cols}
    if every:
        for path, column in mapped.items():
            if column.lower() not in every:
                add(("spec", *path), f"mapped column '{column}' is in no header of spec.source.headers",
                    "fix the column name or the sample header")
    sf = spec.get("salesforce")
    if sf is not None:
        matching = sf.get("matching") or {}
        create_as = matching.get("createAs", "Lead")
        fallbacks = matching.get("fallbacks") or {}
        mapping = (sf.get("fieldMappings") or {}).get(create_as, {})
        for field in REQUIRED_ON_CREATE.get(create_as, ()):
            if field not in fallbacks:
                where = ("spec", "salesforce", "matching") if "matching" in sf else ("spec", "salesforce")
                source = f" (mapped from '{mapping[field]}', which may be empty)" if field in mapping else ""
                add(where, f"this sync creates {create_as}s but has no fallback for their required {field}{source}",
                    f"add matching.fallbacks.{field}, e.g. \"[not provided]\"")
    return findings
