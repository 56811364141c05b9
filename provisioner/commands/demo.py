"""``provisioner demo``: the whole loop on a built-in sandbox, no credentials."""

from __future__ import annotations

import contextlib
import sys
import time

import click

from .common import EXIT_ERROR, EXIT_OK, echo_json, fail, format_option, interruption


@click.command()
@click.option("--manifests", "manifests_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of manifests to use (default: ./manifests).")
@click.option("--verbose", is_flag=True, help="Print the whole plan and every apply result.")
@format_option
def demo(manifests_dir: str | None, verbose: bool, fmt: str) -> None:
    """The whole loop on a built-in sandbox, no credentials: validate, plan, apply, plan again.

    With --format json the story goes to stderr and stdout gets the steps and the outcome.

    \b
    Exit codes: 0 every step did what it should; 1 a step failed.
    """
    from ..demo import DemoError, run_demo

    json_output = fmt == "json"
    steps: list[str] = []
    started = time.perf_counter()
    interruption.say("the demo's sandbox lived in this process and is gone with it",
                     "run `provisioner demo` again (each run starts afresh)")
    error = None
    try:
        with contextlib.redirect_stdout(sys.stderr) if json_output else contextlib.nullcontext():
            code = run_demo(click.echo, manifests_dir, verbose, steps)  # the story: on stderr with JSON
    except DemoError as exc:
        error, code = str(exc), EXIT_ERROR
    if json_output:
        echo_json("demo", {"ok": code == EXIT_OK, "steps": steps, "failed_step": steps[-1] if error else None,
                           "error": error, "seconds": round(time.perf_counter() - started, 1)})
    if error is not None:
        fail(f"demo: {error}")
    sys.exit(code)
