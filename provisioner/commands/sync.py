"""``provisioner sync``: parse options, run the sync, render the summary, pick the exit code."""

from __future__ import annotations

import json
import sys
import time

import click

from ..sync.chunks import BULK_THRESHOLD, WINDOW_ROWS  # stdlib only: cheap at start-up
from ..sync.sources import MAX_FIELD_CHARS  # stdlib only: cheap at start-up
from .common import interruption, target_org_option
from .forecast import LIMIT_CHECK, ignore_limits_option

EXIT_HELP = """Every run ends with one line that adds up: read N = confirmed C + rejected R + unchanged U +
pending P (--format json: {"version": 1, "accounts": {...}, ...}).

Exit codes: 0 every row confirmed, unchanged or in the rejects file; 1 error (manifests, connection,
retries exhausted, a file refused whole, a write the org refuses wholesale, or rows still pending: run
again to continue);
3 stopped by a daily API limit (run the same command again later to continue), or refused before writing
because the forecast of API calls exceeds what remains of an org's daily limit (--ignore-limits to run
anyway; --dry-run prints the forecast, exactly, and exits 3 the same way); 64 usage error;
130 interrupted (Ctrl-C): run the same command again to continue."""


@click.command("sync", epilog=EXIT_HELP)
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--manifest", "manifests", multiple=True, required=True, type=click.Path(exists=True),
              help="Manifest file or folder (the Sync manifest and the Salesforce/Marketo manifests it names).")
@click.option("--sync", "sync_name", default=None, help="Name of the Sync manifest when several are given.")
@click.option("--ledger", default=None, help="SQLite ledger (default .provisioner/<sync-name>.ledger.sqlite).")
@click.option("--rejects", default=None, help="Rejects CSV (default .provisioner/<sync-name>.rejects-<time>.csv).")
@click.option("--dry-run", is_flag=True, help="Match people and count what would be written; write nothing.")
@click.option("--only", type=click.Choice(["salesforce", "marketo"]), default=None, help="Sync one target only.")
@click.option("--bulk-threshold", type=click.IntRange(0), default=BULK_THRESHOLD, show_default=True,
              help="Records of one object in the whole run above which Salesforce writes go in one Bulk API 2.0 "
                   "job per object and Marketo program members and custom objects in bulk imports.")
@click.option("--batch-rows", type=click.IntRange(1, 1_000_000), default=WINDOW_ROWS, show_default=True,
              help="Rows held in memory at once while writing (the whole input is read first, into a private "
                   "spool beside the ledger); it does not cut Bulk jobs or imports. The ledger commits after "
                   "every API call, so a crash resends at most the call in flight.")
@target_org_option
@ignore_limits_option
@click.option("--max-field-chars", type=click.IntRange(1), default=MAX_FIELD_CHARS, show_default=True,
              help="Ceiling on one field: a longer value rejects its row (file and line named), not the file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines (the summary is still printed).")
@click.option("--verbose", "-v", is_flag=True,
              help="Log every API request and retry to stderr (query text, e-mails and names masked).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help='Summary format; json is {"version": 1, "accounts": {"read", "confirmed", "rejected", '
                   '"unchanged", "pending"}, "files": [...], ...} for CI and scripts.')
