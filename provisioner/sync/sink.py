"""The one contract between the sync engine and a target (Salesforce, Marketo): prepare, write windows of
work, settle what each call confirmed or rejected, reconcile what a killed run left in flight.

The engine drives every sink the same way and never asks which one it is:

1. ``reconcile()`` once, before anything is sent (read back what a killed run left in flight);
2. ``prepare(targets)`` once, with every target the run will write (read the targets' describes, refuse
   a sync the org would reject wholesale: :class:`Refused`);
3. ``begin(totals)`` with the run's pending items per target (what decides REST or Bulk);
4. for each name in ``passes``: ``write(items, name)`` for each window of the spool, then
   ``end_pass(name)``, where a sink sends what it gathered over the windows (one Bulk job per object, an
   import) and settles it with the items ``restore(target, keys)`` gives back from the spool;
5. after every API call the sink calls ``settled(items)`` with the items that call confirmed or rejected
   (through :meth:`Item.confirm` / :meth:`Item.reject`), and the engine records them in the ledger and
   commits at once: a ``kill -9`` loses at most the call in flight. An item neither confirmed nor
   rejected at the end is pending (a re-run sends it).

The forecast (``sync --dry-run`` and the check before a real run's first write) asks each sink what its
writes would send over the run (``sends``: records per write, keyed by what the sink writes) and what that
costs (``write_calls``), from the same record-per-call sizes and Bulk thresholds its ``write`` uses.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Protocol

from .work import Item

#: Record-level error codes that say "this org refuses every record like it" rather than "this record is
#: wrong": a required field, a permission, a validation rule, a field the org does not have.
SYSTEMIC_CODES = ("REQUIRED_FIELD_MISSING", "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY",
                  "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                  "INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                  "INVALID_TYPE")
#: A call whose records all fail with one systemic code stops the run when it held at least this many.
SYSTEMIC_MIN_RECORDS = 2


class Refused(Exception):
    """The target would reject every record of a kind (found by preflight, or by a whole call failing
    with one systemic error): the run stops with this message, naming the object and field, before more
    records are written. Nothing already confirmed is lost; a re-run after the fix continues."""


class Sink(Protocol):
    """What the engine needs of a target."""

    prefix: str  # "sf." or "mk.": the work item targets this sink writes
    name: str  # "salesforce" or "marketo": where the summary reports its counts
    counts: dict[str, int]
    by_status: dict[str, int]
    settled: Callable[[list[Item]], None]
    restore: Callable[[str, list[str]], list[Item]]
    passes: tuple[str, ...]

    def reconcile(self) -> None:
        """Settle what a killed run left in flight, before anything is sent again."""

    def prepare(self, targets: list[str]) -> None:
        """Check the target can take items of ``targets`` (raises :class:`Refused` naming what is wrong)."""

    def read_ahead(self, first: list[Item]) -> None:
        """The reads the run makes before its first write anyway (``first`` is the first window), made before
        the check of the daily limit, so that replies which state the org's usage save the call reading it."""

    def begin(self, totals: dict[str, int]) -> None:
        """The run's pending items per target, before the first window."""

    def write(self, items: list[Item], name: str) -> None:
        """One window of pass ``name``; report each call's outcomes through ``settled``."""

    def end_pass(self, name: str) -> None:
        """Send what pass ``name`` gathered over the windows; settle it through ``restore`` and ``settled``."""

    def planned(self) -> dict[str, list[str]]:
        """Dry run: what the sessions policy would create, by what it is (``{"Salesforce campaigns": [...]}``)."""

    def most_sends(self, items: list[Item]) -> dict[str, int]:
        """Before any read: the most records each write could send for one batch's ``items`` (what matching
        will find is not known yet, so the worst case of it)."""

    def forecast_done(self) -> None:
        """After the check before writing: forget what ``most_sends`` remembered across windows."""

    def take_sends(self) -> dict[str, int]:
        """Dry run: what ``write`` would have sent for the windows written so far (and forget it)."""

    def write_calls(self, sends: Mapping[str, int]) -> int:
        """The API calls ``write`` makes to send ``sends`` (the run's), from its own sizes and thresholds."""


