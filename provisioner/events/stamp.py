"""`event new` up to the plan: sessions → checked rows → rendered documents → one validated manifest set.

All-or-nothing by default: one bad row (an unparsable date, a name too long for Salesforce's 80 or
Marketo's 255 characters, an undefined template variable…) stops the run before any call, with
every bad row listed. With ``partial`` the good rows go on and the bad ones are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..manifest import load
from ..manifest.findings import Finding
from ..manifest.gc_pause import collector_paused
from ..manifest.model import ManifestSet, build
from ..manifest.validate import check_documents
from ..manifest.yaml_loader import Document
from .render import EventTemplate, doc_label, render_row, setup_context, slug
from .sessions import RowError, SessionRow


class EventError(Exception):
    """The run cannot start (invalid setup manifests, unusable template); the message says why."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


@dataclass
class EventBatch:
    """The sessions of one `event new` run, sorted into what goes on and what does not."""

    template: EventTemplate
    rows: list[SessionRow]
    past: list[SessionRow] = field(default_factory=list)
    documents: dict[str, list[Document]] = field(default_factory=dict)  # row.where → its documents
    texts: dict[str, list[str]] = field(default_factory=dict)
    manifests: ManifestSet = field(default_factory=ManifestSet)

    @property
    def bad(self) -> list[SessionRow]:
        return [r for r in self.rows if r.errors]

    @property
    def good(self) -> list[SessionRow]:
        return [r for r in self.rows if not r.errors and r.where in self.documents]

    def rendered_files(self) -> dict[str, str]:
        """``<slug>.yaml`` → the session's rendered manifests (for ``--out-dir`` and review)."""
        out: dict[str, str] = {}
        for row in self.good:
            head = (f"# Rendered by `provisioner event new {self.template.name}` for session {row.name!r}\n"
                    f"# ({row.where}). Plan it together with the setup manifests it copies from.\n")
            body = "\n---\n".join(t if t.endswith("\n") else t + "\n" for t in self.texts[row.where])
            out[f"{slug(row.name)}.yaml"] = head + body
        return out


@collector_paused()
def prepare(template: EventTemplate, setup_paths: list[str], rows: list[SessionRow], now: datetime,
            include_past: bool = False, partial: bool = False) -> EventBatch:
    """Render and validate every session; ``batch.manifests`` holds only the good sessions' manifests."""
    setup = load(setup_paths)
    if not setup.ok:
        raise EventError(f"the setup manifests in {', '.join(setup_paths)} have {len(setup.findings)} finding(s); "
                         "run `provisioner validate` on them first", setup.findings)
    batch = EventBatch(template, rows)
    context = setup_context(setup.manifests)
    try:
        sources = template.sources()
    except OSError as exc:
        raise EventError(f"cannot read the template: {exc}") from None
    for row in rows:
        if row.errors:
            continue
        if not include_past and row.is_past(now):
            batch.past.append(row)
            continue
        documents, texts = render_row(sources, row, context)
        if not row.errors:
            batch.documents[row.where], batch.texts[row.where] = documents, texts
    for _ in range(3):  # with partial, drop the bad rows and check the rest again (a duplicate pairs two rows)
        findings = _check(batch, setup.manifests.documents, sources_of=[p for p, _ in sources])
        if not findings or not partial or not batch.good:
            break
    if batch.bad and not partial:
        return batch
    batch.manifests = build([d for row in batch.good for d in batch.documents[row.where]])
    return batch


def _check(batch: EventBatch, setup_docs: list[Document], sources_of: list[Path]) -> list[Finding]:
    """Validate the good rows' documents with the setup's; findings become errors of their rows."""
    rows = batch.good
    by_label = {doc_label(row, path): row for row in rows for path in sources_of}
    result = check_documents(list(setup_docs) + [d for row in rows for d in batch.documents[row.where]])
    for finding in result.findings:
        row = by_label.get(finding.location.file)
        if row is None:
            raise EventError(f"the setup manifests do not validate together with the sessions: {finding.render()}")
        template_file = finding.location.file[len(row.where) + 2:-1]
        row.errors.append(RowError(row.where, f"{finding.message} (in {template_file} as rendered, line "
                                              f"{finding.location.line})", finding.hint))
    return result.findings
