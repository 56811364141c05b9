"""The `provisioner` command line: parse, call, render, exit code. Nothing else lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def parse_vars(pairs: tuple[str, ...], vars_file: str | None) -> dict[str, Any]:
    """Template variables from a YAML vars file, then ``--var k=v`` pairs (which win)."""
    variables: dict[str, Any] = {}
    if vars_file:
        import yaml

        try:
            loaded = yaml.safe_load(Path(vars_file).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise click.BadParameter(f"{vars_file}: {exc}", param_hint="--vars-file") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(f"{vars_file}: must be a mapping of names to values", param_hint="--vars-file")
        variables.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--var")
        variables[key.strip()] = value
    return variables


_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                              show_default=True, help="Output format; json is for CI and scripts.")
_var_option = click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
                           help="Template variable for .j2 manifests (repeatable).")
_vars_file_option = click.option("--vars-file", type=click.Path(dir_okay=False), default=None,
                                 help="YAML file of template variables for .j2 manifests.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provisioner")
def cli() -> None:
    """Salesforce and Marketo setup for event integrations, as reviewed YAML.

    \b
    Exit codes (every command):
      0  success (validate: valid; plan with --detailed-exitcode: no changes)
      1  findings or errors (invalid manifests, failed API calls)
      2  usage error (plan --detailed-exitcode: changes present)
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@_format_option
@_var_option
@_vars_file_option
def validate(paths: tuple[str, ...], fmt: str, var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Check manifests without touching any org: schema, naming and size rules, cross-references.

    PATHS are files or folders. Every finding is printed as file:line:column: message.

    \b
    Exit codes: 0 valid, 1 findings, 2 usage error.
    """
    from .manifest import load

    result = load(paths, parse_vars(var_pairs, vars_file))
    if fmt == "json":
        click.echo(json.dumps({
            "valid": result.ok,
            "files": result.files,
            "documents": len(result.manifests.documents),
            "findings": [f.to_json() for f in result.findings],
        }, indent=2))
    else:
        for finding in result.findings:
            click.echo(finding.render(), err=False)
        n_docs = len(result.manifests.documents)
        if result.ok:
            click.echo(f"OK: {len(result.files)} file(s), {n_docs} manifest(s) valid.", err=True)
        else:
            click.echo(f"{len(result.findings)} finding(s) in {len(result.files)} file(s).", err=True)
    sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)


def main() -> None:
    """Console entry point: no tracebacks for users unless PROVISIONER_DEBUG is set."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # last resort: one line, no traceback, no secrets in our messages
        if os.environ.get("PROVISIONER_DEBUG"):
            raise
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: run again with PROVISIONER_DEBUG=1 for details, and report it if it looks like a bug",
                   err=True)
        sys.exit(EXIT_FINDINGS)


if __name__ == "__main__":  # pragma: no cover
    main()
