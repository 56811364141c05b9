"""`provisioner event new`: stamp out per-event campaigns and programs from a template, then plan and apply
them like any manifest (the same plan, confirmation, exit codes)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from ..events.render import TemplateNotFound, find_template
from ..events.sessions import SessionRow, SessionsFileError, make_row, read_sessions
from ..events.stamp import EventBatch, EventError, prepare
from .common import (EXIT_ERROR, EXIT_OK, apply_and_exit, color, compact_option, confirm, echo_json, fail,
                     fail_connection, format_option, make_plan, parse_vars, target_org_option)
from .forecast import forecast, ignore_limits_option, render_forecast


@click.group()
def event() -> None:
    """Per-event campaigns and programs from the event templates in templates/."""


@event.command("new")
@click.argument("template")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
              help="A session variable (name, start, end, type, or any the template uses); repeatable.")
@click.option("--vars-file", type=click.Path(dir_okay=False), default=None, help="YAML file of variables.")
@click.option("--sessions", "sessions_file", type=click.Path(dir_okay=False), default=None,
              help="CSV, one row per session: name, start, [end], [type live|on-demand], other variables.")
@click.option("--manifests", "setup_dir", default="manifests", show_default=True, type=click.Path(),
              help="The setup manifests the template copies from (template campaign, template program).")
@click.option("--include-past", is_flag=True, help="Also create live sessions whose start is in the past.")
@click.option("--partial", is_flag=True, help="Go on with the good rows when some are bad (default: none go on).")
@click.option("--plan-only", is_flag=True, help="Show the plan and stop.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Write the rendered manifests here for review (one file per session) instead of applying.")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (required when not on a terminal).")
@click.option("--detailed-exitcode", is_flag=True, help="With --plan-only: exit 0 no changes, 2 changes, 1 error.")
@ignore_limits_option
@click.option("--quiet", is_flag=True, help="No progress bar (it is shown only on a terminal anyway).")
@compact_option
@format_option
@target_org_option
def new(template: str, var_pairs: tuple[str, ...], vars_file: str | None, sessions_file: str | None,
        setup_dir: str, include_past: bool, partial: bool, plan_only: bool, out_dir: str | None,
        auto_approve: bool, detailed_exitcode: bool, ignore_limits: bool, quiet: bool, compact: bool, fmt: str) -> None:
    """Create the campaign and program of one event (--var) or of every session in a CSV (--sessions).

    TEMPLATE is a folder of *.yaml.j2 manifests (or a name under templates/, e.g. kaltura-event).
    Idempotent by name: sessions that exist are updated only where they differ (a new date),
    so running it twice creates nothing new. Live sessions that already started are skipped.
    On a terminal, apply shows a progress bar with changes per second and the time left.

    \b
    Exit codes: 0 done (or nothing to do); 1 bad rows (even with --partial), errors, or cancelled;
    with --plan-only --detailed-exitcode: 0 no changes, 2 changes.
    """
    json_output = fmt == "json"
    variables = parse_vars(var_pairs, vars_file)
    try:
        found = find_template(template)
        rows = _rows(sessions_file, variables)
        batch = prepare(found, [setup_dir], rows, datetime.now(timezone.utc), include_past, partial)
    except (TemplateNotFound, SessionsFileError) as exc:
        fail(str(exc))
    except EventError as exc:
        for finding in exc.findings:
            click.echo(finding.render(), err=True)
        fail(str(exc))
    _report(batch, sessions_file, partial, err=json_output)
    facts = {"template": batch.template.name, "sessions": _sessions_json(batch)}
    if batch.bad and not partial:
        if json_output:
            echo_json("event new", {**facts, "ok": False, "applied": False})
        fail(f"{len(batch.bad)} of {len(batch.rows)} session(s) are bad; nothing was created",
             "fix the rows above, or pass --partial to create the good ones and report the rest")
    code_for_bad = EXIT_ERROR if batch.bad else EXIT_OK
    if not batch.good or out_dir:
        written = _write(batch, Path(out_dir), setup_dir, err=json_output) if batch.good and out_dir else []
        if not batch.good:
            click.echo("No sessions to create.", err=json_output)
        if json_output:
            echo_json("event new", {**facts, "ok": not batch.bad, "applied": False, "written": written})
        sys.exit(code_for_bad)
    # Imported only on the way to the orgs: --out-dir and bad rows need none of them (the planner and
    # its diff library are a third of the command's start-up).
    from ..plan import exit_code_for_plan, plan_to_json, render_plan
    from ..progress import apply_progress
    from ..providers.base import ConnectionError_
    from ..workflow import WorkflowError, connect_session

    try:
        session = connect_session(batch.manifests, [str(f) for f in found.files] + [sessions_file or "--var"])
    except ConnectionError_ as exc:
        fail_connection(exc)
    except WorkflowError as exc:
        fail(str(exc))
    the_plan = make_plan(session)
    if plan_only:
        code = exit_code_for_plan(the_plan, detailed_exitcode)
        code = EXIT_ERROR if batch.bad and code == EXIT_OK else code
        forecasts = forecast(session, the_plan)
        if json_output:
            echo_json("event new", {**facts, "ok": code != EXIT_ERROR, "applied": False,
                                    "plan": {**plan_to_json(the_plan),
                                             "forecast": {f.org: f.as_json() for f in forecasts}}})
        else:
            click.echo(render_plan(the_plan, color=color(), compact=compact) + render_forecast(forecasts), nl=False)
        sys.exit(code)
    fresh = confirm(session, the_plan, auto_approve, json_output=json_output, compact=compact)
    label = f"applying {len(batch.good)} session{'' if len(batch.good) == 1 else 's'}"
    with apply_progress(fresh, enabled=not (quiet or json_output), label=label) as advance:
        apply_and_exit(session, the_plan, fresh, False, False, fmt, command="event new", extra=facts,
                       failed=bool(batch.bad), on_result=advance, ignore_limits=ignore_limits)


def _sessions_json(batch: EventBatch) -> dict[str, Any]:
    """Counts and the bad rows' errors (where and what; session names are not personal data)."""
    return {"total": len(batch.rows), "to_plan": len(batch.good), "past": len(batch.past), "bad": len(batch.bad),
            "bad_rows": [{"where": r.where, "errors": [e.render() for e in r.errors]} for r in batch.bad]}


