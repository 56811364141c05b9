"""Find manifest files and read them into YAML documents (rendering `.j2` files first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from .findings import Finding, Location, ManifestError
from .templating import render_template
from .yaml_loader import Document, load_documents

#: A manifest larger than this is refused before it is read.
MAX_FILE_BYTES = 5 * 1024 * 1024
MANIFEST_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")


def is_manifest_file(path: Path) -> bool:
    return path.name.endswith(MANIFEST_SUFFIXES)


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Finding]]:
    """Expand files and folders into manifest files (sorted, no duplicates) and findings for bad paths."""
    files: list[Path] = []
    findings: list[Finding] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_manifest_file(p)
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                findings.append(Finding(Location(str(path)), "folder has no manifests",
                                        "manifests end in .yaml, .yml, .yaml.j2 or .yml.j2"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            findings.append(Finding(Location(str(path)), "no such file or folder", "check the path"))
    return list(dict.fromkeys(files)), findings  # no duplicates, order kept (a list scan was O(N²))


def read_documents(path: Path, variables: Mapping[str, Any] | None = None) -> list[Document]:
    """Read one manifest file into documents; raises ManifestError (with location) when it can't."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ManifestError([Finding(Location(name), f"cannot read file: {exc.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise ManifestError([Finding(Location(name), f"file is {size / 1024 / 1024:.1f} MB; manifests are limited to 5 MB",
                                     "split it into several files, or use a .j2 loop instead of repeated blocks")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError([Finding(Location(name), f"cannot read file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError([Finding(Location(name, line, 1), "file is not UTF-8 text",
                                     "save the file as UTF-8")]) from None
    if name.endswith(".j2"):
        text = render_template(text, name, variables or {})
    documents = list(load_documents(text, name))
    if not documents:
        raise ManifestError([Finding(Location(name, 1, 1), "file is empty: it has no manifest documents",
                                     "a manifest starts with 'apiVersion: provisioner/v1' and a 'kind'")])
    return documents