def sync(data: tuple[str, ...], manifests: tuple[str, ...], sync_name: str | None, ledger: str | None,
         rejects: str | None, dry_run: bool, only: str | None, bulk_threshold: int, batch_rows: int,
         ignore_limits: bool, max_field_chars: int, quiet: bool, verbose: bool, fmt: str) -> None:
    """Push event data (CSV or JSON Lines) into Salesforce and Marketo; nothing is lost or sent twice."""
    from ..providers.base import ConnectionError_
    from ..workflow import WorkflowError, read_env
    from ..privacy import redact
    from ..sync.config import SyncConfigError
    from ..sync.engine import Summary, run_sync
    from ..sync.sources import SourceError
    from .common import UserError
    from .forecast import OrgForecast, org_forecasts, over_limit, render_forecast
    from ..limits import STATED_IN_REPLIES

    interruption.say("every batch confirmed before Ctrl-C is recorded in the ledger",
                     "run the same command again: confirmed rows are not sent twice")
    log_to_stderr(verbose)
    interactive = sys.stderr.isatty() and not quiet and fmt != "json"
    bars = ProgressBars(list(data)) if interactive else None
    last = [0.0]

    def progress(s: Summary) -> None:
        if bars is not None:
            bars.update(s)
            return
        now = time.monotonic()
        if not quiet and now - last[0] >= 5:  # not a terminal: a plain line every few seconds
            last[0] = now
            done = ", ".join(f"{t} {n}" for t, n in sorted(s.confirmed.items()))
            click.echo(f"rows settled {s.rows_done} of {s.rows} read: {done or 'nothing new yet'}", err=True)

    targets = (only,) if only else ("salesforce", "marketo")
    forecasts: list[OrgForecast] = []

    def on_forecast(calls: dict[str, tuple[int, int]], connections: dict[str, object], exact: bool,
                    not_counted: dict[str, str]) -> None:
        """Dry run: after the run, its exact forecast. Real run: before the first write, refuse over the limit."""
        forecasts[:] = org_forecasts(calls, connections, exact, not_counted)
        for f in forecasts if exact else ():  # the real run's check: after its first reads (see SyncRun.most_writes)
            f.limit_check = 0 if f.org in STATED_IN_REPLIES else LIMIT_CHECK
        refusal = None if exact else over_limit(
            forecasts, "sync", "Nothing was written. The figure is an upper bound: who matches, and so what is "
            "created or updated, is known only after matching (sync --dry-run gives the exact figure)")
        if refusal is not None:
            raise refusal

    try:
        summary = run_sync(list(data), list(manifests), read_env(), sync_name=sync_name, ledger_path=ledger,
                           rejects_path=rejects, dry_run=dry_run, targets=targets, progress=progress,
                           batch_rows=batch_rows, bulk_threshold=bulk_threshold, max_field_chars=max_field_chars,
                           on_forecast=None if ignore_limits and not dry_run else on_forecast)  # not even read
    except UserError as exc:  # refused over a daily limit (exit 3), or a limit setting to fix (exit 1)
        if fmt != "json":
            raise
        click.echo(json.dumps({"version": 1, "error": redact(exc.format_message()), "hint": exc.hint,
                               "exit_code": exc.exit_code, "forecast": {f.org: f.as_json() for f in forecasts}},
                              indent=2))
        sys.exit(exc.exit_code)
    except (WorkflowError, SyncConfigError, ConnectionError_, SourceError) as exc:
        if fmt == "json":
            click.echo(json.dumps({"version": 1, "error": redact(str(exc)), "exit_code": 1}))
        else:
            click.echo(f"Error: {redact(str(exc))}", err=True)
        sys.exit(1)
    finally:
        if bars is not None:
            bars.stop()
    code = exit_code(summary)
    refusal = over_limit(forecasts, "sync", "Nothing was written (dry run)", spent=False) \
        if dry_run and not ignore_limits else None
    if refusal is not None and code == 0:
        code = refusal.exit_code
    if fmt == "json":
        click.echo(json.dumps(dict(as_json(summary, code), forecast={f.org: f.as_json() for f in forecasts}),
                              indent=2))
    else:
        render(summary)
        click.echo(render_forecast(forecasts, "the sync" if dry_run else "this sync", "sync"), nl=False)
    if refusal is not None:
        refusal.show()
    sys.exit(code)


def log_to_stderr(verbose: bool) -> None:
    """Warnings (every request with ``verbose``) to stderr, through the personal-data filter on the handler
    itself, so records of every logger are masked (a filter on a logger misses its children's records)."""
    import logging

    from ..privacy import PersonalDataFilter, install_log_filter
    install_log_filter()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "provisioner_private", False)]:
        root.removeHandler(old)  # one handler, on today's stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PersonalDataFilter())
    handler.provisioner_private = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def exit_code(s: "object") -> int:
    """1 on an error, a file refused whole or rows still pending; 3 on a daily limit; 0 otherwise."""
    from ..sync.engine import Summary
    assert isinstance(s, Summary)
    if s.stopped:
        return 3
    if s.failed or s.accounts.pending or any(f.refused for f in s.files):
        return 1
    return 0


