"""Marketo side of the sync: leads by email (300 per call), program member status (forward only),
custom object records (createOrUpdate on the dedupe fields) and custom activities (write-once).

Above ``bulk_threshold`` records of a kind in one batch, leads, program members and custom object
records go through bulk imports (:mod:`..providers.marketo.bulk_import`) instead; activities have no
bulk import and stay on REST, 300 per call. REST calls go one at a time through the shared
:class:`MarketoClient`, and a bulk lead import never holds an email a REST call of the same moment
holds, so one email is never in two requests at once. Each import is recorded in the ledger while
in flight: a run killed meanwhile leaves it there, and the next run waits for Marketo to finish it
before sending anything (then sends its rows again, which is harmless: every import is an upsert).
A 607 (daily quota) propagates as ``QuotaExceeded`` and stops the run cleanly.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from ..providers.marketo.client import MarketoClient
from ..providers.marketo.bulk_import import (FAILURE_REASON, IMPORT_CALLS, MAX_FILE_BYTES, WARNING_REASON,
                                             BulkImporter, Import, csv_files)
from ..providers.marketo.errors import MarketoError, WriteOutcomeUnknown
from .cache import RunCache
from . import policy
from .config import SyncConfig
from .ledger import Ledger
from .chunks import BULK_THRESHOLD, MK_RECORDS
from .sink import SinkBase
from .staging import Part, Staging
from .work import Item

MAX = MK_RECORDS
#: Bytes a full-size import file leaves for the multipart envelope around it: Marketo (and the sandbox)
#: refuse a request over 10 MB with 413, and a run-wide import fills its files to the limit.
MULTIPART_HEADROOM = 64 * 1024
ALREADY_AT_OR_PAST = "1037"
log = logging.getLogger(__name__)


def _chunks(items: list[Any], size: int = MAX) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _reasons(result: dict[str, Any]) -> list[dict[str, Any]]:
    return list(result.get("reasons") or result.get("errors") or [])


def _dedupe_key(values: list[Any]) -> str:
    return json.dumps(["" if v is None else str(v) for v in values])


def _message(result: dict[str, Any]) -> str:
    return "; ".join(f"{r.get('code')}: {r.get('message')}" for r in _reasons(result)) or str(result.get("status"))


class MarketoSink(SinkBase):
    """Writes work items for the ``mk.*`` targets; lead ids and programs found are kept in memory."""

    prefix, name = "mk.", "marketo"

    def __init__(self, client: MarketoClient, config: SyncConfig, ledger: Ledger, dry_run: bool = False,
                 bulk_threshold: int = BULK_THRESHOLD, importer: BulkImporter | None = None,
                 max_file_bytes: int = MAX_FILE_BYTES) -> None:
        assert config.marketo is not None
        self.client, self.config, self.target, self.ledger, self.dry_run = \
            client, config, config.marketo, ledger, dry_run
        self.bulk_threshold, self.max_file_bytes = bulk_threshold, max_file_bytes
        self.importer = importer or BulkImporter(client)
        self.importer.on_submit = self._recorded  # in the ledger at once: a re-run waits for it (settle_imports)
        self.bulk_failed: set[str] = set()  # emails whose lead failed in this batch's lead import
        self.lead_ids: RunCache[int | None] = RunCache()  # the ledger keeps every id (ref) too
        self.programs: dict[str, int | None] = {}
        self.missing: dict[str, str] = {}  # session → why it has no program (the rows' reject reason)
        self.planned_programs: list[str] = []  # dry run: programs the sessions policy would create
        self._program_names: list[str] | None = None
        self._by_lower: dict[str, tuple[str, int]] = {}  # programs seen by browsing: lower-cased name -> (name, id)
        self._browsed_all = False
        self._activity_type: int | None = None
        self._template: list[Any] | None = None  # the template program, looked up once
        self.staging: Staging | None = None  # run-wide imports gathered over the windows
        self._groups: dict[str, tuple[int, str]] = {}  # staging bucket → (program, Marketo status)
        self.need_ids = self.stage_members = self.stage_objects = False
        self.wanted: RunCache[bool] = RunCache()  # e-mails whose lead id the run's objects or activities need
        self.counts: dict[str, int] = {"leads upserted": 0}
        self.by_status: dict[str, int] = {}

    # -- forecast ----------------------------------------------------------------------------
    def write_calls(self, sends: Mapping[str, int]) -> int:
        """Calls :meth:`write` makes for the run's ``sends``: REST writes (``"leads REST"``, ``"members REST
        <program>|<status>"``, ``"objects REST"``, ``"activities"``: records) at ``MAX`` records a call, and
        bulk imports (``"... imports"``: files under 10 MB) at ``IMPORT_CALLS`` each; ``"read: ..."``: calls to
        read (before a real run only); ``"calls: ..."``: calls already priced (a dry run prices each window's
        REST writes and imports as that window sends them); ``"staged <group>"`` and ``"bytes staged <group>"``:
        records and CSV bytes gathered over the windows for one run-wide import (the files' split estimated
        from the bytes), or REST when the group ends at or below the threshold. Assumes every import is
        done at its first status poll with no failed or warned rows, and that no call is retried."""
        calls = 0
        size = self.staged_file_bytes
        for what, count in sends.items():
            if what.startswith(("read: ", "calls: ")):
                calls += count
            elif what.startswith("staged "):  # one run-wide import per group above the threshold, else REST
                if count > self.bulk_threshold:
                    calls += IMPORT_CALLS * max(1, -(-sends.get(f"bytes {what}", 0) // size))
                else:
                    calls += -(-count // MAX)
            elif not what.startswith("bytes staged "):
                calls += count * IMPORT_CALLS if "imports" in what else -(-count // MAX)
        return calls

    def program_or_session(self, session: str) -> Any:
        """Dry run: a session's program id, its name when the run would create it, ``None`` when it has none."""
        program = self.programs.get(session)
        return session if program == -1 else program

    def most_sends(self, items: list[Item]) -> dict[str, int]:
        """Before any read: every session has a program (one per session name) and every lead is upserted; the
        reads ahead are the token and the activity types once, and for each session not seen in an earlier
        batch a page of programs and two ``byName`` lookups (call it on the batches in order)."""
        if self._forecast_seen is None:
            self._forecast_seen = set()
        seen: set[str] = self._forecast_seen
        sessions = {i.row.data["session"] for i in items} - seen
        sends = {"read: token and activity types": 0 if seen else 1 + (self.target.activity is not None),
                 "read: programs": 3 * len(sessions)}
        seen |= sessions
        return {**sends, **self.sends(items, lambda session: session)}

    def sends(self, items: list[Item], program_of: Callable[[str], Any], staged_members: bool = False,
              staged_objects: bool = False) -> dict[str, int]:
        """What :meth:`write` sends for one batch's ``items``, by write, following its choices: a bulk import
        above ``bulk_threshold`` for the leads whose id the batch does not need, each (program, status) group
        of members and the custom object records, REST for the rest (``program_of``: a session's program, or
        ``None`` when it has none; no lead is assumed to fail)."""
        live = [i for i in items if program_of(i.row.data["session"]) is not None]
        groups: dict[tuple[Any, str], list[Item]] = {}
        for item in live:
            status = self.config.status_for("marketo", item.row.data["status"]) if item.target == "mk.member" else None
            if status is not None:
                groups.setdefault((program_of(item.row.data["session"]), status), []).append(item)
        objects = [i for i in live if i.target == "mk.object"] if self.target.custom_object else []
        activities = [i for i in live if i.target == "mk.activity"] if self.target.activity else []
        rest = {} if staged_members else {k: g for k, g in groups.items() if len(g) <= self.bulk_threshold}
        need = dict.fromkeys(i.row.data["email"].lower() for i in [*objects, *activities, *(i for g in rest.values()
                                                                                           for i in g)])
        if self.need_ids:  # leads whose id a later window's objects or activities need (the ids pass)
            need.update(dict.fromkeys(e for e in (i.row.data["email"].lower() for i in live if i.target == "mk.lead")
                                      if e in self.wanted))
        records: dict[str, dict[str, Any]] = {}
        for item in live:
            if item.target == "mk.lead":
                record = records.setdefault(item.row.data["email"].lower(), {"email": item.row.data["email"]})
                record.update({f: item.row.data[c] for f, c in self.target.lead_mapping.items()
                               if item.row.data.get(c) and f != "email"})
        unknown = [e for e in need if e not in records and e not in self.lead_ids]
        known = self.ledger.lookup("mk.lead", unknown)  # one query per 500, not one per e-mail
        for email in unknown:
            if not (known.get(email) and known[email][2]):
                records[email] = {"email": email}
        sends: dict[str, int] = {}
        loose = [e for e in records if e not in need]
        if len(loose) > self.bulk_threshold:
            header = ["email", *dict.fromkeys(f for e in loose for f in records[e] if f != "email")]
            sends["lead imports"] = sum(1 for _ in csv_files(header, (records[e] for e in loose), self.max_file_bytes))
            sends["leads REST"] = len(records) - len(loose)
        else:
            sends["leads REST"] = len(records)
        for (program, status), group in groups.items():
            if staged_members:
                emails = dict.fromkeys(i.row.data["email"].lower() for i in group)
                sends[f"staged members {program}|{status}"] = len(emails)
                sends[f"bytes staged members {program}|{status}"] = sum(len(e.encode("utf-8")) + 1 for e in emails)
            elif (program, status) in rest:
                sends[f"members REST {program}|{status}"] = len(group)
            else:
                emails = dict.fromkeys(i.row.data["email"].lower() for i in group)
                sends[f"member imports {program}|{status}"] = sum(
                    1 for _ in csv_files(["email"], ({"email": e} for e in emails), self.max_file_bytes))
        if objects:  # a lead id of 10 digits where the link field holds one: no file is bigger than that
            built = self._object_records(objects, unknown_lead=10 ** 9)
            assert built is not None
            found, _ = built
            if staged_objects:
                header = list(dict.fromkeys(f for r in found.values() for f in r))
                sends["staged objects"] = len(found)
                sends["bytes staged objects"] = sum(
                    len(data) - len(data.split(b"\n", 1)[0]) - 1
                    for data, _ in csv_files(header, found.values(), self.max_file_bytes))
            elif len(objects) > self.bulk_threshold:
                header = list(dict.fromkeys(f for r in found.values() for f in r))
                sends["object imports"] = sum(1 for _ in csv_files(header, found.values(), self.max_file_bytes))
            else:
                sends["objects REST"] = len(found)
        if activities:
            sends["activities"] = len(activities)
        return {what: n for what, n in sends.items() if n}

    # -- leads -----------------------------------------------------------------------------

    def planned(self) -> dict[str, list[str]]:
        """Dry run: the programs the sessions policy would create."""
        return {"Marketo programs": list(self.planned_programs)} if self.planned_programs else {}
    def upsert_leads(self, items: list[Item], wanted_emails: list[str], bulk_ok: bool = False) -> list[Import] | None:
        """Upsert the ``mk.lead`` items (one record per email) and learn the id of every wanted email.

        With ``bulk_ok``, the records whose id is not wanted go in a bulk lead import when there are more
        than the threshold; the import is returned still running (:meth:`finish_lead_import` settles it).
        Its emails and the REST call's are disjoint, so no email is in two requests at once.
        """
        records: dict[str, dict[str, Any]] = {}
        owners: dict[str, list[Item]] = {}
        for item in items:
            email = item.row.data["email"].lower()
            record = records.setdefault(email, {"email": item.row.data["email"]})
            record.update({f: item.row.data[c] for f, c in self.target.lead_mapping.items()
                           if item.row.data.get(c) and f != "email"})
            owners.setdefault(email, []).append(item)
        wanted = dict.fromkeys(e.lower() for e in wanted_emails)
        digests: dict[str, str] = {}  # what the ledger holds for a lead sent here only for its id: kept as is
        for email in wanted:
            if email not in records and email not in self.lead_ids:
                known = self.ledger.lookup("mk.lead", [email]).get(email)
                if known and known[2]:
                    self.lead_ids[email] = int(known[2])
                else:
                    records[email] = {"email": email}
                    digests[email] = known[0] if known else ""
        if self.dry_run:
            for email, its in owners.items():
                for i in its:
                    i.confirm()
            for email in records:
                self.lead_ids.setdefault(email, -1)
            return None
        loose = [e for e in records if e not in wanted]  # written, but no id needed in this batch
        started = None
        if bulk_ok and len(loose) > self.bulk_threshold:
            started = self._import_leads(loose, records, owners)
            loose_set = set(loose)
            emails = [e for e in records if e not in loose_set]
        else:
            emails = list(records)
        for chunk in _chunks(emails):
            result = self.client.post_json("/rest/v1/leads.json", {
                "action": "createOrUpdate", "lookupField": "email", "input": [records[e] for e in chunk]},
                idempotent=True)  # an upsert by email: sending it again does no harm (one request at a time)
            for email, r in zip(chunk, result):
                ok = r.get("status") in ("created", "updated") and r.get("id") is not None
                self.lead_ids[email] = int(r["id"]) if ok else None
                if ok:
                    self.counts["leads upserted"] += 1
                for i in owners.get(email, []):
                    if ok:
                        i.confirm(str(r["id"]))
                    else:
                        i.reject(_message(r))
                if ok and email not in owners:
                    self.ledger.mark("mk.lead", email, digests.get(email, ""), "confirmed", ref=str(r["id"]))
            self.settled([i for e in chunk for i in owners.get(e, [])])
        return started

    def _import_leads(self, emails: list[str], records: dict[str, dict[str, Any]],
                      owners: dict[str, list[Item]]) -> list[Import]:
        """Bulk lead import(s) of ``emails`` (lookupField email: an upsert, so a re-run after a crash that
        left one in flight just imports the same rows again)."""
        header = ["email", *dict.fromkeys(f for e in emails for f in records[e] if f != "email")]
        started, at = [], 0
        for data, n in csv_files(header, (records[e] for e in emails), self.max_file_bytes):
            started.append(self.importer.submit("leads", data, n, tag=(emails[at:at + n], owners)))
            at += n
        return started

    def finish_lead_import(self, imports: list[Import] | None) -> None:
        """Wait for the lead imports; failed rows reject their items, the others are confirmed."""
        if not imports:
            return
        self.importer.wait(imports)
        for imp in imports:
            emails, owners = imp.tag
            failed = self._fold(imp, lambda row: (row.get("email") or "").lower())
            for email in emails:
                reason = failed.get(email) or failed.get("*") if imp.status == "Complete" else \
                    f"bulk lead import {imp.batch_id} {imp.status}: {imp.message}"
                if reason is None:
                    self.counts["leads upserted"] += 1
                else:
                    self.lead_ids[email] = None
                    self.bulk_failed.add(email)
                for i in owners.get(email, []):
                    if reason is None:
                        i.confirm()
                    else:
                        i.reject(reason)
            self.settled([i for e in emails for i in owners.get(e, [])])

    def _fold(self, imp: Import, key: Callable[[dict[str, str]], str]) -> dict[str, str]:
        """``key → reason`` of an import's failed rows; warnings are counted and logged (not failures)."""
        failed = {key(r): r.get(FAILURE_REASON) or "failed in the bulk import" for r in self.importer.failures(imp)}
        if imp.failed and not failed:
            failed = {"*": f"bulk import {imp.batch_id}: {imp.failed} rows failed but no failures file"}
        for row in self.importer.warnings(imp):
            self.counts["bulk import warnings"] = self.counts.get("bulk import warnings", 0) + 1
            log.warning("Marketo bulk import %s: warning for %s: %s", imp.batch_id, key(row),
                        row.get(WARNING_REASON))
        self.ledger.mark("mk.import", str(imp.batch_id), "", "confirmed")
        return failed

    def _settle(self, imp: Import, chunk: list[str], owners: dict[str, list[Item]],
                key: Callable[[dict[str, str]], str], what: str, confirm: Callable[[Item], None]) -> None:
        """Confirm the items of one finished import's rows, or reject them with the row's (or the import's) failure."""
        failed = self._fold(imp, key)
        for k in chunk:
            reason = failed.get(k) or failed.get("*") if imp.status == "Complete" else \
                f"{what} {imp.batch_id} {imp.status}: {imp.message}"
            for i in owners[k]:
                if reason is None:
                    confirm(i)
                else:
                    i.reject(reason)
        self.settled([i for k in chunk for i in owners[k]])

    def settle_imports(self) -> int:
        """Wait for imports a killed run left in Marketo's queue before anything is sent again, so no email
        is in a new request while an old import may still write it. Returns how many were waited for."""
        left = list(self.ledger.in_state("mk.import", "sent"))
        if not left or self.dry_run:
            return 0
        imports = [Import(p["kind"], int(key), p["status_path"], 0) for key, _, p, _ in left]
        for imp in imports:
            try:
                self.importer.poll(imp)
            except MarketoError:  # unknown to Marketo (e.g. never queued): nothing to wait for
                imp.status = "Unknown"
        self.importer.wait(imports)
        for imp in imports:
            self.ledger.mark("mk.import", str(imp.batch_id), "", "confirmed")
        self.ledger.commit()
        return len(imports)

    def _recorded(self, imp: Import) -> None:
        self.ledger.mark("mk.import", str(imp.batch_id), "", "sent",
                         payload={"kind": imp.kind, "status_path": imp.status_path})
        self.ledger.commit()

    # -- programs --------------------------------------------------------------------------
    def ensure_programs(self, items: list[Item]) -> None:
        """A program per session: found by name; a missing one is cloned from the template program into its
        folder only when the sessions policy says so (:func:`.policy.may_create`), else its rows are rejected
        with the nearest existing program name as a hint. Names are looked up by browsing the instance's
        programs, 200 a page, before any ``byName`` call: one call finds many sessions' programs."""
        wanted = {item.row.data["session"] for item in items} - set(self.programs)
        if wanted:
            self._browse_programs(wanted)
        for item in items:
            name = item.row.data["session"]
            if name in self.programs:
                continue
            hit = self._by_lower.get(name.lower())  # names are case-insensitive in Marketo
            if hit is None and not self._browsed_all:
                found = self.client.get("/rest/asset/v1/program/byName.json", {"name": name})
                same = None if found else policy.same_name(name, self.program_names())
                if same:
                    found = self.client.get("/rest/asset/v1/program/byName.json", {"name": same})
                hit = (found[0]["name"], int(found[0]["id"])) if found else None
            if hit is not None:
                self.programs[name] = hit[1]
                continue
            refused = policy.may_create(self.config.sessions, item.row.data)
            if refused is not None:
                self.programs[name] = None
                self.missing[name] = policy.missing_session("Marketo program", name, self.program_names(), refused)
                continue
            if self.dry_run:
                self.programs[name] = -1
                self.planned_programs.append(name)
                continue
            self.programs[name] = self._clone_program(name)
            if self.programs[name] is None:
                self.missing[name] = f"no Marketo program {name!r} and the template could not be cloned"

    def _browse_programs(self, wanted: set[str]) -> None:
        """Read programs page by page until every ``wanted`` name is seen or the last page is read, but never
        more pages than the ``byName`` calls they replace (a large instance: the rest is read by name)."""
        if self._browsed_all:
            return
        pages = self.client.browse("/rest/asset/v1/programs.json")
        for read, page in enumerate(pages, start=1):
            for program in page:
                if program.get("name"):
                    self._by_lower.setdefault(program["name"].lower(), (program["name"], int(program["id"])))
            if len(page) < 200:
                self._browsed_all = True
                return
            if all(w.lower() in self._by_lower for w in wanted) or read >= len(wanted):
                return

    def with_program(self, items: list[Item]) -> list[Item]:
        """The items whose session has a program; the others are rejected with the reason (and hint)."""
        kept = []
        for item in items:
            session = item.row.data["session"]
            if self.programs.get(session) is None:
                item.reject(self.missing.get(session) or f"no Marketo program {session!r}")
            else:
                kept.append(item)
        return kept

    def program_names(self) -> list[str]:
        """Names of the instance's programs (first 2,000), read once, for "did you mean" hints."""
        if self._program_names is None:
            if self._browsed_all:
                self._program_names = [name for name, _ in self._by_lower.values()]
            else:
                self._program_names = []
                for page in self.client.browse("/rest/asset/v1/programs.json"):
                    self._program_names += [p["name"] for p in page if p.get("name")]
                    if len(self._program_names) >= 2000:
                        break
        return self._program_names

    def _clone_program(self, name: str) -> int | None:
        """Clone the template program as ``name`` into the template's folder; its id (``None``: no template)."""
        if self._template is None:
            self._template = self.client.get("/rest/asset/v1/program/byName.json",
                                             {"name": self.target.program_template})
        template = self._template
        if not template:
            return None
        folder = template[0].get("folder") or {}
        cloned: list[Any] = []
        for _ in range(3):
            try:
                cloned = self.client.post_form(f"/rest/asset/v1/program/{template[0]['id']}/clone.json", {
                    "name": name,
                    "folder": json.dumps({"id": folder.get("value"), "type": folder.get("type", "Folder")}),
                    "description": f"{self.target.program_template}: {name} (provisioner sync)"})
            except WriteOutcomeUnknown:  # names are unique: look the program up instead of cloning twice
                cloned = self.client.get("/rest/asset/v1/program/byName.json", {"name": name})
            if cloned:  # not found after an unknown outcome: the clone did not happen, so clone again
                break
        return int(cloned[0]["id"]) if cloned else None

    # -- run-wide imports -------------------------------------------------------------------
    def begin(self, totals: dict[str, int]) -> None:
        """Above the threshold in the run, program members (per program and status) and custom object
        records are gathered over the windows and imported once each when the pass ends; leads are never
        bulk-imported when the run's objects or activities need their ids (REST returns them)."""
        super().begin(totals)
        self.need_ids = bool(totals.get("mk.object") or totals.get("mk.activity"))
        if self.need_ids:  # first learn which leads the run needs ids of (REST, not import); no call
            self.passes = ("ids", "write")
        self.stage_members = not self.dry_run and totals.get("mk.member", 0) > self.bulk_threshold
        self.stage_objects = not self.dry_run and totals.get("mk.object", 0) > self.bulk_threshold
        if self.dry_run and totals.get("mk.member", 0) > self.bulk_threshold:
            # The forecast prices member groups one by one; a run that imports members reads back by REST the
            # ids of leads a bulk import wrote when their program/status group is too small for an import.
            self.uncounted = "lead ids read back for program-member groups at or below the Bulk threshold"
        if self.stage_members or self.stage_objects:
            self.staging = Staging()

    def end_pass(self, name: str) -> None:
        staging = self.staging
        if staging is None or name != "write":
            return
        try:
            started: list[Import] = []
            for bucket in staging.buckets():
                if staging.sizes[bucket] > self.bulk_threshold:
                    started += self._import_staged(bucket)
                else:
                    self._rest_staged(bucket)
            if started:
                self.importer.wait(started)
                for imp in started:
                    self._settle_import(*imp.tag, imp)
        finally:
            staging.close()
            self.staging = None

    @property
    def staged_file_bytes(self) -> int:
        """The largest file a run-wide import sends: under the request's limit, not just the file's."""
        return min(self.max_file_bytes, MAX_FILE_BYTES - MULTIPART_HEADROOM)

    def _import_staged(self, bucket: str) -> list[Import]:
        assert self.staging is not None
        started = []
        obj = self.target.custom_object
        header = ["email"] if bucket != "object" else None
        for part in self.staging.csv_files(bucket, self.staged_file_bytes, header):
            data = part.path.read_bytes()
            if bucket == "object":
                assert obj is not None
                started.append(self.importer.submit("customObject", data, part.rows, api_name=obj.api_name,
                                                    tag=(bucket, part)))
            else:
                program, status = self._groups[bucket]
                started.append(self.importer.submit("programMembers", data, part.rows, program_id=program,
                                                    status=status, tag=(bucket, part)))
        return started

    def _restore(self, bucket: str, exts: list[str]) -> dict[str, list[Item]]:
        assert self.staging is not None
        owners = self.staging.owners(bucket, exts)
        items = self.restored(owners)
        return {ext: [items[p] for p in pairs if p in items] for ext, pairs in owners.items()}

    def _settle_import(self, bucket: str, part: Part, imp: Import) -> None:
        """Confirm the items of one finished import's rows, or reject them with the row's (or the import's) failure."""
        assert self.staging is not None
        obj = self.target.custom_object
        if bucket == "object":
            assert obj is not None
            failed = self._fold(imp, lambda row: _dedupe_key([row.get(d) for d in obj.dedupe_fields]))
            what = "bulk custom object import"
        else:
            failed = self._fold(imp, lambda row: (row.get("email") or "").lower())
            what = "bulk program member import"
        for exts in self.staging.exts(bucket, part):
            owners = self._restore(bucket, exts)
            done: list[Item] = []
            for k in exts:
                reason = failed.get(k) or failed.get("*") if imp.status == "Complete" else \
                    f"{what} {imp.batch_id} {imp.status}: {imp.message}"
                for i in owners.get(k, []):
                    if reason is None:
                        i.confirm()
                        if bucket != "object":
                            status = self._groups[bucket][1]
                            self.by_status[status] = self.by_status.get(status, 0) + 1
                    else:
                        i.reject(reason)
                    done.append(i)
            self.settled(done)

    def _rest_staged(self, bucket: str) -> None:
        """A staged bucket at or below the threshold: REST calls of 300, each settled at once."""
        assert self.staging is not None
        exts = [k for k, _ in self.staging.records(bucket)]
        obj = self.target.custom_object
        for chunk in _chunks(exts):
            owners = self._restore(bucket, chunk)
            if bucket == "object":
                assert obj is not None
                records = dict(self.staging.records(bucket, chunk))
                result = self.client.post_json(f"/rest/v1/customobjects/{obj.api_name}.json", {
                    "action": "createOrUpdate", "dedupeBy": "dedupeFields", "input": [records[k] for k in chunk]},
                    idempotent=True)
                for key, r in zip(chunk, result):
                    for i in owners.get(key, []):
                        if r.get("status") in ("created", "updated"):
                            i.confirm(str(r.get("marketoGUID") or ""))
                        else:
                            i.reject(_message(r))
            else:
                unknown = [k for k in chunk if not self.lead_ids.get(k)]  # bulk-imported leads: ids by REST
                if unknown:
                    self.upsert_leads([], unknown)
                ready = []
                for k in chunk:
                    for i in owners.get(k, []):
                        i.extra["lead"] = self.lead_ids.get(k)
                        if i.extra["lead"] is None:
                            i.reject("the Marketo lead could not be upserted")
                        else:
                            ready.append(i)
                self.settled([i for k in chunk for i in owners.get(k, []) if i.state == "rejected"])
                self._members_rest(ready)
                continue
            self.settled([i for k in chunk for i in owners.get(k, [])])

    def _stage_members(self, groups: dict[tuple[int, str], list[Item]]) -> None:
        if not groups:
            return
        assert self.staging is not None
        for (program, status), group in groups.items():
            bucket = f"member {program} {status}"
            self._groups[bucket] = (program, status)
            staged = []
            for item in group:
                email = item.row.data["email"].lower()
                if email in self.bulk_failed or self.lead_ids.get(email, 0) is None:
                    item.reject("the Marketo lead could not be upserted")
                else:
                    staged.append((email, {"email": email}, [item]))
            self.staging.add_many(bucket, staged)

    def _stage_objects(self, items: list[Item]) -> None:
        if not items:
            return
        assert self.staging is not None
        built = self._object_records(items)
        if built is None:
            return
        records, owners = built
        self.staging.add_many("object", [(key, record, owners[key]) for key, record in records.items()])

    # -- writes ------------------------------------------------------------------------------
    def write(self, items: list[Item], name: str = "write") -> None:
        """Write every ``mk.*`` item of one batch; each ends confirmed, rejected, or (activities) sent.

        Order: the leads first (REST for the people whose id this batch needs, a bulk lead import for
        the rest above the threshold, and it must finish before anything else names those emails),
        then program member and custom object imports started, the REST calls made while they run,
        and last the imports' failures folded in.
        """
        if not items:
            return
        if name == "ids":
            for item in items:
                if item.target in ("mk.object", "mk.activity"):
                    self.wanted[item.row.data["email"].lower()] = True
            self.wanted.trim()
            return
        self.lead_ids.trim()
        self.wanted.trim()  # the leads of this pass ask it (``in``), which brings spilled e-mails back into memory
        emails = [i.row.data["email"].lower() for i in items]
        self.lead_ids.load(emails)  # what this window looks up, in one query per 500 e-mails
        self.wanted.load(emails)
        self.bulk_failed = set()
        self.ensure_programs(items)  # sessions first: nothing is written for a row whose session has no program
        items = self.with_program(items)
        if self.dry_run:  # before the leads are looked up: what the real run would send for these items
            sends = self.sends(items, self.program_or_session,
                               staged_members=self.totals.get("mk.member", 0) > self.bulk_threshold,
                               staged_objects=self.totals.get("mk.object", 0) > self.bulk_threshold)
            staged = {what: n for what, n in sends.items() if "staged " in what}
            self.would_send("calls: each window's writes", self.write_calls(
                {what: n for what, n in sends.items() if what not in staged}))
            for what, records in staged.items():  # gathered over the windows, priced once for the run
                self.would_send(what, records)
        members = self._member_groups([i for i in items if i.target == "mk.member"])
        staged = {k: g for k, g in members.items() if self.stage_members}
        bulk_members = {k: g for k, g in members.items()
                        if k not in staged and not self.dry_run and len(g) > self.bulk_threshold}
        objects = [i for i in items if i.target == "mk.object"]
        bulk_objects = not self.dry_run and len(objects) > self.bulk_threshold
        rest_members = [i for k, g in members.items() if k not in bulk_members and k not in staged for i in g]
        need_ids = [i.row.data["email"] for i in items if i.target in ("mk.object", "mk.activity")]
        need_ids += [i.row.data["email"] for i in rest_members]
        need_ids += [i.row.data["email"] for i in items if i.target == "mk.lead" and self.need_ids
                     and i.row.data["email"].lower() in self.wanted]  # a later window's objects need it
        lead_import = self.upsert_leads([i for i in items if i.target == "mk.lead"], need_ids, bulk_ok=True)
        self.finish_lead_import(lead_import)
        self._stage_members(staged)
        started: list[Import] = []
        for (program, status), group in bulk_members.items():
            started += self._import_members(program, status, group)
        ready = []
        for item in [i for i in items if i.target in ("mk.object", "mk.activity")] + rest_members:
            lead = self.lead_ids.get(item.row.data["email"].lower())
            if lead is None:
                item.reject("the Marketo lead could not be upserted")
            else:
                item.extra["lead"] = lead
                ready.append(item)
        ready_objects = [i for i in ready if i.target == "mk.object"]
        if self.stage_objects:
            self._stage_objects(ready_objects)
        elif bulk_objects and ready_objects:
            started += self._import_objects(ready_objects)
        else:
            self._objects(ready_objects)
        self._members_rest([i for i in ready if i.target == "mk.member"])
        self._activities([i for i in ready if i.target == "mk.activity"])
        if started:
            self.importer.wait(started)
            for imp in started:
                settle, chunk = imp.tag
                settle(imp, chunk)

    def _member_groups(self, items: list[Item]) -> dict[tuple[int, str], list[Item]]:
        """Member items by (program, Marketo status); those without either are rejected here."""
        if not items:
            return {}
        self.ensure_programs(items)
        groups: dict[tuple[int, str], list[Item]] = {}
        for item in items:
            program = self.programs.get(item.row.data["session"])
            status = self.config.status_for("marketo", item.row.data["status"])
            if program is None:
                item.reject(self.missing.get(item.row.data["session"]) or f"no Marketo program {item.row.data['session']!r}")
            elif status is None:
                item.reject(f"status {item.row.data['status']!r} has no Marketo status in the status map")
            else:
                groups.setdefault((program, status), []).append(item)
        return groups

    def _import_members(self, program: int, status: str, group: list[Item]) -> list[Import]:
        """Program member import(s) of one (program, status) group, by email. The leads exist already (the
        lead import finished first), and the import is forward-only like the REST call: a re-run is safe."""
        owners: dict[str, list[Item]] = {}
        for item in group:
            email = item.row.data["email"].lower()
            if email in self.bulk_failed or self.lead_ids.get(email, 0) is None:
                item.reject("the Marketo lead could not be upserted")
            else:
                owners.setdefault(email, []).append(item)
        emails = list(owners)

        def counted(item: Item) -> None:
            item.confirm()
            self.by_status[status] = self.by_status.get(status, 0) + 1

        def settle(imp: Import, chunk: list[str]) -> None:
            self._settle(imp, chunk, owners, lambda row: (row.get("email") or "").lower(),
                         "bulk program member import", counted)

        started, at = [], 0
        for data, n in csv_files(["email"], ({"email": e} for e in emails), self.max_file_bytes):
            started.append(self.importer.submit("programMembers", data, n, program_id=program, status=status,
                                                tag=(settle, emails[at:at + n])))
            at += n
        return started

    def _members_rest(self, items: list[Item]) -> None:
        groups: dict[tuple[int, str], list[Item]] = {}
        for item in items:
            program = self.programs[item.row.data["session"]]
            groups.setdefault((program, self.config.status_for("marketo", item.row.data["status"])), []).append(item)
        for (program, status), group in groups.items():
            if self.dry_run:
                for i in group:
                    i.confirm()
                self.by_status[status] = self.by_status.get(status, 0) + len(group)
                continue
            for chunk in _chunks(group):
                leads = list(dict.fromkeys(i.extra["lead"] for i in chunk))
                result = self.client.post_json(f"/rest/v1/programs/{program}/members/status.json",
                                               {"statusName": status, "input": [{"leadId": x} for x in leads]},
                                               idempotent=True)  # forward-only upsert: repeating is harmless
                by_lead = {int(r.get("leadId", -1)): r for r in result}
                for i in chunk:
                    r = by_lead.get(int(i.extra["lead"]), {})
                    codes = {str(x.get("code")) for x in _reasons(r)}
                    if r.get("status") in ("created", "updated") or ALREADY_AT_OR_PAST in codes:
                        i.confirm()
                        self.by_status[status] = self.by_status.get(status, 0) + 1
                    else:
                        i.reject(_message(r) if r else "no result for this lead")
                self.settled(chunk)

    def _object_records(self, items: list[Item], unknown_lead: int | None = None
                        ) -> tuple[dict[str, dict[str, Any]], dict[str, list[Item]]] | None:
        """Custom object records by dedupe key, and the items of each; ``None`` when there is no object.
        ``unknown_lead``: the link field of an item whose lead id is not known yet (a forecast's stand-in)."""
        obj = self.target.custom_object
        if obj is None:
            for i in items:
                i.reject("the Sync manifest names no Marketo custom object")
            return None
        fields = {f.name: f for f in obj.fields}
        link = next((f.name for f in obj.fields if f.data_type == "link"), None)
        records: dict[str, dict[str, Any]] = {}
        owners: dict[str, list[Item]] = {}
        for item in items:
            record = {k: v for k, v in item.row.data.items() if k in fields and v != "" and k != link}
            if link:
                record[link] = item.extra["lead"] if unknown_lead is None else item.extra.get("lead", unknown_lead)
            dedupe = _dedupe_key([record.get(d) for d in obj.dedupe_fields])
            records.setdefault(dedupe, {}).update(record)
            owners.setdefault(dedupe, []).append(item)
        return records, owners

    def _import_objects(self, items: list[Item]) -> list[Import]:
        """Custom object import(s) (upserts on the dedupe fields: a re-run after a crash is harmless)."""
        built = self._object_records(items)
        if built is None:
            return []
        records, owners = built
        obj = self.target.custom_object
        assert obj is not None
        keys = list(records)
        header = list(dict.fromkeys(f for k in keys for f in records[k]))

        def settle(imp: Import, chunk: list[str]) -> None:
            self._settle(imp, chunk, owners, lambda row: _dedupe_key([row.get(d) for d in obj.dedupe_fields]),
                         "bulk custom object import", lambda item: item.confirm())

        started, at = [], 0
        for data, n in csv_files(header, (records[k] for k in keys), self.max_file_bytes):
            started.append(self.importer.submit("customObject", data, n, api_name=obj.api_name,
                                                tag=(settle, keys[at:at + n])))
            at += n
        return started

    def _objects(self, items: list[Item]) -> None:
        if not items:
            return
        built = self._object_records(items)
        if built is None:
            return
        records, owners = built
        obj = self.target.custom_object
        assert obj is not None
        keys = list(records)
        if self.dry_run:
            for i in items:
                i.confirm()
            return
        for chunk in _chunks(keys):
            result = self.client.post_json(f"/rest/v1/customobjects/{obj.api_name}.json", {
                "action": "createOrUpdate", "dedupeBy": "dedupeFields", "input": [records[k] for k in chunk]},
                idempotent=True)
            for key, r in zip(chunk, result):
                for i in owners[key]:
                    if r.get("status") in ("created", "updated"):
                        i.confirm(str(r.get("marketoGUID") or ""))
                    else:
                        i.reject(_message(r))
            self.settled([i for key in chunk for i in owners[key]])

    # -- activities (write-once) -----------------------------------------------------------
    def activity_type_id(self) -> int | None:
        """The numeric id of the manifest's custom activity type (activities need it, not the apiName)."""
        if self._activity_type is None and self.target.activity is not None:
            for t in self.client.get("/rest/v1/activities/types.json"):
                if t.get("apiName") == self.target.activity.api_name:
                    self._activity_type = int(t["id"])
        return self._activity_type

    def activity_record(self, item: Item) -> dict[str, Any]:
        """The activity for one engagement row (its date from the row, so a read-back can find it)."""
        act = self.target.activity
        assert act is not None
        data = item.row.data
        names = {a.api_name for a in act.attributes}
        when = data.get("time") or data.get("activity_date") or "2000-01-01T00:00:00Z"
        return {"leadId": int(item.extra["lead"]), "activityDate": when, "activityTypeId": self.activity_type_id(),
                "primaryAttributeValue": data[act.primary_attribute.api_name],
                "attributes": [{"apiName": k, "value": v} for k, v in data.items() if k in names and v != ""]}

    def _activities(self, items: list[Item]) -> None:
        if not items:
            return
        if self.target.activity is None or self.activity_type_id() is None:
            for i in items:
                i.reject("the custom activity type is not in Marketo (apply the Marketo manifest first)")
            return
        if self.dry_run:
            for i in items:
                i.confirm()
            return
        for chunk in _chunks(items):
            self._send_activities(chunk)

    def _send_activities(self, chunk: list[Item], attempts: int = 3) -> None:
        """One call of activities (write-once). A lost reply is read back before anything is sent again:
        the activities Marketo has are confirmed, only the others go again. What is still unknown after
        ``attempts`` stays ``sent`` in the ledger (pending): the next run reads it back first."""
        payloads = {i.key: self.activity_record(i) for i in chunk}
        self.ledger.mark_many([(i.target, i.key, i.digest, "sent", None, None, payloads[i.key], i.row.where, None)
                               for i in chunk])  # in flight: a crash from here on is reconciled by reading back
        self.ledger.commit()
        todo = list(chunk)
        for _ in range(attempts):
            try:
                result = self.client.post_json("/rest/v1/activities/external.json",
                                               {"input": [payloads[i.key] for i in todo]})
            except WriteOutcomeUnknown:
                found = self.read_back([(i.key, i.digest, payloads[i.key]) for i in todo])
                for i in todo:
                    if i.key in found:
                        i.confirm()
                todo = [i for i in todo if i.key not in found]
                if todo:
                    continue
                break
            for i, r in zip(todo, result):
                if r.get("status") == "added":
                    i.confirm(str(r.get("id")))
                else:
                    i.reject(_message(r))
            break
        self.settled(chunk)

    def read_back(self, sent: list[tuple[str, str, dict[str, Any]]], since: float | None = None) -> set[str]:
        """The keys of ``sent`` activities Marketo has (matched on lead, type, primary value and date)."""
        if not sent:
            return set()
        type_id = self.activity_type_id()
        start = datetime.fromtimestamp(since, timezone.utc) if since else datetime.now(timezone.utc)
        start -= timedelta(hours=1)
        token = self.client.envelope("GET", "/rest/v1/activities/pagingtoken.json",
                                     params={"sinceDatetime": start.strftime("%Y-%m-%dT%H:%M:%SZ")})["nextPageToken"]
        leads = sorted({int(p["leadId"]) for _, _, p in sent})
        seen: set[tuple[int, str, str]] = set()
        for start_i in range(0, len(leads), 30):
            page_token = token
            while True:
                env = self.client.envelope("GET", "/rest/v1/activities.json", params={
                    "nextPageToken": page_token, "activityTypeIds": str(type_id),
                    "leadIds": ",".join(str(x) for x in leads[start_i:start_i + 30])})
                for a in env.get("result") or []:
                    seen.add((int(a["leadId"]), str(a.get("primaryAttributeValue")), str(a.get("activityDate"))))
                if not env.get("moreResult"):
                    break
                page_token = env["nextPageToken"]
        return {key for key, _, p in sent
                if (int(p["leadId"]), str(p["primaryAttributeValue"]), str(p["activityDate"])) in seen}

    def reconcile(self) -> None:
        """Before anything is sent: wait for bulk imports a killed run left queued, and read back the
        activities it left in flight (write-once: never sent twice)."""
        if self.dry_run:
            return
        self.settle_imports()
        sent = list(self.ledger.in_state("mk.activity", "sent"))
        if sent:
            self.reconcile_activities([(k, d, p) for k, d, p, _ in sent], since=min(u for *_, u in sent))

    def reconcile_activities(self, sent: list[tuple[str, str, dict[str, Any]]],
                             since: float | None = None) -> tuple[int, int]:
        """Settle activities a killed run left ``sent``: found in Marketo → confirmed; not found → back to
        pending (sent again by this run). Returns ``(confirmed, pending)``."""
        found = self.read_back(sent, since)
        for key, digest, _ in sent:
            self.ledger.mark("mk.activity", key, digest, "confirmed" if key in found else "pending")
        self.ledger.commit()
        return len(found), len(sent) - len(found)
