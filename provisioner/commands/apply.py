"""``provisioner apply``: make the orgs match the manifests, from a saved plan or from manifests."""

from __future__ import annotations

import os

import click

from .common import (apply_and_exit, compact_option, confirm, fail, format_option, make_plan, open_session,
                     target_option, target_org_option, var_option, vars_file_option)
from .forecast import ignore_limits_option


def is_plan_file(paths: tuple[str, ...]) -> bool:
    """True when the one path given is a plan file written by `plan --out` (JSON with format_version)."""
    if len(paths) != 1 or not os.path.isfile(paths[0]):
        return False
    try:
        with open(paths[0], "rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError:
        return False
    return head.startswith(b"{") and b"format_version" in head


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking (required when not on a terminal).")
@click.option("--allow-destroy", is_flag=True, help="Allow deletes and replacements the plan contains.")
@click.option("--strict", is_flag=True, help="Exit 1 when manual steps remain (e.g. a Marketo channel to edit).")
@ignore_limits_option
@target_option
@compact_option
@format_option
@var_option
@vars_file_option
@target_org_option
def apply(paths: tuple[str, ...], auto_approve: bool, allow_destroy: bool, strict: bool, ignore_limits: bool,
          targets: tuple[str, ...], compact: bool, fmt: str, var_pairs: tuple[str, ...], vars_file: str | None) -> None:
    """Make the orgs match the manifests: from a saved plan FILE, or from manifest PATHs.

    A saved plan is refused when the org changed since it was made. From manifests, the plan
    is shown and applied after you type 'yes' (or with --auto-approve).

    \b
    Exit codes: 0 applied (or nothing to do); 1 errors, refused plan, or (--strict) manual steps left;
    3 an org's daily API limit has fewer calls left than the apply needs (checked before writing).
    """
    from ..plan import PlanError, read_plan

    if is_plan_file(paths):
        if targets:
            raise click.BadParameter("a saved plan keeps the targets it was planned with; plan again with "
                                     "--target instead", param_hint="--target")
        try:
            saved = read_plan(paths[0])
        except PlanError as exc:
            fail(str(exc))
        session = open_session(tuple(saved.manifests), var_pairs, vars_file)
        fresh = make_plan(session, saved.targets)
        apply_and_exit(session, saved, fresh, allow_destroy, strict, fmt, ignore_limits=ignore_limits)
    session = open_session(paths, var_pairs, vars_file)
    the_plan = make_plan(session, targets)
    fresh = confirm(session, the_plan, auto_approve, json_output=fmt == "json", compact=compact)
    apply_and_exit(session, the_plan, fresh, allow_destroy, strict, fmt, ignore_limits=ignore_limits)

