"""The `provisioner` command line: parse, call, render, exit code. Nothing else lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

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
      2  usage error; with plan --detailed-exitcode and drift: changes present
    """
    from .redaction import install_output_guard

    install_output_guard(os.environ)  # secrets never reach the terminal or a log, whatever prints them


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



# -- plan / apply / show / drift -------------------------------------------------------------

def _fail(message: str, hint: str = "") -> NoReturn:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(EXIT_FINDINGS)


def _session(paths: tuple[str, ...], var_pairs: tuple[str, ...], vars_file: str | None) -> Any:
    """Load, validate and connect; turn every expected failure into a one-line error (exit 1)."""
    from .providers.base import ConnectionError_
    from .workflow import InvalidManifests, WorkflowError, open_session

    try:
        return open_session(paths, parse_vars(var_pairs, vars_file))
    except InvalidManifests as exc:
        for finding in exc.findings:
            click.echo(finding.render(), err=True)
        _fail(str(exc))
    except (ConnectionError_, WorkflowError) as exc:
        _fail(str(exc))


def _make_plan(session: Any) -> Any:
    from .plan import PlanError
    from .providers.base import ConnectionError_

    try:
        return session.plan()
    except (PlanError, ConnectionError_) as exc:
        _fail(str(exc))


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write the plan as JSON to FILE for `apply FILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error.")
@_format_option
@_var_option
@_vars_file_option
def plan(paths: tuple[str, ...], out_file: str | None, detailed_exitcode: bool, fmt: str,
         var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Show what apply would change in the orgs, attribute by attribute.

    \b
    Symbols: + create, ~ update, - delete, -/+ replace, ! manual step.
    Exit codes: 0 success; 1 error; with --detailed-exitcode 0 no changes, 1 error, 2 changes.
    """
    from .plan import exit_code_for_plan, plan_to_json, render_plan, write_plan

    session = _session(paths, var_pairs, vars_file)
    the_plan = _make_plan(session)
    if out_file:
        write_plan(the_plan, out_file)
    if fmt == "json":
        click.echo(json.dumps(plan_to_json(the_plan), indent=2))
    else:
        click.echo(render_plan(the_plan, color=_color()), nl=False)
        if out_file:
            click.echo(f"\nSaved the plan to {out_file}. Apply exactly these changes with: provisioner apply {out_file}")
    sys.exit(exit_code_for_plan(the_plan, detailed_exitcode))


def _is_plan_file(paths: tuple[str, ...]) -> bool:
    if len(paths) != 1 or not os.path.isfile(paths[0]):
        return False
    try:
        with open(paths[0], "rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError:
        return False
    return head.startswith(b"{") and b"format_version" in head


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking (required when not on a terminal).")
@click.option("--allow-destroy", is_flag=True, help="Allow deletes and replacements the plan contains.")
@click.option("--strict", is_flag=True, help="Exit 1 when manual steps remain (e.g. a Marketo channel to edit).")
@_var_option
@_vars_file_option
def apply(paths: tuple[str, ...], auto_approve: bool, allow_destroy: bool, strict: bool,
          var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Make the orgs match the manifests: from a saved plan FILE, or from manifest PATHs.

    A saved plan is refused when the org changed since it was made. From manifests, the plan
    is shown and applied after you type 'yes' (or with --auto-approve).

    \b
    Exit codes: 0 applied (or nothing to do); 1 errors, refused plan, or (--strict) manual steps left.
    """
    from .plan import PlanError, read_plan

    saved = None
    if _is_plan_file(paths):
        try:
            saved = read_plan(paths[0])
        except PlanError as exc:
            _fail(str(exc))
        session = _session(tuple(saved.manifests), var_pairs, vars_file)
    else:
        session = _session(paths, var_pairs, vars_file)
    the_plan = _make_plan(session)
    if saved is None:
        confirm_and_apply(session, the_plan, auto_approve, allow_destroy, strict)
    _apply_and_exit(session, saved, the_plan, allow_destroy, strict)


def confirm_and_apply(session: Any, the_plan: Any, auto_approve: bool, allow_destroy: bool = False,
                      strict: bool = False) -> NoReturn:
    """Show the plan, ask (unless ``auto_approve``), re-read the orgs, apply, report and exit.

    Shared by `apply PATHS` and `event new`, so both ask, refuse and exit the same way.
    """
    from .plan import render_plan

    click.echo(render_plan(the_plan, color=_color()), nl=False)
    if the_plan.summary.add + the_plan.summary.change + the_plan.summary.destroy == 0:
        sys.exit(EXIT_FINDINGS if strict and the_plan.summary.manual else EXIT_OK)
    saved = the_plan
    if not auto_approve:
        if not sys.stdin.isatty():
            _fail("apply needs confirmation", "run it in a terminal, or pass --auto-approve (CI)")
        answer = click.prompt("\nDo you want to perform these actions? Only 'yes' will be accepted",
                              default="", show_default=False)
        if answer.strip() != "yes":
            click.echo("Apply cancelled.")
            sys.exit(EXIT_FINDINGS)
        session.reset_reads()
        the_plan = _make_plan(session)  # the org may have changed while you read the plan
    _apply_and_exit(session, saved, the_plan, allow_destroy, strict)


def _apply_and_exit(session: Any, saved: Any, the_plan: Any, allow_destroy: bool, strict: bool) -> NoReturn:
    from .plan import PlanError, apply_saved_plan, render_apply_report, render_result
    from .providers.base import ConnectionError_

    click.echo("")
    try:
        report = apply_saved_plan(saved, the_plan, session.kinds, session.connections, allow_destroy=allow_destroy,
                                  on_result=lambda r: click.echo(render_result(r, color=_color())))
    except (PlanError, ConnectionError_) as exc:
        _fail(str(exc))
    click.echo(render_apply_report(report, color=_color(), include_results=False), nl=False)
    failed = not report.ok or (strict and report.has_manual)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@cli.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@_format_option
def show(plan_file: str, fmt: str) -> None:
    """Render a saved plan file (from `plan --out`) as text or JSON."""
    from .plan import PlanError, plan_to_json, read_plan, render_plan

    try:
        saved = read_plan(plan_file)
    except PlanError as exc:
        _fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(plan_to_json(saved), indent=2))
    else:
        click.echo(f"Plan made {saved.created_at} by {saved.tool} from: {', '.join(saved.manifests)}\n")
        click.echo(render_plan(saved, color=_color()), nl=False)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@_format_option
@_var_option
@_vars_file_option
def drift(paths: tuple[str, ...], fmt: str, var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Report what differs in the orgs from the manifests (changed by hand, deleted, never applied).

    \b
    Exit codes: 0 no drift, 2 drift, 1 error.
    """
    from .plan import plan_to_json, render_change

    session = _session(paths, var_pairs, vars_file)
    the_plan = _make_plan(session)
    drifted = [c for c in the_plan.changes if not c.is_no_op]
    if fmt == "json":
        click.echo(json.dumps({"drift": bool(drifted), "resource_changes": plan_to_json(the_plan)["resource_changes"]},
                              indent=2))
    elif not drifted:
        click.echo("No drift: the orgs match the manifests.")
    else:
        click.echo(f"Drift: {len(drifted)} resource(s) differ from the manifests.\n")
        for change in drifted:
            click.echo(render_change(change, color=_color()))
        click.echo("Run `provisioner plan` to see what apply would do about it.")
    sys.exit(2 if drifted else EXIT_OK)


@cli.command()
@click.option("--manifests", "manifests_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of manifests to use (default: ./manifests).")
@click.option("--verbose", is_flag=True, help="Print the whole plan and every apply result.")
def demo(manifests_dir: str | None, verbose: bool) -> None:
    """The whole loop on a built-in sandbox, no credentials: validate, plan, apply, plan again.

    \b
    Exit codes: 0 every step did what it should; 1 a step failed.
    """
    from .demo import DemoError, run_demo

    try:
        sys.exit(run_demo(click.echo, manifests_dir, verbose))
    except DemoError as exc:
        _fail(f"demo: {exc}")


# -- sandbox ----------------------------------------------------------------------------------

def _channels_to_seed(path: str) -> list[dict[str, Any]]:
    """Channels from a manifest (its Marketo channels) or from a JSON/YAML list in the API's shape."""
    from .manifest import load
    from .sandbox.seed import channels_from_manifests

    result = load([path])
    if result.ok and result.manifests.marketo:
        return channels_from_manifests(result.manifests)
    from .sandbox.marketo.config import ChannelFileError, load_channels

    try:
        return load_channels(path)
    except (ChannelFileError, ValueError, OSError) as exc:
        raise click.BadParameter(str(exc), param_hint="--marketo-channels") from None


@cli.group()
def sandbox() -> None:
    """The built-in emulated Salesforce org and Marketo instance (no credentials, local HTTPS)."""


@sandbox.command("serve")
@click.option("--salesforce-port", type=int, default=0, show_default=True, help="Port for the org (0: any free port).")
@click.option("--marketo-port", type=int, default=0, show_default=True, help="Port for Marketo (0: any free port).")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Added to every API call.")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Share of calls that fail (5xx, dropped connections, limits).")
@click.option("--seed", type=int, default=None, help="Makes latency-free fault sequences reproducible.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), default=None,
              help="Keep the org and instance in FILE between runs.")
@click.option("--env-file", type=click.Path(dir_okay=False), default=None,
              help="Write the SF_* and MARKETO_* variables for this sandbox to FILE.")
@click.option("--marketo-channels", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Seed Marketo channels (JSON/YAML channel list, or manifests whose channels to seed).")
def sandbox_serve(salesforce_port: int, marketo_port: int, latency_ms: float, fault_rate: float, seed: int | None,
                  state_file: str | None, env_file: str | None, marketo_channels: str | None) -> None:
    """Serve the sandbox until interrupted; `set -a; . ENV_FILE; set +a` points every command at it."""
    import signal
    import threading

    from .sandbox.runtime import Sandbox

    if not 0.0 <= fault_rate <= 1.0:
        raise click.BadParameter("must be between 0 and 1", param_hint="--fault-rate")
    channels = _channels_to_seed(marketo_channels) if marketo_channels else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(salesforce_port=salesforce_port, marketo_port=marketo_port, latency_ms=latency_ms,
                 fault_rate=fault_rate, seed=seed, state_file=state_file, marketo_channels=channels) as box:
        click.echo(f"Salesforce org:   {box.salesforce_url}")
        if getattr(box, "marketo_url", None):
            click.echo(f"Marketo instance: {box.marketo_url}")
        click.echo(f"CA certificate:   {box.ca_bundle}")
        if env_file:
            box.write_env_file(env_file)
            click.echo(f"Wrote {env_file}: run `set -a; . {env_file}; set +a` to use this sandbox.")
        click.echo("Serving; press Ctrl-C to stop.", err=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    click.echo("Sandbox stopped" + (f"; state saved to {state_file}" if state_file else "") + ".", err=True)


from .export.command import export as _export_command
cli.add_command(_export_command)
from .sync.command import sync as _sync_command
cli.add_command(_sync_command)
from .events.command import event as _event_command
cli.add_command(_event_command)


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
