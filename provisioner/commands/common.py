"""What every command shares: exit codes, user errors, options, the JSON envelope, and the steps
plan, apply, drift and event new take (connect, plan, confirm, apply).

A plain module: it imports neither :mod:`provisioner.cli` nor any command module, so commands
import it without cycles.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, TypeVar

import click

# -- exit codes: the one table (README's "Exit codes" table says the same) ------------------------

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_QUOTA = 3
EXIT_USAGE = 64
EXIT_INTERRUPTED = 130

EXIT_CODES = (
    (EXIT_OK, "success; nothing to change (plan/drift/event new with --detailed-exitcode)"),
    (EXIT_ERROR, "error: invalid manifests, failed API calls, refused or cancelled apply"),
    (EXIT_CHANGES, "changes present: plan/event new with --detailed-exitcode, drift found"),
    (EXIT_QUOTA, "stopped by a daily API limit; run the same command again later"),
    (EXIT_USAGE, "usage error: unknown option, bad option value, missing argument"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); a line says what was done and how to resume"),
)


def exit_codes_help() -> str:
    """The exit-code table as `provisioner --help` prints it (``\\b`` keeps click from rewrapping)."""
    return "\b\nExit codes (every command):\n" + "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES)


# -- errors ------------------------------------------------------------------------------------

class UserError(click.ClickException):
    """Something the user can fix: printed as ``error: …`` and ``hint: …``, exit 1, no traceback."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=True)


class NeedsConfirmation(UserError):
    """Apply needs a 'yes' but nobody can type it (no terminal, or JSON output)."""


class DailyLimitReached(UserError):
    """The org's or instance's daily API limit is used up (exit 3): nothing more until it resets."""

    exit_code = EXIT_QUOTA


def fail(message: str, hint: str = "") -> NoReturn:
    """Stop the command with a user error (exit 1)."""
    raise UserError(message, hint)


def _daily_limit_errors() -> tuple[type[Exception], ...]:
    """The providers' "daily API limit used up" errors (Salesforce REQUEST_LIMIT_EXCEEDED, Marketo 607)."""
    from ..limits import daily_limit_errors

    return daily_limit_errors()


def fail_connection(exc: Exception) -> NoReturn:
    """A provider's connection error as a user error; a daily API limit exits 3 instead of 1."""
    if isinstance(exc, _daily_limit_errors()):
        raise DailyLimitReached(str(exc), "run the same command again after the daily limit resets")
    fail(str(exc))


# -- what to say on Ctrl-C ---------------------------------------------------------------------

class _Interruption:
    """What the running command has done so far and how to resume, for the Ctrl-C line."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to what a command that changes nothing would say."""
        self.done = "nothing was changed"
        self.resume = "run the same command again"

    def say(self, done: str, resume: str | None = None) -> None:
        self.done = done
        if resume is not None:
            self.resume = resume

    def line(self) -> str:
        return f"Interrupted: {self.done}. To resume: {self.resume}."


interruption = _Interruption()  # the group resets it before each run


# -- options -----------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])

format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True,
                             help="Output format; json is for CI and scripts ({\"version\": 1, ...}, see README).")
var_option = click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
                          help="Template variable for .j2 manifests (repeatable).")
vars_file_option = click.option("--vars-file", type=click.Path(dir_okay=False), default=None,
                                help="YAML file of template variables for .j2 manifests.")

target_option = click.option(
    "--target", "targets", multiple=True, metavar="ADDRESS",
    help="Plan only this address (repeatable; globs like 'salesforce.field.CampaignMember.*', or a kind "
         "such as salesforce.field). What a targeted resource depends on is included, as in Terraform.")
compact_option = click.option(
    "--compact", is_flag=True,
    help="Shorter plan: created resources on one line, and only the changed attributes of replaced ones.")


