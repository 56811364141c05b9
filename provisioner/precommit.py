"""`provisioner-pre-commit`: validate the manifests among the files pre-commit passes, and nothing else.

pre-commit hands a hook every staged file its ``files`` pattern matches; a repository's YAML also
holds GitHub workflows, docker-compose files and other tools' configuration, which are not
manifests and must not fail the commit. A file is a manifest when it matches an ``--include`` glob
(configured paths: strict, a typo in ``apiVersion`` is then a finding), or else when a line of it
starts with ``apiVersion: provisioner/``. Event templates (``templates/**`` by default, see
``--exclude``) need a session's variables and are checked by ``event new --plan-only`` instead.
A folder argument is searched for manifests the same way; the shipped hook passes none, so every
manifest of the repository is validated together (a Sync manifest's cross-references name other files).
"""

from __future__ import annotations

import argparse
import re
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Sequence

from .manifest.sources import is_manifest_file

API_VERSION_LINE = re.compile(rb"^[ \t]*-?[ \t]*apiVersion:[ \t]*[\"']?provisioner/", re.MULTILINE)
DEFAULT_EXCLUDES = ("templates/**",)
HEAD_BYTES = 64 * 1024  # apiVersion comes first in a document; a comment header may precede it


def _matches(path: Path, patterns: Sequence[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch(text, pattern) or fnmatch(text, f"*/{pattern}") for pattern in patterns)


def _declares_provisioner(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return bool(API_VERSION_LINE.search(handle.read(HEAD_BYTES)))
    except OSError:
        return False


def _candidates(paths: Sequence[str]) -> list[Path]:
    """Files as given, and the YAML files under each folder (hidden folders such as .github skipped)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_manifest_file(p)
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def select_manifests(paths: Sequence[str], include: Sequence[str] = (),
                     exclude: Sequence[str] = DEFAULT_EXCLUDES) -> list[Path]:
    """The manifest files among ``paths`` (files or folders), by configured globs or by content."""
    chosen: list[Path] = []
    for path in _candidates(paths):
        if _matches(path, exclude):
            continue
        if include:
            if _matches(path, include) and is_manifest_file(path):
                chosen.append(path)
        elif is_manifest_file(path) and _declares_provisioner(path):
            chosen.append(path)
    return chosen


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point of the pre-commit hook: select, then run `provisioner validate` on the selection."""
    parser = argparse.ArgumentParser(prog="provisioner-pre-commit", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders (default: the current folder)")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB",
                        help="validate exactly the YAML files matching GLOB (repeatable), e.g. 'manifests/**'")
    parser.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                        help=f"never validate files matching GLOB (repeatable; default: {', '.join(DEFAULT_EXCLUDES)})")
    args, passthrough = parser.parse_known_args(argv)
    selected = select_manifests(args.paths or ["."], args.include,
                                DEFAULT_EXCLUDES if args.exclude is None else args.exclude)
    if not selected:
        print(f"provisioner: no manifests among {len(args.paths)} path(s); nothing to validate.", file=sys.stderr)
        sys.exit(0)
    from .cli import cli

    cli.main(["validate", *passthrough, *map(str, selected)], prog_name="provisioner")


if __name__ == "__main__":  # pragma: no cover
    main()
