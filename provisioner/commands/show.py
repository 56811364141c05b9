"""``provisioner show``: render a saved plan file as text, JSON or a Markdown pull-request comment."""

from __future__ import annotations

import click

from .common import color, compact_option, echo_json, fail


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@compact_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="Output format; json is for scripts, markdown for a pull-request comment.")
def show(plan_file: str, compact: bool, fmt: str) -> None:
    """Render a saved plan file (from `plan --out`) as text, JSON or a Markdown pull-request comment."""
    from ..plan import PlanError, plan_to_json, read_plan, render_plan

    try:
        saved = read_plan(plan_file)
    except PlanError as exc:
        fail(str(exc))
    if fmt == "markdown":
        from ..plan.render_markdown import render_markdown

        click.echo(render_markdown(saved), nl=False)
    elif fmt == "json":
        echo_json("show", plan_to_json(saved))
    else:
        click.echo(f"Plan made {saved.created_at} by {saved.tool} from: {', '.join(saved.manifests)}"
                   + (f" (targets: {', '.join(saved.targets)})" if saved.targets else "") + "\n")
        click.echo(render_plan(saved, color=color(), compact=compact), nl=False)
