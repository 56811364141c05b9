"""The sync run: stream rows, check them, skip what the ledger has confirmed, write batches, record outcomes.

``run_sync`` is the whole job; the CLI renders its :class:`Summary`. Batches are 10,000 rows by default;
within one, each object's records go in collections of 200 (Marketo: 300 per call), or in one Bulk API
2.0 job (Marketo: a bulk import) above ``BULK_THRESHOLD``. The engine drives every target through the one
contract of :mod:`.sink` (reconcile, prepare, write) without knowing which it is; the ledger commits after
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
from typing import Any, Callable, Iterable, Iterator, Mapping

from .accounting import Accounts
from .checks import check_row
from .config import SyncConfig
from .ledger import Ledger, content_hash
from .rejects import Rejects
from .sink import Refused, Sink
from .sources import MAX_FIELD_CHARS, FileReport, Reader, Row, SourceError
from .work import Item

BATCH_ROWS = 10_000
BULK_THRESHOLD = 2_000  # records per object per batch above which Bulk API 2.0 / a Marketo bulk import is used
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


def _supersedes(new: float | None, old: float | None) -> bool:
    """Whether a row read later (time ``new``) replaces one read earlier (``old``) of the same key: the latest
    time wins, and on a tie or without times the later row does."""
    return new is None or old is None or new >= old


def _key(row: Row, fields: list[str]) -> str:
    return "|".join(row.data.get(f, "").lower() if f == "email" else row.data.get(f, "") for f in fields)


def _batched(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class SyncRun:
    """One run over the input files against the sinks given (either may be ``None``)."""

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
        self._settled: dict[int, str] = {}  # id(row) → fate, for rows settled before any write (input rejects)
        self._outstanding: Counter[int] = Counter()  # id(row) → its work items not settled yet (this batch)
        self.batch_rows = batch_rows
        self.dry_run = dry_run
        self.sinks: list[Sink] = [s for s in (salesforce, marketo) if s]
        for sink in self.sinks:
            sink.settled = self.settled  # each API call's outcomes are in the ledger before the next call
        self.progress = progress
        self.summary = Summary(rejects_file=str(rejects.path), ledger_file=str(ledger.path), dry_run=dry_run,
                               files=self.reader.reports)

    def targets(self, kind: str) -> list[str]:
        wanted = TARGETS.get(kind, ())
        return [t for t in wanted if any(t.startswith(s.prefix) for s in self.sinks)]

    def items(self, batch: list[Row]) -> list[Item]:
        """Checked rows as work items not yet done; bad rows go to the rejects file."""
        items: dict[tuple[str, str], Item] = {}
        for row in batch:
            self.summary.rows += 1
            problem = check_row(row, self.config)
            if problem:
                digest = content_hash(row.data)
                known = self.ledger.lookup("input", [row.where])
                if self.ledger.is_done("input", row.where, digest, known):
                    self.summary.skipped += 1  # rejected by an earlier run; already in its rejects file
                    self._settled[id(row)] = "unchanged"
                    continue
                self._settled[id(row)] = "rejected"
                if not self.dry_run:
                    self.rejects.add(row, "all", problem)
                    self.ledger.mark("input", row.where, digest, "rejected", problem)
                self.summary.rejected["input"] = self.summary.rejected.get("input", 0) + 1
                continue
            at = row_time(row)
            fields = list(self.config.idempotency.get(row.kind) or DEFAULT_KEYS[row.kind])
            if row.kind == "poll" and "poll_number" not in fields:
                fields.append("poll_number")  # the manifest keys the poll *record*; each poll is its own row
            for target in self.targets(row.kind):
                key = _key(row, ["email"] if target == "mk.lead" else fields)
                data = dict(row.data, _kind=row.kind)
                if target == "mk.lead":
                    data = {c: row.data.get(c, "") for c in self.config.marketo.lead_mapping.values()}
                earlier = items.get((target, key))
                if earlier is None or _supersedes(at, earlier.at):  # the latest time wins, not file order
                    items[(target, key)] = Item(target, key, content_hash(data), row, at=at)
        by_target: dict[str, list[Item]] = {}
        for item in items.values():
            by_target.setdefault(item.target, []).append(item)
        todo: list[Item] = []
        for target, its in by_target.items():
            known = self.ledger.lookup(target, [i.key for i in its])
            for i in its:
                if self.ledger.is_done(target, i.key, i.digest, known):
                    self.summary.skipped += 1
                elif self.ledger.is_newer(known, i.key, i.at):  # an earlier batch or run wrote a later row
                    self.summary.skipped += 1
                    self.summary.superseded += 1
                else:
                    todo.append(i)
        return todo

    def settled(self, items: list[Item]) -> None:
        """Record the outcomes of one API call and commit: a kill -9 after this re-sends none of them."""
        for item in self.record(items):
            left = self._outstanding.get(id(item.row), 0) - 1
            self._outstanding[id(item.row)] = left
            if left == 0:  # the row's last write settled
                self.summary.rows_done += 1
        if not self.dry_run:
            self.ledger.commit()
            self.rejects.flush()
        if self.progress:
            self.progress(self.summary)

    def record(self, items: list[Item]) -> list[Item]:
        """Put newly settled items in the ledger, the rejects file and the counts; return them."""
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
            if not self.dry_run:
                self.ledger.mark(i.target, i.key, i.digest, i.state, i.reason, i.ref, source=i.row.where, at=i.at)
        return recorded

    def reads(self) -> dict[str, int]:
        """Calls each org's connection has made so far (the login included), less those a dry run made only to
        forecast."""
        return {s.name: int(getattr(self.connections.get(s.name), "calls", 0)) - s.dry_reads for s in self.sinks}

    def most_writes(self, paths: Iterable[str | Path]) -> dict[str, int]:
        """Before the first write: the most calls the sinks' writes could make for the whole input, read once
        more for it with nothing recorded (no ledger mark, no reject, no count in the summary)."""
        saved = self.summary, self._settled, self.dry_run, self.reader
        self.summary, self._settled, self.dry_run = Summary(), {}, True
        self.reader = Reader(self.config.columns, self.max_field_chars, self.config.formats)
        out = {s.name: 0 for s in self.sinks}
        try:
            for batch in _batched(self.reader.rows(paths), self.batch_rows):
                todo = self.items(batch)
                for sink in self.sinks:
                    mine = [i for i in todo if i.target.startswith(sink.prefix)]
                    if mine:
                        out[sink.name] += sink.write_calls(sink.most_sends(mine))
        except SourceError:  # a file that cannot be read at all: the run stops there too, after the files before it
            pass
        finally:
            self.summary, self._settled, self.dry_run, self.reader = saved
        return out

    def forecast(self, writes: dict[str, int], exact: bool) -> None:
        if self.on_forecast is not None:
            reads = self.reads()
            left_out = {s.name: "creating " + ", ".join(f"{len(names)} {what}" for what, names in s.planned().items())
                        + " (spec.sessions.policy: create)" for s in self.sinks if s.planned()}
            self.on_forecast({org: (reads[org], writes.get(org, 0)) for org in reads}, self.connections, exact,
                             left_out)

    def run(self, paths: Iterable[str | Path]) -> Summary:
        """Sync every row of ``paths``; a daily limit stops the run with what is done recorded."""
        from ..providers.base import ConnectionError_
        from ..providers.marketo.errors import QuotaExceeded
        from ..providers.salesforce.retry import DailyLimitExceeded

        paths = list(paths)
        if not self.dry_run and self.on_forecast is not None:  # stops here (raises) when over the limit
            self.forecast(self.most_writes(paths), exact=False)
        try:
            if not self.dry_run:
                for sink in self.sinks:
                    sink.reconcile()
            for batch in _batched(self.reader.rows(paths), self.batch_rows):
                todo = self.items(batch)
                self._outstanding = Counter(id(i.row) for i in todo)
                self.summary.rows_done += sum(1 for row in batch if id(row) not in self._outstanding)
                try:
                    for sink in self.sinks:
                        mine = [i for i in todo if i.target.startswith(sink.prefix)]
                        if not mine:
                            continue
                        sink.prepare(mine)  # preflight of what these targets write (once per target)
                        sink.write(mine)
                        if self.dry_run:
                            self.writes[sink.name] = self.writes.get(sink.name, 0) + \
                                sink.write_calls(sink.take_sends())
                finally:
                    self.settled(todo)  # what the last call left unsettled: pending, in the accounts
                    self.summary.accounts.settle_batch(batch, todo, self._settled)
                    self._settled.clear()
                if self.progress:
                    self.progress(self.summary)
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
        except SourceError as exc:  # a file that cannot be read at all: the files before it are done
            self.summary.failed = str(exc)
        self._collect()
        if self.dry_run and not (self.summary.failed or self.summary.stopped):
            self.forecast(self.writes, exact=True)
        return self.summary

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