def _rows(sessions_file: str | None, variables: dict[str, Any]) -> list[SessionRow]:
    """The sessions: every row of the CSV (``--var`` values fill missing columns), or one from ``--var``."""
    if sessions_file:
        return read_sessions(sessions_file, variables)
    missing = [k for k in ("name", "start") if not variables.get(k)]
    if missing:
        raise SessionsFileError(f"give {' and '.join('--var ' + k + '=…' for k in missing)} for one event, "
                                "or --sessions FILE.csv for many")
    return [make_row("--var", variables)]


def _report(batch: EventBatch, sessions_file: str | None, partial: bool, err: bool = False) -> None:
    """What the rows came to: counts, skipped past sessions, bad rows (on stderr with JSON output)."""
    source = sessions_file or "--var"
    click.echo(f"Event template {batch.template.name}: {len(batch.rows)} session(s) from {source}; "
               f"{len(batch.good)} to plan, {len(batch.past)} past, {len(batch.bad)} bad.", err=err)
    if batch.past:
        click.echo("Skipped, already started (pass --include-past to create them anyway):", err=err)
        for row in batch.past:
            click.echo(f"  {row.where}: \"{row.name}\" started {row.variables.get('start')}", err=err)
    if batch.bad:
        click.echo("Bad rows" + (" (left out; the rest go on):" if partial else ":"), err=True)
        for row in batch.bad:
            for error in row.errors:
                click.echo(f"  {error.render()}", err=True)
    click.echo("", err=err)


def _write(batch: EventBatch, out_dir: Path, setup_dir: str, err: bool = False) -> list[str]:
    """Write the rendered manifests, one file per session, say how to plan them, return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = batch.rendered_files()
    for name, text in files.items():
        (out_dir / name).write_text(text, "utf-8")
    click.echo(f"Wrote {len(files)} file(s) to {out_dir}. Review them in a pull request, then:", err=err)
    click.echo(f"  provisioner plan {setup_dir} {out_dir} --out plan.json && provisioner apply plan.json", err=err)
    return [str(out_dir / name) for name in files]
