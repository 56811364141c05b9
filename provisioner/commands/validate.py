"""``provisioner validate``: check manifests without touching any org."""

from __future__ import annotations

import sys

import click

from .common import EXIT_ERROR, EXIT_OK, echo_json, format_option, parse_vars, var_option, vars_file_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@format_option
@var_option
@vars_file_option
def validate(paths: tuple[str, ...], fmt: str, var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Check manifests without touching any org: schema, naming and size rules, cross-references.

    PATHS are files or folders. Every finding is printed as file:line:column: message.

    \b
    Exit codes: 0 valid, 1 findings, 64 usage error.
    """
    from ..manifest import load

    result = load(paths, parse_vars(var_pairs, vars_file))
    if fmt == "json":
        echo_json("validate", {
            "valid": result.ok,
            "files": result.files,
            "documents": len(result.documents),
            "findings": [f.to_json() for f in result.findings],
        })
    else:
        for finding in result.findings:
            click.echo(finding.render(), err=False)
        n_docs = len(result.documents)
        if result.ok:
            click.echo(f"OK: {len(result.files)} file(s), {n_docs} manifest(s) valid.", err=True)
        else:
            click.echo(f"{len(result.findings)} finding(s) in {len(result.files)} file(s).", err=True)
    sys.exit(EXIT_OK if result.ok else EXIT_ERROR)
