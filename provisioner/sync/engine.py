"""The sync run: read the whole input once, check it, skip what the ledger has confirmed, write, record outcomes.

``run_sync`` is the whole job; the CLI renders its :class:`Summary`. Phase 1 streams every row into a
spool (:mod:`.spool`), the latest row of each key winning across the whole input; phase 2 hands each sink
the spool in windows of ``batch_rows`` input rows (what is in memory at once). Each object's records go
in collections of 200 (Marketo: 300 per call), or, above ``BULK_THRESHOLD`` records in the run, in one
Bulk API 2.0 job per object (Marketo: bulk imports) gathered over the windows. The engine drives every
target through the one contract of :mod:`.sink` without knowing which it is; the ledger commits after
every API call (each call's outcomes reach :meth:`SyncRun.settled`), so a kill -9 re-sends at most the call
in flight. A row neither confirmed nor rejected at the end is pending in ``Summary.accounts`` (exit 1).

The forecast of API calls (``on_forecast``) comes from the sinks (:meth:`.sink.Sink.write_calls`): a dry
run adds up what each batch would send, exactly; a real run reads the input once more before its first
write and adds up the most each batch could send (matching is not done yet: an upper bound).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..manifest.gc_pause import collector_paused
from .accounting import Accounts
from .checks import check_row
from .config import SyncConfig
from .ledger import Ledger, content_hash
from .rejects import Rejects
from .sink import Refused, Sink
from .sources import MAX_FIELD_CHARS, FileReport, Reader, Row, SourceError
from .chunks import BULK_THRESHOLD as _BULK, WINDOW_ROWS
from .spool import Spool
from .work import Item

BATCH_ROWS = WINDOW_ROWS  # input rows in memory at once (a window of phase 2); no longer bounds a job
BULK_THRESHOLD = _BULK  # records per object per run above which Bulk API 2.0 / a Marketo bulk import is used
#: ``on_forecast(calls, connections, exact, not_counted)``: ``calls`` is ``{org: (reads made so far, writes
#: ahead)}``, ``connections`` the clients by org (to read what remains of the daily limits), ``exact`` False
#: when the writes are an upper bound, ``not_counted`` what an org's figure leaves out (the campaigns and
#: programs the sessions policy would create). It may raise to stop the run before its first write.
ForecastHook = Callable[[dict[str, tuple[int, int]], dict[str, Any], bool, dict[str, str]], None]
DEFAULT_KEYS = {"registration": ["session", "email"], "replay": ["session", "email"],
                "engagement": ["session", "email", "entry_id"], "poll": ["session", "email", "entry_id", "poll_number"]}
TARGETS = {
    "registration": ("sf.member", "mk.lead", "mk.member"),
    "replay": ("sf.replay",),
    "engagement": ("sf.engagement", "mk.object", "mk.activity"),
    "poll": ("sf.poll",),
}


@dataclass
class Summary:
    """What a run did, for the final report and the exit code."""

    rows: int = 0
    skipped: int = 0
    superseded: int = 0  # rows not written because a row of the same key with a later time was
    confirmed: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    salesforce: dict[str, int] = field(default_factory=dict)
    salesforce_status: dict[str, int] = field(default_factory=dict)
    marketo: dict[str, int] = field(default_factory=dict)
    marketo_status: dict[str, int] = field(default_factory=dict)
    rejects_file: str = ""
    ledger_file: str = ""
    stopped: str | None = None  # why the run stopped early (a daily limit), with when to resume
    failed: str | None = None  # an error that ended the run early (retries exhausted, a refused write)
    dry_run: bool = False
    accounts: Accounts = field(default_factory=Accounts)  # read N = confirmed + rejected + unchanged + pending
    files: list[FileReport] = field(default_factory=list)  # what the reader chose and found, per file
    planned: dict[str, list[str]] = field(default_factory=dict)  # dry run: campaigns/programs it would create
    rows_done: int = 0  # rows with every write settled (confirmed or rejected) or nothing to send: progress


def row_time(row: Row) -> float | None:
    """The row's ``time`` column as epoch seconds (ISO 8601; no zone means UTC), ``None`` when absent or
    unreadable — such rows fall back to file order."""
    text = row.data.get("time", "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _key(row: Row, fields: list[str]) -> str:
    return "|".join(row.data.get(f, "").lower() if f == "email" else row.data.get(f, "") for f in fields)


class SyncRun:
    """One run over the input files against the sinks given (either may be ``None``).

    Phase 1 reads the whole input once into a :class:`.Spool` beside the ledger: bad rows go to the
    rejects file, and of the rows sharing a (target, key) the latest time wins across the whole input.
    Phase 2 drives each sink through its passes over the spool, ``batch_rows`` input rows a window (what
    is in memory at once); a sink may gather a run-wide Bulk job or import over the windows of a pass and
    send it when the pass ends (:meth:`.Sink.end_pass`), restoring its items from the spool to settle them.
    """

    def __init__(self, config: SyncConfig, ledger: Ledger, rejects: Rejects, salesforce: Any = None,
                 marketo: Any = None, dry_run: bool = False,
                 progress: Callable[[Summary], None] | None = None, batch_rows: int = BATCH_ROWS,
                 max_field_chars: int = MAX_FIELD_CHARS, connections: Mapping[str, Any] | None = None,
                 on_forecast: ForecastHook | None = None) -> None:
        self.config, self.ledger, self.rejects = config, ledger, rejects
        self.max_field_chars = max_field_chars
        self.connections = dict(connections or {})  # by sink name: their ``calls`` count the reads made
        self.on_forecast = on_forecast
        self.writes: dict[str, int] = {}  # dry run: the calls the writes would make, by sink name
        self.reader = Reader(config.columns, max_field_chars, config.formats)
        self.batch_rows = batch_rows
        self.dry_run = dry_run
        self.sinks: list[Sink] = [s for s in (salesforce, marketo) if s]
        self.spool: Spool | None = None
        self._keyed: dict[str, list[tuple[str, list[str]]]] = {}  # see keyed()
        for sink in self.sinks:
            sink.settled = self.settled  # each API call's outcomes are in the ledger before the next call
            sink.restore = self.restore  # the spooled items of a run-wide job, to settle them
        self.progress = progress
        self.summary = Summary(rejects_file=str(rejects.path), ledger_file=str(ledger.path), dry_run=dry_run,
                               files=self.reader.reports)

    def targets(self, kind: str) -> list[str]:
        wanted = TARGETS.get(kind, ())
        return [t for t in wanted if any(t.startswith(s.prefix) for s in self.sinks)]

    def read(self, spool: Spool, paths: Iterable[str | Path]) -> None:
        """Phase 1: every row checked once; bad rows to the rejects file, the others' work items spooled."""
        for row in self.reader.rows(paths):
            self.summary.rows += 1
            problem = check_row(row, self.config)
            if problem:
                digest = content_hash(row.data)
                known = self.ledger.lookup("input", [row.where])
                if self.ledger.is_done("input", row.where, digest, known):
                    self.summary.skipped += 1  # rejected by an earlier run; already in its rejects file
                    spool.row("unchanged")
                    continue
                spool.row("rejected")
                if not self.dry_run:
                    self.rejects.add(row, "all", problem)
                    self.ledger.mark("input", row.where, digest, "rejected", problem)
                self.summary.rejected["input"] = self.summary.rejected.get("input", 0) + 1
                continue
            at = row_time(row)
            items = []
            whole = ""  # the digest of the row's values, the same for every target but the Marketo lead
            for target, fields in self.keyed(row.kind):
                key = _key(row, fields)
                if target == "mk.lead":
                    digest = content_hash({c: row.data.get(c, "") for c in self.config.marketo.lead_mapping.values()})
                else:
                    digest = whole = whole or content_hash(dict(row.data, _kind=row.kind))
                items.append(Item(target, key, digest, row, at=at))
            spool.put(spool.row(), items, row)

    def keyed(self, kind: str) -> list[tuple[str, list[str]]]:
        """``(target, key fields)`` for each target a row of ``kind`` goes to (worked out once per kind)."""
        known = self._keyed
        if kind not in known:
            fields = list(self.config.idempotency.get(kind) or DEFAULT_KEYS[kind])
            if kind == "poll" and "poll_number" not in fields:
                fields.append("poll_number")  # the manifest keys the poll *record*; each poll is its own row
            known[kind] = [(t, ["email"] if t == "mk.lead" else fields) for t in self.targets(kind)]
        return known[kind]

    def todo(self, window: list[Item]) -> list[Item]:
        """The items of a window the ledger does not have yet (the others are settled as skipped)."""
        by_target: dict[str, list[Item]] = {}
        for item in window:
            by_target.setdefault(item.target, []).append(item)
        todo: list[Item] = []
        skipped: list[Item] = []
        assert self.spool is not None
        for target, its in by_target.items():
            known = self.ledger.lookup(target, [i.key for i in its])
            for i in its:
                if self.ledger.is_done(target, i.key, i.digest, known):
                    skipped.append(i)
                elif self.ledger.is_newer(known, i.key, i.at):  # an earlier run wrote a later row
                    skipped.append(i)
                    self.summary.superseded += 1
                else:
                    todo.append(i)
        self.summary.skipped += len(skipped)
        self.spool.settle(skipped, "skipped")
        return todo

    def restore(self, target: str, keys: list[str]) -> list[Item]:
        """The pending items of ``target`` with ``keys``, from the spool (a sink settles a run-wide job)."""
        assert self.spool is not None
        return self.spool.items(target, keys)

    def settled(self, items: list[Item]) -> None:
        """Record the outcomes of one API call and commit: a kill -9 after this re-sends none of them."""
        self.record(items)
        if not self.dry_run:
            self.ledger.commit()
            self.rejects.flush()
        self._progress()

    def _progress(self) -> None:
        if self.spool is not None:
            self.summary.rows_done = self.spool.done
        if self.progress:
            self.progress(self.summary)

    def record(self, items: list[Item]) -> list[Item]:
        """Put newly settled items in the ledger, the rejects file, the spool and the counts; return them."""
        recorded = []
        for i in items:
            if i.recorded:
                continue
            if i.state == "rejected":
                if not self.dry_run:
                    self.rejects.add(i.row, i.target, i.reason or "rejected")
                self.summary.rejected[i.target] = self.summary.rejected.get(i.target, 0) + 1
            elif i.state == "confirmed":
                self.summary.confirmed[i.target] = self.summary.confirmed.get(i.target, 0) + 1
            else:
                continue
            i.recorded = True
            recorded.append(i)
        if self.spool is not None:
            self.spool.settle(recorded)
        if not self.dry_run:
            self.ledger.mark_many([(i.target, i.key, i.digest, i.state, i.reason, i.ref, None, i.row.where, i.at)
                                   for i in recorded])
        return recorded

    def reads(self) -> dict[str, int]:
        """Calls each org's connection has made so far (the login included), less those a dry run made only to
        forecast."""
        return {s.name: int(getattr(self.connections.get(s.name), "calls", 0)) - s.dry_reads for s in self.sinks}

    def most_writes(self, spool: Spool) -> dict[str, int]:
        """Before the first write: each sink's reads ahead (:meth:`.Sink.read_ahead` on its first window, made
        before the check of the daily limits), and the most calls its writes could make for the whole spooled
        input (what each window could send, added up, priced as the run sends it: one job per object per
        run). One pass over the spool serves every sink: each row is read and decoded once, not once a sink."""
        sends: dict[str, Counter[str]] = {s.name: Counter() for s in self.sinks}
        ahead = []  # the sinks with work, whose reads ahead ride on their first window
        for sink in self.sinks:
            totals = spool.totals(sink.prefix)
            if totals:
                sink.prepare(sorted(totals))
                ahead.append(sink)
        for window in spool.windows("", self.batch_rows):
            for sink in self.sinks:
                items = [i for i in window if i.target.startswith(sink.prefix)]
                if not items:
                    continue
                if sink in ahead:
                    ahead.remove(sink)
                    sink.read_ahead(items)
                sends[sink.name].update(sink.most_sends(items))
        out = {}
        for sink in self.sinks:
            out[sink.name] = sink.write_calls(sends[sink.name])
            sink.forecast_done()
        return out

    def forecast(self, writes: dict[str, int], exact: bool) -> None:
        if self.on_forecast is not None:
            reads = self.reads()
            left_out: dict[str, str] = {}
            for sink in self.sinks:
                parts = [sink.uncounted] if sink.uncounted else []
                if sink.planned():
                    parts.append("creating " + ", ".join(f"{len(names)} {what}" for what, names in sink.planned().items())
                                 + " (spec.sessions.policy: create)")
                if parts:
                    left_out[sink.name] = "; ".join(parts)
            self.on_forecast({org: (reads[org], writes.get(org, 0)) for org in reads}, self.connections, exact,
                             left_out)

    def run(self, paths: Iterable[str | Path]) -> Summary:
        """Sync every row of ``paths``; a daily limit stops the run with what is done recorded.

        The cyclic collector is paused meanwhile: every window of every pass makes tens of thousands of items
        that form no cycles, and the collector walked them over and over (a tenth of the run's CPU); a
        20,000-row run leaves 59 objects of cyclic garbage, freed when the run ends."""
        with collector_paused():
            return self._run(paths)

    def _run(self, paths: Iterable[str | Path]) -> Summary:
        from ..providers.base import ConnectionError_
        from ..providers.marketo.errors import QuotaExceeded
        from ..providers.salesforce.retry import DailyLimitExceeded

        spool = self.spool = Spool(Path(f"{self.ledger.path}.spool"))
        try:
            try:
                self.read(spool, paths)
            except SourceError as exc:  # a file that cannot be read at all: the rows before it are still written
                self.summary.failed = str(exc)
            spool.ready()
            if not self.dry_run:
                self.ledger.commit()
                self.rejects.flush()
            self._progress()
            try:
                if not self.dry_run and self.on_forecast is not None:  # stops here (raises) when over the limit
                    self.forecast(self.most_writes(spool), exact=False)
                if not self.dry_run:
                    for sink in self.sinks:
                        sink.reconcile()
                for sink in self.sinks:
                    self.write(sink, spool)
            except Refused as exc:  # the org would reject the rest the same way: stop before writing more
                self.summary.failed = str(exc)
            except QuotaExceeded as exc:
                self.summary.stopped = (f"Marketo daily API quota used up (607); run the same command again after "
                                        f"{exc.resets_at:%Y-%m-%d %H:%M %Z} to continue where this run stopped")
            except DailyLimitExceeded as exc:
                self.summary.stopped = (f"Salesforce daily API request limit reached ({exc}); run the same command "
                                        "again after the limit resets to continue where this run stopped")
            except ConnectionError_ as exc:  # retries exhausted: what is done is recorded; a re-run continues
                self.summary.failed = f"{exc}; everything confirmed so far is in the ledger, run again to continue"
            if not self.dry_run:
                self.ledger.commit()
                self.rejects.flush()
            self.summary.accounts.settle(spool.fates())  # what no call settled is pending, in the accounts
            self._progress()
        finally:
            self.spool = None
            spool.close()
        self._collect()
        if self.dry_run and not (self.summary.failed or self.summary.stopped):
            self.forecast(self.writes, exact=True)
        return self.summary

    def write(self, sink: Sink, spool: Spool) -> None:
        """Phase 2 for one sink: preflight of every target it will write, then each of its passes over the
        spool's windows (the items the ledger already has are skipped), and the pass's run-wide work."""
        totals = spool.totals(sink.prefix)
        if not totals:
            return
        sink.prepare(sorted(totals))  # preflight of what these targets write, once per run
        sink.begin(totals)
        for name in sink.passes:
            for window in spool.windows(sink.prefix, self.batch_rows):
                todo = self.todo(window) if name == sink.passes[0] else window
                try:
                    if todo:
                        sink.write(todo, name)
                finally:
                    self.settled(todo)  # what the window settled without a call (a missing campaign, a bad status)
            sink.end_pass(name)
        if self.dry_run:  # what the run's writes would send, priced as the real run sends it
            self.writes[sink.name] = self.writes.get(sink.name, 0) + sink.write_calls(sink.take_sends())

    def _collect(self) -> None:
        for sink in self.sinks:  # Summary.<name> and Summary.<name>_status, for the report
            setattr(self.summary, sink.name, dict(sink.counts))
            setattr(self.summary, f"{sink.name}_status", dict(sink.by_status))
            self.summary.planned.update(sink.planned())