def as_json(s: "object", code: int) -> dict[str, object]:
    """The summary for scripts (shape version 1): the accounting, the files as read, per-target counts."""
    from ..privacy import redact
    from ..sync.accounting import VERSION
    from ..sync.engine import Summary
    assert isinstance(s, Summary)
    return {"version": VERSION, "dry_run": s.dry_run, "exit_code": code, "accounts": s.accounts.as_json(),
            "adds_up": s.accounts.adds_up(), "files": [f.as_json() for f in s.files],
            "targets": {t: {"confirmed": s.confirmed.get(t, 0), "rejected": s.rejected.get(t, 0)}
                        for t in sorted(set(s.confirmed) | set(s.rejected))},
            "salesforce": {"people": s.salesforce, "members_by_status": s.salesforce_status},
            "marketo": {"counts": s.marketo, "members_by_status": s.marketo_status},
            "planned": s.planned, "stopped": s.stopped, "failed": redact(s.failed) if s.failed else None,
            "rejects_file": s.rejects_file if s.accounts.counts["rejected"] and not s.dry_run else None,
            "ledger_file": s.ledger_file}


class ProgressBars:
    """On a terminal: one rich bar for the rows settled (of the files' line count) with rows/s and an ETA,
    and one per target; it moves after every API call, not only when a batch ends."""

    def __init__(self, files: list[str]) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        total = 0
        for name in files:  # a streaming line count: cheap next to the sync itself
            with open(name, "rb") as handle:
                total += sum(1 for _ in handle) - (0 if name.endswith((".jsonl", ".ndjson")) else 1)
        self.progress = Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=Console(stderr=True))
        self.rows = self.progress.add_task("rows", total=max(total, 1), rate="-- rows/s")
        self.targets: dict[str, object] = {}
        self.progress.start()

    def update(self, s: "object") -> None:
        from ..sync.engine import Summary
        assert isinstance(s, Summary)
        self.progress.update(self.rows, completed=s.rows_done)
        speed = self.progress.tasks[0].speed
        self.progress.update(self.rows, rate=f"{speed:,.0f} rows/s" if speed else "-- rows/s")
        for target in sorted(set(s.confirmed) | set(s.rejected)):
            if target not in self.targets:
                self.targets[target] = self.progress.add_task(target, total=None, rate="")
            self.progress.update(self.targets[target],  # type: ignore[arg-type]
                                 completed=s.confirmed.get(target, 0) + s.rejected.get(target, 0))

    def stop(self) -> None:
        self.progress.stop()


def render(s: "object") -> None:
    """The final summary a user reads: matches, creations, upserts per status, rejects and where they are."""
    from ..privacy import redact
    from ..sync.engine import Summary
    assert isinstance(s, Summary)
    title = "Dry run (nothing written)" if s.dry_run else \
        "Sync stopped" if s.stopped or s.failed or s.accounts.pending else "Sync finished"
    click.echo(f"{title}: {s.rows} rows read, {s.skipped} already done.")
    for f in s.files:
        click.echo(f"  Read {f.describe()}")
    for what, names in sorted(s.planned.items()):
        click.echo(f"  Would create {len(names)} {what} (spec.sessions.policy: create): {', '.join(names)}")
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
    if s.stopped:
        click.echo(f"  {s.stopped}")
    if s.failed:
        click.echo(f"  Error: {redact(s.failed)}")
    click.echo(f"  Ledger: {s.ledger_file}")
    click.echo(f"  {s.accounts.line(s.dry_run)}")
    if s.accounts.pending:
        click.echo(f"  Pending: {s.accounts.pending} rows neither confirmed nor rejected yet (a reply was lost or a "
                   "retry ran out): run the same command again to continue; it sends only what is not confirmed.")
