"""``provisioner drift``: what differs in the orgs from the manifests."""

from __future__ import annotations

import sys

import click

from .common import (EXIT_CHANGES, EXIT_OK, color, echo_json, format_option, make_plan, open_session,
                     target_org_option, var_option, vars_file_option)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@format_option
@var_option
@vars_file_option
@target_org_option
def drift(paths: tuple[str, ...], fmt: str, var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Report what differs in the orgs from the manifests (changed by hand, deleted, never applied).

    \b
    Exit codes: 0 no drift, 2 drift, 1 error.
    """
    from ..plan import plan_to_json, render_change

    session = open_session(paths, var_pairs, vars_file)
    the_plan = make_plan(session)
    drifted = [c for c in the_plan.changes if not c.is_no_op]
    if fmt == "json":
        echo_json("drift", {"drift": bool(drifted), "resource_changes": plan_to_json(the_plan)["resource_changes"]})
    elif not drifted:
        click.echo("No drift: the orgs match the manifests.")
    else:
        click.echo(f"Drift: {len(drifted)} resource(s) differ from the manifests.\n")
        for change in drifted:
            click.echo(render_change(change, color=color()))
        click.echo("Run `provisioner plan` to see what apply would do about it.")
    sys.exit(EXIT_CHANGES if drifted else EXIT_OK)
