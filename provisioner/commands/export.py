"""`provisioner export salesforce|marketo`: live setup → manifest YAML on stdout.

Thin: parse, connect, render, print, exit code. Provider code is imported inside the commands so
`provisioner validate` does not pay for it.
"""

from __future__ import annotations

import re

import click

from .common import echo_json, fail, fail_connection, format_option, target_org_option

NAME_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def _print(command: str, text: str, fmt: str) -> None:
    """The manifest as YAML (comments say what was left out), or as JSON: its documents, no comments."""
    if fmt != "json":
        click.echo(text, nl=False)
        return
    import yaml

    echo_json(command, {"documents": [d for d in yaml.safe_load_all(text) if d is not None]})


def _check_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """metadata.name must be what the schema accepts, or the export would not validate."""
    if not NAME_PATTERN.fullmatch(value) or len(value) > 50:
        raise click.BadParameter("lower-case letters, digits and dashes, at most 50 characters, e.g. my-org")
    return value


@click.group()
def export() -> None:
    """Read the live setup and print it as a manifest (YAML on stdout).

    For an org or instance set up by hand: the manifest, applied back, plans `No changes.`
    What provisioner does not manage is left out with a comment saying what.

    \b
    Exit codes: 0 exported; 1 a named object, campaign, permission set or program does not
    exist, or the connection failed; 64 usage error.
    """


@export.command("salesforce")
@click.option("--object", "objects", multiple=True, metavar="NAME",
              help="Object to export (repeatable): standard objects give their custom fields, custom objects "
                   "(with or without __c) their label, name field, sharing model and fields.")
@click.option("--campaign", "campaigns", multiple=True, metavar="NAME",
              help="Template campaign whose member statuses to export (repeatable).")
@click.option("--permission-set", "permission_sets", multiple=True, metavar="NAME",
              help="Permission set (API name) granting field-level security on exported fields (repeatable); "
                   "each gets its own manifest document with the objects it grants.")
@click.option("--name", "name", default="exported-salesforce", show_default=True, callback=_check_name,
              help="metadata.name of the manifest.")
@format_option
@target_org_option
def export_salesforce(objects: tuple[str, ...], campaigns: tuple[str, ...], permission_sets: tuple[str, ...],
                      name: str, fmt: str) -> None:
    """Export objects, campaign statuses and a permission set from the org in SF_* variables.

    Example: provisioner export salesforce --object CampaignMember --object UserSessionEngagement
    --campaign "Kaltura Event Template" --permission-set Kaltura_Events_Integration > org.yaml
    """
    from ..providers.base import ConnectionError_
    from ..providers.salesforce.connection import SalesforceConnection
    from ..workflow import read_env
    from ..export.errors import ExportError
    from ..export.salesforce import SalesforceExport

    request = SalesforceExport(list(objects), list(campaigns), list(permission_sets), name)
    try:
        conn = SalesforceConnection.from_env(read_env())
        text = request.render(conn)
    except ConnectionError_ as exc:
        fail_connection(exc)
    except ExportError as exc:
        fail(str(exc))
    _print("export salesforce", text, fmt)


@export.command("marketo")
@click.option("--channel", "channels", multiple=True, metavar="NAME", help="Channel and its statuses (repeatable).")
@click.option("--program", "programs", multiple=True, metavar="NAME",
              help="Program: type, channel, folder, description (repeatable).")
@click.option("--custom-object", "custom_objects", multiple=True, metavar="API_NAME",
              help="Custom object type and its fields (repeatable).")
@click.option("--activity", "activities", multiple=True, metavar="API_NAME",
              help="Custom activity type and its attributes (repeatable).")
@click.option("--name", "name", default="exported-marketo", show_default=True, callback=_check_name,
              help="metadata.name of the manifest.")
@format_option
def export_marketo(channels: tuple[str, ...], programs: tuple[str, ...], custom_objects: tuple[str, ...],
                   activities: tuple[str, ...], name: str, fmt: str) -> None:
    """Export channels, programs, custom objects and activities from the instance in MARKETO_* variables.

    Example: provisioner export marketo --channel "Kaltura Event" --program "Kaltura Event Template"
    --custom-object kalturaUserSessionEngagement --activity userSessionEngagement > marketo.yaml
    """
    from ..providers.base import ConnectionError_
    from ..providers.marketo.provider import PROVIDER
    from ..workflow import read_env
    from ..export.errors import ExportError
    from ..export.marketo import MarketoExport

    request = MarketoExport(list(channels), list(programs), list(custom_objects), list(activities), name)
    try:
        text = request.render(PROVIDER.connect(read_env()))
    except ConnectionError_ as exc:
        fail_connection(exc)
    except ExportError as exc:
        fail(str(exc))
    _print("export marketo", text, fmt)