def _nothing(items: list[Item]) -> None:
    return None


def _none_restored(target: str, keys: list[str]) -> list[Item]:
    return []


class SinkBase:
    """Defaults shared by the sinks: no-op ``settled`` until the engine sets it, and the systemic check."""

    prefix = ""
    name = ""
    dry_reads = 0  # dry run: calls it made only to forecast (the real run does not make them)
    uncounted = ""  # dry run: what its forecast of the run's calls leaves out (say it, or the figure is exact)
    settled: Callable[[list[Item]], None] = staticmethod(_nothing)  # type: ignore[assignment]
    restore: Callable[[str, list[str]], list[Item]] = staticmethod(_none_restored)  # type: ignore[assignment]
    passes: tuple[str, ...] = ("write",)
    totals: dict[str, int] = {}
    _dry_sends: dict[str, int] | None = None  # dry run: records ``write`` would send, by write (would_send)
    _forecast_seen: Any = None  # what ``most_sends`` remembered across windows, until :meth:`forecast_done`

    def reconcile(self) -> None:
        return None

    def prepare(self, targets: list[str]) -> None:
        return None

    def read_ahead(self, first: list[Item]) -> None:
        return None

    def begin(self, totals: dict[str, int]) -> None:
        self.totals = dict(totals)

    def end_pass(self, name: str) -> None:
        return None

    def restored(self, owners: Mapping[str, list[tuple[str, str]]]) -> dict[tuple[str, str], Item]:
        """The spool's items that staged records settle, by ``(target, key)``: ``owners`` is
        ``Staging.owners``' ``ext → [(target, key), ...]``; one ``restore`` per target."""
        by_target: dict[str, list[str]] = {}
        for pairs in owners.values():
            for target, key in pairs:
                by_target.setdefault(target, []).append(key)
        return {(i.target, i.key): i for t, keys in by_target.items() for i in self.restore(t, keys)}

    def planned(self) -> dict[str, list[str]]:
        return {}

    def would_send(self, what: str, records: int) -> None:
        """Dry run: note that ``write`` would send ``records`` more with the write ``what``."""
        if self._dry_sends is None:
            self._dry_sends = {}
        if records:
            self._dry_sends[what] = self._dry_sends.get(what, 0) + records

    def take_sends(self) -> dict[str, int]:
        sends, self._dry_sends = self._dry_sends or {}, None
        return sends

    def forecast_done(self) -> None:
        """After the check before writing: drop what :meth:`most_sends` remembered across windows (every
        e-mail and session of the input), so the writes do not carry it."""
        self._forecast_seen = None


def systemic(what: str, errors: Iterable[list[dict[str, Any]] | None],
             records: Iterable[dict[str, Any]] = ()) -> str | None:
    """Why a whole call failed the same way (``None`` when it did not): every record rejected with one
    systemic code. ``errors`` holds each record's error list (``None``/empty for a success). A required
    field that the call's ``records`` do fill (but some rows left empty) is the rows' fault, not the org's."""
    firsts = []
    for errs in errors:
        if not errs:
            return None
        firsts.append(errs[0])
    codes = {str(e.get("statusCode") or e.get("code") or "") for e in firsts}
    if len(firsts) < SYSTEMIC_MIN_RECORDS or len(codes) != 1:
        return None
    code = codes.pop()
    if not any(code.startswith(c) for c in SYSTEMIC_CODES):
        return None
    fields = sorted({str(f) for e in firsts for f in (e.get("fields") or [])})
    sent = {k.lower() for r in records for k in r}
    if code == "REQUIRED_FIELD_MISSING" and any(f.lower() in sent for f in fields):
        return None
    messages = {str(e.get("message") or "") for e in firsts}
    detail = messages.pop() if len(messages) == 1 else f"{len(messages)} different messages"
    return (f"{what}: all {len(firsts)} records of one call were rejected with {code}"
            f"{' on ' + ', '.join(fields) if fields else ''} ({detail}); the run stopped instead of sending "
            "the rest the same way. Fix the org or the Sync manifest, then run the same command again")
