"""The `provisioner` command group: registers the commands of :mod:`provisioner.commands` and turns
usage errors, user errors and Ctrl-C into the documented exit codes. Nothing else lives here."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from . import __version__
from .commands.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_codes_help, interruption

#: The commands, each defined in the module of :mod:`provisioner.commands` of its name and imported when it
#: is used: `provisioner sync` or `sandbox serve` does not import the plan, event and export code (about a
#: third of a run's start-up, paid by every CLI subprocess the tests start).
COMMANDS = ("init", "validate", "plan", "apply", "show", "drift", "demo", "sandbox", "export", "sync", "event")


class ProvisionerGroup(click.Group):
    """A click group whose exit codes follow the table: usage errors 64 (click's default 2 would
    collide with "changes present"), Ctrl-C 130 with a line saying what was done and how to resume."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        interruption.reset()
        try:
            returned = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("", err=True)
            click.echo(interruption.line(), err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(returned if isinstance(returned, int) else EXIT_OK)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(f"{__package__}.commands.{cmd_name}")
            self.add_command(getattr(module, cmd_name))
        return super().get_command(ctx, cmd_name)


@click.group(cls=ProvisionerGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=exit_codes_help())
@click.version_option(__version__, prog_name="provisioner")
def cli() -> None:
    """Salesforce and Marketo setup for event integrations, as reviewed YAML.

    With --format json every command prints one JSON document {"version": 1, "command": ..., ...}
    (README: JSON output).
    """
    from .redaction import install_output_guard

    install_output_guard(os.environ)  # secrets never reach the terminal or a log, whatever prints them


def main() -> None:
    """Console entry point: no tracebacks for users unless PROVISIONER_DEBUG is set."""
    try:
        cli()
    except KeyboardInterrupt:  # before click took over (e.g. while importing)
        click.echo(interruption.line(), err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # last resort: one line, no traceback, no secrets in our messages
        if os.environ.get("PROVISIONER_DEBUG"):
            raise
        from .privacy import redact  # a client error may quote a query URL that carries e-mails
        click.echo(f"error: {type(exc).__name__}: {redact(str(exc))}", err=True)
        click.echo("hint: run again with PROVISIONER_DEBUG=1 for details, and report it if it looks like a bug",
                   err=True)
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":  # pragma: no cover
    main()