def _set_target_org(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["SF_TARGET_ORG"] = value


def target_org_option(func: F) -> F:
    """``--target-org ALIAS`` (env SF_TARGET_ORG): sets SF_TARGET_ORG for this run, which the
    Salesforce connection reads to reuse the Salesforce CLI's stored login."""
    return click.option("--target-org", metavar="ALIAS", envvar="SF_TARGET_ORG", expose_value=False,
                        callback=_set_target_org,
                        help="Salesforce CLI alias or username whose stored login to use "
                             "(from `sf org login web`); default: $SF_TARGET_ORG.")(func)


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


# -- output ------------------------------------------------------------------------------------

JSON_VERSION = 1


def echo_json(command: str, payload: dict[str, Any]) -> None:
    """Print one JSON document: ``{"version": 1, "command": ..., **payload}`` (README: JSON output)."""
    click.echo(json.dumps({"version": JSON_VERSION, "command": command, **payload}, indent=2, default=str))


def color() -> bool:
    """ANSI colour on a terminal, unless NO_COLOR is set."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


# -- connect, plan, confirm, apply ---------------------------------------------------------------

def open_session(paths: tuple[str, ...] | list[str], var_pairs: tuple[str, ...], vars_file: str | None) -> Any:
    """Load, validate and connect; every expected failure becomes a user error."""
    from ..providers.base import ConnectionError_
    from ..workflow import InvalidManifests, WorkflowError
    from ..workflow import open_session as _open

    try:
        return _open(paths, parse_vars(var_pairs, vars_file))
    except InvalidManifests as exc:
        for finding in exc.findings:
            click.echo(finding.render(), err=True)
        fail(str(exc))
    except ConnectionError_ as exc:
        fail_connection(exc)
    except WorkflowError as exc:
        fail(str(exc))


def make_plan(session: Any, targets: tuple[str, ...] | list[str] = ()) -> Any:
    """The session's plan, limited to ``targets`` (and what they depend on) when any are given."""
    from ..plan import PlanError, TargetError, select_targets
    from ..providers.base import ConnectionError_

    if targets:
        try:
            session.desired = select_targets(session.desired, list(targets))
        except TargetError as exc:
            fail(str(exc), "run `provisioner plan` without --target to see every address; globs like "
                           "'salesforce.field.*' select a kind")
    try:
        plan = session.plan()
    except ConnectionError_ as exc:
        fail_connection(exc)
    except PlanError as exc:
        fail(str(exc))
    plan.targets = list(targets)
    return plan


def report_to_json(report: Any) -> dict[str, Any]:
    """An apply report as the ``apply`` and ``event new`` JSON shapes carry it."""
    return {
        "ok": report.ok,
        "summary": {"added": report.added, "changed": report.changed, "destroyed": report.destroyed,
                    "failed": len(report.failed) - len(report.skipped), "skipped": len(report.skipped),
                    "manual": len(report.manual)},
        "results": [{"address": r.address, "action": r.action, "ok": r.ok, "message": r.message}
                    for r in report.results],
        "manual": [{"address": c.address, "reason": c.reason, "instructions": list(c.instructions)}
                   for c in report.manual],
    }


def confirm(session: Any, the_plan: Any, auto_approve: bool, *, json_output: bool = False,
            compact: bool = False) -> Any:
    """Show the plan, ask for 'yes' (unless ``auto_approve``), and return the plan to apply.

    Returns None when there is nothing to apply. After a 'yes' the orgs are read again (they may
    have changed while you read), and that fresh plan is returned.
    """
    from ..plan import render_plan

    if not json_output:
        click.echo(render_plan(the_plan, color=color(), compact=compact), nl=False)
    if the_plan.summary.add + the_plan.summary.change + the_plan.summary.destroy == 0:
        return None
    if auto_approve:
        return the_plan
    if json_output:
        raise NeedsConfirmation("--format json cannot ask for confirmation",
                                "pass --auto-approve, or save the plan with `plan --out FILE` and apply FILE")
    if not sys.stdin.isatty():
        raise NeedsConfirmation("apply needs confirmation", "run it in a terminal, or pass --auto-approve (CI)")
    answer = click.prompt("\nDo you want to perform these actions? Only 'yes' will be accepted",
                          default="", show_default=False)
    if answer.strip() != "yes":
        click.echo("Apply cancelled.")
        sys.exit(EXIT_ERROR)
    session.reset_reads()
    return make_plan(session, the_plan.targets)  # the org may have changed while you read the plan


def run_apply(session: Any, saved: Any, the_plan: Any, allow_destroy: bool, *, stream: bool = True,
              on_result: Callable[[Any], None] | None = None) -> Any:
    """Apply ``the_plan`` (checked against ``saved``), printing results as they come when ``stream``.

    Keeps the Ctrl-C note current: how many changes were done, and that a new plan shows the rest.
    """
    from ..plan import PlanError, apply_saved_plan, render_result
    from ..providers.base import ConnectionError_

    todo = len([c for c in the_plan.changes if not (c.is_no_op or c.is_manual)])
    done = [0]
    resume = "run `provisioner plan` to see what is left, then apply again (done changes plan as no change)"
    interruption.say(f"apply started, 0 of {todo} change(s) done", resume)

    def each(result: Any) -> None:
        done[0] += 1
        interruption.say(f"apply stopped after {done[0]} of {todo} change(s)"
                         + (" (listed above)" if stream else ""), resume)
        if stream:
            click.echo(render_result(result, color=color()))
        if on_result is not None:
            on_result(result)

    if stream:
        click.echo("")
    try:
        return apply_saved_plan(saved, the_plan, session.kinds, session.connections, allow_destroy=allow_destroy,
                                on_result=each)
    except ConnectionError_ as exc:
        fail_connection(exc)
    except PlanError as exc:
        fail(str(exc))


def apply_exit_code(report: Any, strict: bool) -> int:
    """3 when a daily API limit stopped changes; 1 when anything else failed or (``strict``) manual
    steps remain; else 0."""
    limits = {cls.__name__ for cls in _daily_limit_errors()}
    if any(r.detail.get("error_type") in limits for r in report.failed):
        return EXIT_QUOTA
    return EXIT_ERROR if not report.ok or (strict and report.has_manual) else EXIT_OK


def apply_and_exit(session: Any, saved: Any, fresh: Any, allow_destroy: bool, strict: bool, fmt: str,
                   command: str = "apply", extra: dict[str, Any] | None = None, failed: bool = False,
                   on_result: Callable[[Any], None] | None = None, ignore_limits: bool = False) -> NoReturn:
    """Apply ``fresh`` (checked against ``saved``; None: nothing to apply), report as text or JSON, exit.

    ``failed`` forces exit 1 whatever the apply did (event new --partial with bad rows). Unless
    ``ignore_limits``, exits 3 before the first write when an org's daily API limit has too little left.
    """
    from ..plan import render_apply_report
    from .forecast import refuse_over_limit

    json_output = fmt == "json"
    if fresh is not None and not ignore_limits:
        refuse_over_limit(session, fresh)
    report = None if fresh is None else run_apply(session, saved, fresh, allow_destroy, stream=not json_output,
                                                  on_result=on_result)
    if report is None:
        manual = bool(saved.summary.manual)
        code = EXIT_ERROR if failed or (strict and manual) else EXIT_OK
        if json_output:
            echo_json(command, {**(extra or {}), "plan": saved.summary.as_dict(), "ok": code == EXIT_OK,
                                "applied": False, "summary": {}, "results": [], "manual": []})
        sys.exit(code)
    code = EXIT_ERROR if failed else apply_exit_code(report, strict)
    if json_output:
        echo_json(command, {**(extra or {}), "plan": saved.summary.as_dict(), "applied": True,
                            **report_to_json(report)})
    else:
        click.echo(render_apply_report(report, color=color(), include_results=False), nl=False)
    sys.exit(code)
