"""`provisioner init [DIR]`: scaffold a repository for one integration, from the files this package ships.

What it writes: the chosen seed manifests (Kaltura and/or Livestorm × Salesforce and/or Marketo),
the manifest schema beside them (their editor modeline points at it), a sample ``sessions.csv``
for ``event new``, ``.env.example``, a pre-commit configuration, the tested GitHub Actions
workflow and a ``.gitignore``. It never overwrites: a file already there is skipped and named, so
running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from ..shipped import shipped
from .common import echo_json, format_option

#: Which shipped manifests each (source, target) needs; a Sync manifest needs every target it names.
MANIFESTS = {
    ("kaltura", "salesforce"): ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2"),
    ("kaltura", "marketo"): ("kaltura-marketo.yaml",),
    ("livestorm", "salesforce"): ("livestorm-salesforce.yaml",),
}
SYNC = {"kaltura": ("kaltura-sync.yaml", {"salesforce", "marketo"}),
        "livestorm": ("livestorm-sync.yaml", {"salesforce"})}
SOURCES = ("kaltura", "livestorm")
TARGETS = ("salesforce", "marketo")

ENV_EXAMPLE = {
    "salesforce": """\
# Salesforce: one of these (the first complete one wins). Copy this file to .env; never commit .env.
# The Salesforce CLI's login (`sf org login web --alias my-org`):
SF_TARGET_ORG=
# or its auth URL, for CI (`sf org display --target-org my-org --verbose --json` → sfdxAuthUrl):
SFDX_AUTH_URL=
# or a connected app: SF_LOGIN_URL=https://yourcompany.my.salesforce.com with SF_CLIENT_ID and SF_CLIENT_SECRET
# (client credentials), or SF_CONSUMER_KEY + SF_PRIVATE_KEY_FILE + SF_USERNAME (JWT bearer).
""",
    "marketo": """\
# Marketo: Admin > Web Services > REST API endpoint (without /rest), and Admin > LaunchPoint > View Details.
MARKETO_ENDPOINT=
MARKETO_CLIENT_ID=
MARKETO_CLIENT_SECRET=
""",
}

PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): `pip install pre-commit && pre-commit install`.
# The hook validates every manifest of the repository (no network) when a YAML file is staged, and
# ignores other YAML (workflows, docker-compose). It runs the provisioner installed beside pre-commit.
repos:
  - repo: local
    hooks:
      - id: provisioner-validate
        name: provisioner validate
        entry: provisioner-pre-commit
        language: system
        files: \\.(ya?ml|ya?ml\\.j2)$
        pass_filenames: false
        require_serial: true
"""

GITIGNORE = """\
# Connection secrets and what provisioner writes locally.
.env
plan.json
plan.txt
plan.md
.provisioner/
"""


@dataclass(frozen=True)
class ScaffoldFile:
    """One file ``init`` writes: where (relative to DIR) and what."""

    path: str
    content: str


def scaffold(sources: tuple[str, ...], targets: tuple[str, ...]) -> tuple[list[ScaffoldFile], list[str]]:
    """The files for these sources and targets, and notes on what was left out and why."""
    files: list[ScaffoldFile] = []
    notes: list[str] = []
    for source in sources:
        shipped = [t for t in targets if (source, t) in MANIFESTS]
        if not shipped:
            raise click.UsageError(f"no {source.title()} → {' or '.join(t.title() for t in targets)} manifests ship "
                                   f"yet; choose --target {' --target '.join(t for s, t in MANIFESTS if s == source)}")
        notes += [f"no {source.title()} → {t.title()} manifests ship yet" for t in targets if t not in shipped]
        for target in shipped:
            files += [_shipped(f"manifests/{name}") for name in MANIFESTS[(source, target)]]
        sync, needs = SYNC[source]
        if needs <= set(targets):
            files.append(_shipped(f"manifests/{sync}"))
        else:
            notes.append(f"manifests/{sync} left out: it syncs into {' and '.join(sorted(needs))}")
    files.append(_shipped("schemas/manifest.schema.json"))
    files.append(_shipped("examples/sessions.csv", "sessions.csv"))
    files.append(ScaffoldFile(".env.example", "\n".join(ENV_EXAMPLE[t] for t in TARGETS if t in targets)))
    files.append(ScaffoldFile(".pre-commit-config.yaml", PRE_COMMIT))
    files.append(_shipped("examples/ci/github-actions.yml", ".github/workflows/provisioner.yml"))
    files.append(ScaffoldFile(".gitignore", GITIGNORE))
    return files, notes


def _shipped(source: str, target: str | None = None) -> ScaffoldFile:
    return ScaffoldFile(target or source, shipped(source).read_text("utf-8"))


def write_scaffold(directory: Path, files: list[ScaffoldFile]) -> tuple[list[str], list[str]]:
    """Write each file that does not exist yet; return (created, skipped) paths. Nothing is overwritten."""
    created, skipped = [], []
    for item in files:
        target = directory / item.path
        if target.exists() or target.is_symlink():
            skipped.append(item.path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8", newline="\n") as handle:  # "x": never replaces a file
            handle.write(item.content)
        created.append(item.path)
    return created, skipped


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--source", "sources", type=click.Choice(SOURCES), multiple=True,
              help="Event platform (repeatable; default kaltura).")
@click.option("--target", "targets", type=click.Choice(TARGETS), multiple=True,
              help="CRM to set up (repeatable; default every target the sources ship manifests for).")
@format_option
def init(directory: str, sources: tuple[str, ...], targets: tuple[str, ...], fmt: str) -> None:
    """Scaffold an integration repository in DIRECTORY (default: here): manifests, sessions.csv,
    .env.example, a pre-commit configuration and a GitHub Actions workflow.

    Files that exist are skipped and listed, never overwritten: running it again is safe.

    \b
    Exit codes: 0 done (also when everything was already there), 64 usage error.
    """
    sources = sources or ("kaltura",)
    targets = targets or tuple(t for t in TARGETS if any((s, t) in MANIFESTS for s in sources))
    files, notes = scaffold(tuple(dict.fromkeys(sources)), tuple(dict.fromkeys(targets)))
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise click.UsageError(f"{directory} is a file, not a folder")
    created, skipped = write_scaffold(root, files)
    if fmt == "json":
        echo_json("init", {"directory": str(root), "created": [str(p) for p in created],
                           "skipped": [str(p) for p in skipped], "notes": list(notes)})
        return
    for path in created:
        click.echo(f"created  {root / path}")
    for path in skipped:
        click.echo(f"skipped  {root / path} (already there; left as it is)")
    for note in notes:
        click.echo(f"note: {note}")
    click.echo(f"\n{len(created)} file(s) created, {len(skipped)} skipped. Next, in {root}:\n"
               "  cp .env.example .env            # fill in one Salesforce login (and Marketo's)\n"
               "  provisioner validate manifests/\n"
               "  provisioner plan manifests/\n"
               "Then push: .github/workflows/provisioner.yml says which secrets and environment to set.")