def default_ledger(sync_name: str) -> Path:
    """``.provisioner/<sync-name>.ledger.sqlite`` in the working folder."""
    return Path(".provisioner") / f"{sync_name}.ledger.sqlite"


def default_rejects(sync_name: str) -> Path:
    return Path(".provisioner") / f"{sync_name}.rejects-{datetime.now():%Y%m%d-%H%M%S}.csv"


def run_sync(data: list[str], manifest_paths: list[str], env: Mapping[str, str], *, sync_name: str | None = None,
             ledger_path: str | None = None, rejects_path: str | None = None, dry_run: bool = False,
             targets: tuple[str, ...] = ("salesforce", "marketo"),
             progress: Callable[[Summary], None] | None = None, batch_rows: int = BATCH_ROWS,
             bulk_threshold: int = BULK_THRESHOLD, max_field_chars: int = MAX_FIELD_CHARS,
             on_forecast: ForecastHook | None = None) -> Summary:
    """Load the manifests, connect the targets the Sync manifest names, and sync ``data`` (``on_forecast``: see
    :data:`ForecastHook`; a dry run calls it after the run, a real run before its first write)."""
    from ..workflow import load_valid
    from .config import build_config
    from .marketo_sink import MarketoSink
    from .salesforce_sink import SalesforceSink

    loaded = load_valid(manifest_paths)
    config = build_config(loaded.manifests, sync_name)
    Reader(formats=config.formats).check_formats(data)  # before anything is written
    ledger = Ledger(ledger_path or default_ledger(config.name))
    rejects = Rejects(rejects_path or default_rejects(config.name))
    try:
        sf = mk = None
        connections: dict[str, Any] = {}
        if config.salesforce and "salesforce" in targets:
            from ..providers.salesforce.connection import SalesforceConnection
            connections["salesforce"] = SalesforceConnection.from_env(env)
            sf = SalesforceSink(connections["salesforce"], config, dry_run, bulk_threshold, ledger=ledger)
        if config.marketo and "marketo" in targets:
            from ..providers.marketo.provider import PROVIDER  # the same budget (MARKETO_MAX_*) as plan/apply
            connections["marketo"] = PROVIDER.connect(env)
            mk = MarketoSink(connections["marketo"], config, ledger, dry_run, bulk_threshold=bulk_threshold)
        summary = SyncRun(config, ledger, rejects, sf, mk, dry_run, progress, batch_rows, max_field_chars,
                          connections, on_forecast).run(data)
        return summary
    finally:
        ledger.close()
        rejects.close()
