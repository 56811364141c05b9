"""Event templates: a folder of Jinja manifests (``*.yaml.j2``), rendered once per session into
ordinary manifest documents, so the same validation, plan, apply and plan file apply to them.

Templates run in the sandboxed Jinja environment with StrictUndefined (see
:mod:`provisioner.manifest.templating`). Besides the session's own variables they get the setup
manifests' ``campaigns`` (with their statuses) and ``programs``, so a per-event campaign copies the
template campaign's statuses and flags instead of repeating them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..manifest.findings import ManifestError
from ..manifest.model import ManifestSet
from ..manifest.templating import render_template
from ..manifest.yaml_loader import Document, load_documents
from ..shipped import shipped
from .sessions import RowError, SessionRow

SUFFIX = ".yaml.j2"


class TemplateNotFound(Exception):
    """No template folder or file by that name."""


@dataclass(frozen=True)
class EventTemplate:
    """A named set of template files (one per target: Salesforce, Marketo)."""

    name: str
    files: tuple[Path, ...]

    def sources(self) -> list[tuple[Path, str]]:
        return [(f, f.read_text("utf-8")) for f in self.files]


def find_template(spec: str, search: list[Path] | None = None) -> EventTemplate:
    """``spec`` is a folder or ``.yaml.j2`` file, or the name of a folder under ./templates (or the shipped ones)."""
    given = Path(spec)
    candidates = [given] + [base / spec for base in (search or [Path("templates"),
                                                                shipped("templates")])]
    for path in candidates:
        if path.is_file() and path.name.endswith(".j2"):
            return EventTemplate(path.name.removesuffix(SUFFIX), (path,))
        if path.is_dir():
            files = tuple(sorted(p for p in path.iterdir() if p.name.endswith(SUFFIX)))
            if not files:
                raise TemplateNotFound(f"{path}: the template folder has no *{SUFFIX} files")
            return EventTemplate(path.name, files)
    known = sorted({p.name for base in candidates[1:] if base.parent.is_dir() for p in base.parent.iterdir()
                    if p.is_dir()})
    raise TemplateNotFound(f"no event template '{spec}'" + (f"; known: {', '.join(known)}" if known else "")
                           + " (give a template folder, a .yaml.j2 file, or a name under templates/)")


def slug(name: str) -> str:
    """A manifest-name-safe, unique-per-name id for a session (``kaltura-summit-day-1-3f2a1c``)."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:33].strip("-") or "session"
    return f"{base}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"


def setup_context(manifests: ManifestSet) -> dict[str, Any]:
    """What templates may copy from the setup manifests: campaigns (with statuses) and programs, by name."""
    campaigns = {
        c.campaign: {"name": c.campaign, "type": c.type, "description": c.description or "",
                     "statuses": [{"label": s.label, "default": s.default, "responded": s.responded}
                                  for s in c.statuses]}
        for m in manifests.salesforce for c in m.campaign_statuses}
    programs = {p.name: {"name": p.name, "type": p.type, "channel": p.channel, "folder": p.folder,
                         "description": p.description or ""}
                for m in manifests.marketo for p in m.programs}
    return {"campaigns": campaigns, "programs": programs}


def render_row(sources: list[tuple[Path, str]], row: SessionRow,
               context: dict[str, Any]) -> tuple[list[Document], list[str]]:
    """The documents one session renders to, and their text (for ``--out-dir``); a problem becomes a
    RowError on the row (and no documents). Each document's file is ``<row> (<template file>)``."""
    variables = dict(context, **row.variables, slug=slug(row.name), session=dict(row.variables))
    documents: list[Document] = []
    texts: list[str] = []
    for path, source in sources:
        label = doc_label(row, path)
        try:
            text = render_template(source, str(path), variables)
            documents.extend(load_documents(text, label))
            texts.append(text)
        except ManifestError as exc:
            for finding in exc.findings:
                where = row.where if finding.location.file == label else str(finding.location)
                row.errors.append(RowError(row.where, f"{finding.message}" + (
                    f" [{where}]" if where != row.where else ""), finding.hint))
            return [], []
    return documents, texts


def doc_label(row: SessionRow, path: Path) -> str:
    """The file name findings carry for a document rendered from ``path`` for ``row``."""
    return f"{row.where} ({path})"
