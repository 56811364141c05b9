"""``provisioner sync``: parse options, run the sync, render the summary, pick the exit code."""

from __future__ import annotations

import sys
import time

import click

EXIT_HELP = """Exit codes: 0 every row confirmed or in the rejects file; 1 error (manifests, connection,
retries exhausted, a write the org refuses wholesale, or any row still pending: run again to continue);
3 stopped by a daily API limit: run the same command again later to continue."""


@click.command("sync", epilog=EXIT_HELP)
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--manifest", "manifests", multiple=True, required=True, type=click.Path(exists=True),
              help="Manifest file or folder (the Sync manifest and the Salesforce/Marketo manifests it names).")
@click.option("--sync", "sync_name", default=None, help="Name of the Sync manifest when several are given.")
@click.option("--ledger", default=None, help="SQLite ledger (default .provisioner/<sync-name>.ledger.sqlite).")
@click.option("--rejects", default=None, help="Rejects CSV (default .provisioner/<sync-name>.rejects-<time>.csv).")
@click.option("--dry-run", is_flag=True, help="Match people and count what would be written; write nothing.")
@click.option("--only", type=click.Choice(["salesforce", "marketo"]), default=None, help="Sync one target only.")
@click.option("--bulk-threshold", type=click.IntRange(0), default=2000, show_default=True,
              help="Records of one object in one batch above which Salesforce Bulk API 2.0 and Marketo bulk "
                   "imports (leads, program members, custom objects) are used.")
@click.option("--batch-rows", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True,
              help="Rows read, matched and written together (memory grows with it: about 47 MB per 10,000 rows); "
                   "the ledger commits after every API call, so a crash resends at most the call in flight.")
def sync(data: tuple[str, ...], manifests: tuple[str, ...], sync_name: str | None, ledger: str | None,
         rejects: str | None, dry_run: bool, only: str | None, bulk_threshold: int, batch_rows: int) -> None:
    """Push event data (CSV or JSON Lines) into Salesforce and Marketo; nothing is lost or sent twice."""
    from ..providers.base import ConnectionError_
    from ..workflow import WorkflowError, read_env
    from .config import SyncConfigError
    from .engine import Summary, run_sync

    interactive = sys.stderr.isatty()
    bars = ProgressBars(list(data)) if interactive else None
    last = [0.0]

    def progress(s: Summary) -> None:
        if bars is not None:
            bars.update(s)
            return
        now = time.monotonic()
        if now - last[0] >= 5:  # not a terminal: a plain line every few seconds
            last[0] = now
            done = ", ".join(f"{t} {n}" for t, n in sorted(s.confirmed.items()))
            click.echo(f"rows read {s.rows}: {done or 'nothing new yet'}", err=True)

    targets = (only,) if only else ("salesforce", "marketo")
    try:
        summary = run_sync(list(data), list(manifests), read_env(), sync_name=sync_name, ledger_path=ledger,
                           rejects_path=rejects, dry_run=dry_run, targets=targets, progress=progress,
                           batch_rows=batch_rows, bulk_threshold=bulk_threshold)
    except (WorkflowError, SyncConfigError, ConnectionError_) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    finally:
        if bars is not None:
            bars.stop()
    render(summary)
    sys.exit(exit_code(summary))


def exit_code(s: "object") -> int:
    """3 when a daily limit stopped the run, 1 on an error or while any row is pending, else 0."""
    from .engine import Summary
    assert isinstance(s, Summary)
    if s.stopped:
        return 3
    return 1 if s.failed or (s.pending and not s.dry_run) else 0


class ProgressBars:
    """One rich progress bar for the rows read (against the files' line count) and one per target."""

    def __init__(self, files: list[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        total = 0
        for name in files:  # a streaming line count: cheap next to the sync itself
            with open(name, "rb") as handle:
                total += sum(1 for _ in handle) - (0 if name.endswith((".jsonl", ".ndjson")) else 1)
        self.progress = Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True))
        self.rows = self.progress.add_task("rows read", total=max(total, 1))
        self.targets: dict[str, object] = {}
        self.progress.start()

    def update(self, s: "object") -> None:
        from .engine import Summary
        assert isinstance(s, Summary)
        self.progress.update(self.rows, completed=s.rows)
        for target in sorted(set(s.confirmed) | set(s.rejected)):
            if target not in self.targets:
                self.targets[target] = self.progress.add_task(target, total=None)
            self.progress.update(self.targets[target],  # type: ignore[arg-type]
                                 completed=s.confirmed.get(target, 0) + s.rejected.get(target, 0))

    def stop(self) -> None:
        self.progress.stop()


def render(s: "object") -> None:
    """The final summary a user reads: matches, creations, upserts per status, rejects and where they are."""
    from .engine import Summary
    assert isinstance(s, Summary)
    title = "Dry run (nothing written)" if s.dry_run else \
        "Sync stopped" if s.stopped or s.failed or s.pending else "Sync finished"
    click.echo(f"{title}: {s.rows} rows read, {s.skipped} already done.")
    if s.superseded:
        click.echo(f"  {s.superseded} rows skipped: a row of the same key with a later time was written before.")
    if s.salesforce:
        click.echo(f"  Salesforce: matched {s.salesforce.get('matched Contact', 0)} to Contacts, "
                   f"{s.salesforce.get('matched Lead', 0)} to Leads; created {s.salesforce.get('created', 0)}.")
        for status, n in sorted(s.salesforce_status.items()):
            click.echo(f"    campaign members {status}: {n}")
    if s.marketo:
        click.echo(f"  Marketo: {s.marketo.get('leads upserted', 0)} leads upserted.")
        for status, n in sorted(s.marketo_status.items()):
            click.echo(f"    program members {status}: {n}")
    for target, n in sorted(s.confirmed.items()):
        click.echo(f"  {target}: {n} {'would be written' if s.dry_run else 'confirmed'}")
    rejected = sum(s.rejected.values())
    if rejected:
        where = "" if s.dry_run else f" (see {s.rejects_file})"
        click.echo(f"  Rejected: {rejected} ({', '.join(f'{t} {n}' for t, n in sorted(s.rejected.items()))}){where}")
    if s.pending and not s.dry_run:
        click.echo(f"  Pending: {s.pending} rows neither confirmed nor rejected yet (a reply was lost or a "
                   "retry ran out); run the same command again to continue: it sends only what is not confirmed.")
    if s.stopped:
        click.echo(f"  {s.stopped}")
    if s.failed:
        click.echo(f"  Error: {s.failed}")
    click.echo(f"  Ledger: {s.ledger_file}")
