"""Load and validate manifests: files → documents → schema → rules → typed model."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .findings import Finding, ManifestError
from .gc_pause import collector_paused
from .model import ManifestSet, build
from .rules_crossref import check_crossrefs
from .rules_marketo import check_marketo, check_marketo_set
from .rules_salesforce import STANDARD_OBJECTS, check_salesforce, check_salesforce_set, custom_object_names
from .schema_check import check_document
from .sources import discover, read_documents
from .yaml_loader import Document


@dataclass
class LoadResult:
    """Findings from every stage, the documents that passed the schema, and the model built from them."""

    findings: list[Finding] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @functools.cached_property
    def manifests(self) -> ManifestSet:
        """The typed model, built when first asked for: `validate` needs none, and `event new` builds
        one of the sessions alone (building every document's model too was a third of validating them)."""
        return build(self.documents)


@collector_paused()
def load(paths: Iterable[str | os.PathLike[str]], variables: Mapping[str, Any] | None = None) -> LoadResult:
    """Read, check and build everything under ``paths``; every finding is collected, not just the first."""
    files, findings = discover(paths)
    documents: list[Document] = []
    for path in files:
        try:
            documents.extend(read_documents(path, variables))
        except ManifestError as exc:
            findings.extend(exc.findings)
    return check_documents(documents, [str(p) for p in files], findings)


def check_documents(documents: list[Document], files: list[str] | None = None,
                    findings: list[Finding] | None = None) -> LoadResult:
    """Schema, rules and cross-references over documents already parsed (from files, or rendered
    in memory by `event new`), then the model of those that passed the schema."""
    result = LoadResult(findings=list(findings or []), files=list(files or []))
    valid: list[Document] = []
    for doc in documents:
        schema_findings = check_document(doc)
        result.findings.extend(schema_findings)
        if not schema_findings:
            valid.append(doc)
    sf_docs = [d for d in valid if d.data["kind"] == "Salesforce"]
    mk_docs = [d for d in valid if d.data["kind"] == "Marketo"]
    known_objects = STANDARD_OBJECTS | custom_object_names(sf_docs)  # once: per document it was O(N²)
    for doc in sf_docs:
        result.findings.extend(check_salesforce(doc, known_objects))
    result.findings.extend(check_salesforce_set(sf_docs))
    for doc in mk_docs:
        result.findings.extend(check_marketo(doc))
    result.findings.extend(check_marketo_set(mk_docs))
    result.findings.extend(check_crossrefs(valid))
    result.findings.sort(key=lambda f: (f.location.file, f.location.line, f.location.column))
    result.documents = valid
    return result
