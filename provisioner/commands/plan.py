"""``provisioner plan``: what apply would change in the orgs, attribute by attribute."""

from __future__ import annotations

import sys

import click

from .common import (color, compact_option, echo_json, format_option, make_plan, open_session, target_option,
                     target_org_option, var_option, vars_file_option)
from .forecast import forecast, render_forecast


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write the plan as JSON to FILE for `apply FILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error.")
@target_option
@compact_option
@format_option
@var_option
@vars_file_option
@target_org_option
def plan(paths: tuple[str, ...], out_file: str | None, detailed_exitcode: bool, targets: tuple[str, ...],
         compact: bool, fmt: str, var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Show what apply would change in the orgs: a summary per resource kind, then each change.

    \b
    Symbols: + create, ~ update, - delete, -/+ replace, ! manual step.
    With changes, ends with the API calls apply of this plan will use per org and their share of what
    remains of the org's daily limit (Salesforce /limits; Marketo stats/usage.json against
    MARKETO_DAILY_QUOTA, default 50,000), and says when apply would refuse.

    \b
    Exit codes: 0 success; 1 error; with --detailed-exitcode 0 no changes, 1 error, 2 changes.
    """
    from ..plan import exit_code_for_plan, plan_to_json, render_plan, write_plan

    session = open_session(paths, var_pairs, vars_file)
    the_plan = make_plan(session, targets)
    forecasts = forecast(session, the_plan)
    if out_file:
        write_plan(the_plan, out_file)
    if fmt == "json":
        echo_json("plan", {**plan_to_json(the_plan), "forecast": {f.org: f.as_json() for f in forecasts}})
    else:
        click.echo(render_plan(the_plan, color=color(), compact=compact) + render_forecast(forecasts), nl=False)
        if out_file:
            click.echo(f"\nSaved the plan to {out_file}. Apply exactly these changes with: provisioner apply {out_file}")
    sys.exit(exit_code_for_plan(the_plan, detailed_exitcode))
