"""Salesforce side of the sync: match people by email, create the missing, enrich, campaigns, members,
engagement and poll records — all in sObject Collections of 200 (one chunked IN query per object per batch).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from ..manifest.model import ManifestSet, SalesforceManifest
from ..providers.salesforce.connection import SalesforceConnection, campaign_read_calls
from ..providers.salesforce.bulk2 import JOB_CALLS, error as bulk_error
from ..providers.salesforce.data_client import MAX_COLLECTION, DataClient, RecordResult, same_values
from .cache import RunCache, SeenKeys
from . import policy
from .config import SyncConfig
from .ledger import Ledger
from .preflight import Writes, problems
from .sink import Refused, SinkBase, systemic
from .staging import Staging
from .work import Item
from .chunks import MATCH_CHARS, SF_JOB_BYTES

Person = tuple[str, str]  # (Contact|Lead, Id)


def _batches(items: Sequence[Any], size: int = MAX_COLLECTION) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class SalesforceSink(SinkBase):
    """Writes work items for the ``sf.*`` targets; keeps people and campaigns found so far in memory."""

    prefix, name = "sf.", "salesforce"

    def __init__(self, conn: SalesforceConnection, config: SyncConfig, dry_run: bool = False,
                 bulk_threshold: int = 2000, ledger: Ledger | None = None) -> None:
        assert config.salesforce is not None
        self.ledger = ledger  # Bulk API jobs are recorded there while they run (a killed run's are read back)
        self._recovered: dict[str, dict[str, RecordResult]] = {}  # object → key → result of a killed run's jobs
        self.bulk_threshold = bulk_threshold  # above this many records per object per batch: Bulk API 2.0
        self._bulk: Any = None
        self.conn, self.config, self.target, self.dry_run = conn, config, config.salesforce, dry_run
        self.people: RunCache[Person | None] = RunCache()  # 20,000 in memory, the rest on disk
        self.created: RunCache[bool] = RunCache()  # people this run created (nothing to enrich)
        self.campaigns: dict[str, tuple[str, set[str]] | None] = {}
        self.missing: dict[str, str] = {}  # session → why it has no campaign (the rows' reject reason)
        self.planned_campaigns: list[str] = []  # dry run: campaigns the sessions policy would create
        self._campaign_names: list[str] | None = None
        self.counts: dict[str, int] = {"matched Contact": 0, "matched Lead": 0, "created": 0}
        self.by_status: dict[str, int] = {}
        self.checked: set[str] = set()  # targets whose objects passed preflight
        self.described: dict[str, dict[str, Any] | None] = {}  # object → its describe, read once per run
        self._fresh: set[str] = set()  # sessions whose campaigns the preflight read
        self._to_check: list[str] = []
        self.staging: Staging | None = None  # run-wide mode: records gathered for one job per object
        self.person_errors: RunCache[str] = RunCache()  # e-mail → why its person could not be created
        self._to_match: dict[str, None] = {}  # e-mails gathered for matching (run-wide mode)
        self._to_match_chars = 0
        self._staged_people: RunCache[bool] = RunCache()
        self._sends: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}  # object → (external, not_updateable, fills)

    # -- run-wide mode -----------------------------------------------------------------------

    def begin(self, totals: dict[str, int]) -> None:
        """Above the threshold in the run, every object's records are gathered over the windows and sent in
        one Bulk job per object (people created first, in a pass of their own, so members can name them)."""
        super().begin(totals)
        if sum(totals.values()) > self.bulk_threshold:
            if self.dry_run:  # the forecast matches as the real run does, across windows (reads only)
                self.passes = ("match", "write")
            else:
                self.staging = Staging()
                self.passes = ("match", "people", "write")

    def end_pass(self, name: str) -> None:
        if name == "match" and self._to_match:
            self.match(list(self._to_match))
            self._to_match.clear()
            self._to_match_chars = 0
        if self.staging is None:
            return
        if name == "people":
            self._create_staged()
        elif name == "write":
            try:
                for sobject in self.staging.buckets():
                    if sobject != "people":
                        self._send_staged(sobject)
            finally:
                self.staging.close()
                self.staging = None
        self.trim()

    def trim(self) -> None:
        """Spill what the run caches hold beyond their limits: every look-up of a spilled entry (``in`` included)
        brings it back into memory, so a window that only looks (the engagement rows of people staged by
        their registrations) would otherwise bring back every e-mail of the input."""
        for cache in self._caches:
            cache.trim()

    @property
    def _caches(self) -> tuple[RunCache[Any], ...]:
        """The run caches keyed by e-mail (trimmed and loaded together)."""
        return (self.people, self.created, self.person_errors, self._staged_people)

    # -- preflight --------------------------------------------------------------------------

    def planned(self) -> dict[str, list[str]]:
        """Dry run: the campaigns the sessions policy would create."""
        return {"Salesforce campaigns": list(self.planned_campaigns)} if self.planned_campaigns else {}
    def prepare(self, targets: list[str]) -> None:
        """Note the targets the run writes; their preflight (:meth:`preflight`) rides on the first read the
        run makes anyway, before anything is written."""
        self._to_check = sorted(set(targets) - self.checked)

    def read_ahead(self, first: list[Item]) -> None:
        """The preflight's Composite call (describes and the first window's campaigns): its reply states the
        org's API usage (Sforce-Limit-Info), so the check before writing reads no ``/limits``."""
        self.preflight([i.row.data["session"] for i in first])

    def preflight(self, sessions: list[str]) -> None:
        """Before the first write: read the describe of the objects the run's targets write and refuse (naming
        object and field) when the org requires a field the sync does not fill, or lacks or hides one it
        fills. One describe per object per run, all in one Composite call that also reads the campaigns of
        ``sessions`` (when their names fit one query)."""
        from ..providers.salesforce.connection import CAMPAIGNS_QUERY
        from ..providers.salesforce.soql import in_chunks

        targets = sorted(set(self._to_check) - self.checked)
        self._to_check = []
        if not targets:
            return
        wanted = [w.sobject for w in self.writes(targets) if w.sobject not in self.described]
        names = [n for n in dict.fromkeys(sessions) if n not in self.campaigns]
        queries = list(in_chunks(CAMPAIGNS_QUERY, names)) if names else []
        if wanted and self.dry_run:  # a dry run sends GETs only: the org's log shows it wrote nothing
            before = int(getattr(self.conn, "calls", 0))
            self.described.update({w: self.conn.data.describe(w) for w in wanted})
            if len(queries) == 1:
                self.conn.forget_campaign_names(names)
                self.conn.remember_campaigns(names, self.conn.data.query(queries[0], "preflight: read the campaigns"))
                self._fresh.update(names)
            # the real run reads all of this in one Composite call: the rest were made only by the dry run
            self.dry_reads += max(0, int(getattr(self.conn, "calls", 0)) - before - 1)
        elif wanted:
            described, rows = self.conn.data.describe_and_query(wanted, queries[0] if len(queries) == 1 else None,
                                                                what="preflight: describe the objects the sync writes")
            self.described.update(described)
            if len(queries) == 1:
                self.conn.forget_campaign_names(names)
                self.conn.remember_campaigns(names, rows)
                self._fresh.update(names)
        found: list[str] = []
        for writes in self.writes(targets):
            found += problems(writes, self.described[writes.sobject])
        if found:
            raise Refused("preflight: the org would reject what this sync writes, so nothing was sent for "
                          f"{', '.join(targets)}: " + "; ".join(found))
        self.checked.update(targets)

    def writes(self, targets: list[str]) -> list[Writes]:
        """The objects ``targets`` write and the fields the sync fills on each (``sf.member`` also covers the
        people it creates and enriches)."""
        t = self.target
        out: dict[str, Writes] = {}

        def add(sobject: str, why: str, fills: set[str] = set(), updates: set[str] = set()) -> None:
            w = out.setdefault(sobject, Writes(sobject, why=why))
            w.fills |= fills
            w.updates |= updates

        for target in targets:
            why = f"{target.split('.')[1]} rows"
            people = set(t.mappings.get(t.create_as, {})) | {"Email"} | \
                {f for f in t.fallbacks if t.create_as == "Lead" or f != "Company"}
            add(t.create_as, why, fills=people)
            for obj in ("Contact", "Lead"):
                if obj != t.create_as and t.mappings.get(obj):
                    add(obj, why, updates=set(t.mappings[obj]) - {"Email"})
            if target in ("sf.member", "sf.replay"):
                member = {t.member_external_id, "CampaignId", "LeadId", "ContactId"}
                member |= {"Status"} if target == "sf.member" else {t.replay_field} if t.replay_field else set()
                add("CampaignMember", why, fills=member)
            obj = t.engagement if target == "sf.engagement" else t.polls if target == "sf.poll" else None
            if obj is not None:
                add(obj.api_name, why, fills={f.api_name for f in obj.fields if f.type != "Lookup" or f.name == "Lead"})
        return list(out.values())

    def bulk(self) -> Any:
        """The Bulk API 2.0 client, made on first use."""
        if self._bulk is None:
            from ..providers.salesforce.bulk2 import Bulk2Client
            self._bulk = Bulk2Client(self.conn.sf, self.conn.relogin)
            self._bulk.on_job = self._job_started
        return self._bulk

    def _job_started(self, job_id: str, sobject: str) -> None:
        if self.ledger is not None:
            self.ledger.mark("sf.job", job_id, "", "sent", payload={"object": sobject})
            self.ledger.commit()

    def _jobs_settled(self, sobject: str) -> None:
        """The rows of every recorded job of ``sobject`` are in the ledger now: the jobs need no reading back."""
        if self.ledger is None:
            return
        for job_id, _, payload, _ in self.ledger.in_state("sf.job", "sent"):
            if (payload or {}).get("object") == sobject:
                self.ledger.mark("sf.job", job_id, "", "confirmed")
        self.ledger.commit()

    def recovered(self, sobject: str, external: str) -> dict[str, RecordResult]:
        """What Bulk API jobs of ``sobject`` that a killed run left behind wrote, by external id (read once per
        run): their rows are confirmed from the job's results instead of being sent again."""
        if sobject not in self._recovered:
            found: dict[str, RecordResult] = {}
            if self.ledger is not None and not self.dry_run:
                for job_id, _, payload, _ in list(self.ledger.in_state("sf.job", "sent")):
                    if (payload or {}).get("object") == sobject:
                        found.update(self.bulk().finished(job_id, external) or {})
            self._recovered[sobject] = found
        return self._recovered[sobject]

    # -- forecast -------------------------------------------------------------------------
    def write_calls(self, sends: Mapping[str, int]) -> int:
        """Calls :meth:`write` makes for the run's ``sends`` (``"create Lead"``, ``"update Contact"``,
        ``"upsert CampaignMember"``: records per write): a collection call per ``MAX_COLLECTION`` records, or
        one Bulk API 2.0 job (``JOB_CALLS``) above ``bulk_threshold`` for creates and upserts (updates always
        go in collections); ``"again CampaignMember"``: members that exist already, sent a second time without
        the fields Salesforce does not update; ``"read: ..."``: calls to read (before a real run only).
        Assumes every job completes at its first status poll, holds under 100 MB of CSV, and that no call is
        retried."""
        calls = sum(n for what, n in sends.items() if what.startswith("read: "))
        for what, records in sends.items():
            if records <= 0 or what.startswith(("again ", "read: ")):
                continue
            bulk = not what.startswith("update ") and records > self.bulk_threshold
            ids = what.startswith("create ")  # an insert's Ids are read from its successfulResults
            calls += JOB_CALLS + ids if bulk else -(-records // MAX_COLLECTION)
            again = sends.get(f"again {what.split(' ', 1)[1]}", 0) if what.startswith("upsert ") else 0
            if again and bulk:  # the job's existing members, sent again at once
                calls += JOB_CALLS if again > self.bulk_threshold else -(-again // MAX_COLLECTION)
            elif again:  # each collection holding one is sent again (its existing members only)
                calls += sends.get(f"again {what.split(' ', 1)[1]} collections", 0)
        return calls

    def most_sends(self, items: list[Item]) -> dict[str, int]:
        """The most one batch's ``items`` could send, before matching: one member per session and person, one
        engagement/poll record per session, person and entry, and of the people, the split between created
        (not enriched) and matched (enriched when they registered) that costs the most calls. And the reads
        ahead: describes, campaigns and matching queries for what earlier batches did not read (every e-mail
        queried on every object of the matching order); call it on the batches in order."""
        t = self.target
        if self._forecast_seen is None:  # the e-mails' table is opened only by a run that forecasts
            self._forecast_seen = {"objects": set(), "sessions": set(), "emails": SeenKeys()}
        seen = self._forecast_seen
        sends: dict[str, int] = {}
        objects = {w.sobject for w in self.writes(sorted({i.target for i in items}))} - seen["objects"]
        sessions = [s for s in dict.fromkeys(i.row.data["session"] for i in items) if s not in seen["sessions"]]
        emails = seen["emails"].first(i.row.data["email"].lower() for i in items)  # every e-mail of the input: on disk
        seen["objects"] |= objects
        seen["sessions"] |= set(sessions)
        sends["read: describe"] = len(objects - set(self.described))
        sends["read: campaigns"] = campaign_read_calls(sessions) if sessions else 0
        sends["read: match"] = sum(DataClient.query_in_calls(policy.match_soql(obj, t.matching), emails)
                                   for obj in t.matching.order)
        members = {(i.row.data["session"], i.row.data["email"].lower()) for i in items
                   if i.target in ("sf.member", "sf.replay")}
        sends["upsert CampaignMember"] = len(members)  # and any of them may exist already:
        sends["again CampaignMember"] = len(members)
        sends["again CampaignMember collections"] = -(-len(members) // MAX_COLLECTION)
        for target, obj in (("sf.engagement", t.engagement), ("sf.poll", t.polls)):
            entries = {(i.row.data["session"], i.row.data["email"].lower(), i.row.data.get("entry_id", ""))
                       for i in items if i.target == target}
            if entries and obj is not None:
                sends[f"upsert {obj.api_name}"] = len(entries)
        people = len({i.row.data["email"].lower() for i in items})
        registrants = len({i.row.data["email"].lower() for i in items if i.target == "sf.member"})
        both = all(t.mappings.get(o) for o in ("Contact", "Lead"))  # matched people of both kinds: one call more
        split = {0, people, min(people, self.bulk_threshold + 1)}
        split |= set(range(1, min(people, self.bulk_threshold + 1) + 1, MAX_COLLECTION))
        worst: dict[str, int] = {}
        for created in split:
            updated = min(people - created, registrants)
            case = dict(sends, **{f"create {t.create_as}": created, "update Contact": updated,
                                  "update Lead": 1 if both and updated > 1 else 0})
            if not worst or self.write_calls(case) > self.write_calls(worst):
                worst = case
        return worst

    # -- people ---------------------------------------------------------------------------
    def match(self, emails: list[str]) -> None:
        """Find people for emails not looked up yet, by the manifest's matching policy (order, duplicates,
        converted Leads: :mod:`.policy`)."""
        todo = [e for e in dict.fromkeys(e.lower() for e in emails) if e not in self.people]
        if not todo:
            return
        matching = self.target.matching
        found: dict[str, list[dict[str, Any]]] = {}
        left = list(todo)
        for obj in matching.order:
            if not left:
                break
            found[obj] = self.conn.data.query_in(policy.match_soql(obj, matching), left, what=f"match {obj} by email")
            chosen = policy.choose_people(found, left, matching)
            left = [e for e in left if e not in chosen]
        chosen = policy.choose_people(found, todo, matching)
        for obj, _ in chosen.values():
            self.counts[f"matched {obj}"] += 1
        for email in todo:
            self.people[email] = chosen.get(email)
        if len(self.passes) > 1:  # a match pass finds many windows' e-mails at once: keep the cache small
            self.people.trim()

    def create_missing(self, items: list[Item]) -> None:
        """Create a Lead (or Contact) for every email still unmatched, with the manifest's fallbacks."""
        obj = self.target.create_as
        mapping = self.target.mappings.get(obj, {"Email": "email"})
        first: dict[str, Item] = {}
        for item in items:
            email = item.row.data["email"].lower()
            if self.people.get(email) is None and email not in self.person_errors and email not in self._staged_people:
                if email not in first or (item.row.kind == "registration" and first[email].row.kind != "registration"):
                    first[email] = item
        if not first:
            return
        records = []
        for email, item in first.items():
            record = {field: item.row.data[col] for field, col in mapping.items() if item.row.data.get(col)}
            record["Email"] = item.row.data["email"]
            for field, fallback in self.target.fallbacks.items():
                if (obj == "Lead" or field != "Company") and not record.get(field):
                    record[field] = fallback
            records.append(record)
        if self.staging is not None:  # run-wide mode: created in one go when the pass ends
            self.staging.add_many("people", [(email, record, []) for email, record in zip(first, records)])
            for email in first:
                self._staged_people[email] = True
            self._staged_people.trim()
            return
        if self.dry_run:
            self.would_send(f"create {obj}", len(records))
            self.counts["created"] += len(records)
            for n, email in enumerate(first, start=self.counts["created"] - len(records)):
                self.people[email] = (obj, f"(new {obj} {n})")  # one placeholder each: members stay apart
            return

        def already(batch: Sequence[dict[str, Any]]) -> list[RecordResult] | None:
            ids = self._find_created(obj, [r["Email"] for r in batch])
            if all(r["Email"].lower() in ids for r in batch):
                return [RecordResult(ids[r["Email"].lower()], True, created=True) for r in batch]
            return None

        if len(records) > self.bulk_threshold:
            results = self.bulk().insert(obj, records, "Email")
            missing = [i for i, r in enumerate(results) if not r.success and r.errors
                       and str(r.errors[0].get("statusCode", "")).startswith("BULK_JOB")]
            if missing:  # the job did not settle these: read back by email, create only what is not there
                ids = self._find_created(obj, [records[i]["Email"] for i in missing])
                for i in missing:
                    if records[i]["Email"].lower() in ids:
                        results[i] = RecordResult(ids[records[i]["Email"].lower()], True, created=True)
                missing = [i for i in missing if not results[i].success]
                for i, r in zip(missing, self.conn.data.create(obj, [records[i] for i in missing], verify=already)):
                    results[i] = r
        else:
            results = self.conn.data.create(obj, records, verify=already)
        problem = systemic(f"create {obj}", [None if r.success else r.errors for r in results],
                           [*records, dict.fromkeys([*mapping, *self.target.fallbacks])])  # fields rows may fill
        if problem:
            raise Refused(problem)
        for (email, item), result in zip(first.items(), results):
            if not self._person_created(obj, email, result):
                item.extra["person_error"] = result.message()

    def _person_created(self, obj: str, email: str, result: RecordResult) -> bool:
        """Remember the person ``result`` created for ``email`` (or that none was); whether one was."""
        if result.success and result.id:
            self.people[email] = (obj, result.id)
            self.created[email] = True
            self.counts["created"] += 1
            return True
        self.people[email] = None
        return False

    def _find_created(self, obj: str, emails: list[str]) -> dict[str, str]:
        """``email → Id`` of the oldest ``obj`` with each e-mail (what a lost reply may have created); a
        converted Lead is never it (matching ignored it, so the creation was for a new one)."""
        converted = " AND IsConverted = false" if obj == "Lead" else ""
        rows = self.conn.data.query_in(f"SELECT Id, Email FROM {obj} WHERE Email IN ({{values}}){converted} "
                                       "ORDER BY CreatedDate ASC", [e.lower() for e in emails],
                                       what="find created people")
        ids: dict[str, str] = {}
        for r in rows:
            ids.setdefault((r.get("Email") or "").lower(), r["Id"])
        return ids

    def enrich(self, items: list[Item]) -> None:
        """Update matched (not newly created) people with the mapped fields of their registration rows."""
        updates: dict[str, tuple[str, dict[str, Any]]] = {}
        for item in items:
            if item.row.kind != "registration" or item.row.data["email"].lower() in self.created:
                continue
            person = self.people.get(item.row.data["email"].lower())
            if person is None or person[1].startswith("("):
                continue
            obj, pid = person
            mapping = self.target.mappings.get(obj, {})
            values = {f: item.row.data[c] for f, c in mapping.items() if item.row.data.get(c) and f != "Email"}
            if values:
                updates.setdefault(pid, (obj, {}))[1].update(values)
        if self.dry_run:
            for obj in ("Contact", "Lead"):
                self.would_send(f"update {obj}", sum(1 for o, _ in updates.values() if o == obj))
            return
        for obj in ("Contact", "Lead"):
            records = [dict(values, Id=pid) for pid, (o, values) in updates.items() if o == obj]
            if records:
                self.conn.data.update(obj, records)  # a failed enrichment does not stop the membership

    # -- campaigns ------------------------------------------------------------------------
    def ensure_campaigns(self, items: list[Item]) -> None:
        """A campaign per session: found by name; a missing one is created from the template's statuses (via
        plan/apply) only when the Sync manifest's sessions policy says so (:func:`.policy.may_create`), else
        its rows are rejected with the nearest existing name as a hint."""
        first: dict[str, Item] = {}
        for item in items:
            first.setdefault(item.row.data["session"], item)
        todo = [s for s in first if s not in self.campaigns]
        if not todo:
            return
        self.conn.forget_campaign_names([s for s in todo if s not in self._fresh])  # read by this run's preflight
        found = self.conn.read_campaigns(todo)
        wanted = set(self.target.campaign_template.labels())
        refused = {s: policy.may_create(self.config.sessions, first[s].row.data) for s in todo if not found.get(s)}
        # Missing, or created by a run that was killed before its statuses were: converge both.
        failures: dict[str, str] = {}
        missing = [s for s in todo if (not found.get(s) and refused[s] is None)
                   or (found.get(s) and self.config.sessions.create
                       and not wanted <= {st["Label"] for st in found[s]["statuses"]})]
        if missing and not self.dry_run:
            failures = self._create_campaigns(missing, {s: found[s] for s in missing if found.get(s)})
            self.conn.forget_campaign_names(missing)
            found.update(self.conn.read_campaigns(missing))
        for s in todo:
            c = found.get(s)
            if c:
                self.campaigns[s] = (c["Id"], {st["Label"] for st in c["statuses"]})
            elif self.dry_run and refused.get(s) is None:
                self.campaigns[s] = (f"(new campaign {s})", set(self.target.campaign_template.labels()))
                self.planned_campaigns.append(s)
            else:
                self.campaigns[s] = None
                self.missing[s] = policy.missing_session("campaign", s, self.campaign_names(),
                                                         refused.get(s) or failures.get(s, "it could not be created"))

    def with_campaign(self, items: list[Item]) -> list[Item]:
        """The items whose session has a campaign; the others are rejected with the reason (and hint)."""
        kept = []
        for item in items:
            session = item.row.data["session"]
            if self.campaigns.get(session) is None:
                item.reject(self.missing.get(session) or f"no campaign {session!r}")
            else:
                kept.append(item)
        return kept

    def campaign_names(self) -> list[str]:
        """Names of the org's campaigns (newest 2,000), read once, for "did you mean" hints."""
        if self._campaign_names is None:
            rows = self.conn.data.query("SELECT Name FROM Campaign ORDER BY CreatedDate DESC LIMIT 2000",
                                        what="campaign names for a hint")
            self._campaign_names = [r["Name"] for r in rows if r.get("Name")]
        return self._campaign_names

    def _create_campaigns(self, names: list[str], existing: dict[str, dict[str, Any]] | None = None
                          ) -> dict[str, str]:
        """Create (or complete) session campaigns with the template's statuses; an existing one keeps its type
        and description. Returns ``name → why`` for the campaigns that failed."""
        from ..plan import make_plan
        from ..plan.engine import apply_saved_plan
        from ..providers.salesforce.provider import SalesforceProvider
        from ..providers.salesforce.resources.campaign import KIND as CAMPAIGN
        from ..providers.salesforce.resources.campaign_status import KIND as STATUS

        template = self.target.campaign_template
        existing = existing or {}
        manifest = SalesforceManifest("sync-campaigns", template.location, campaign_statuses=tuple(
            replace(template, campaign=name,
                    type=existing[name].get("Type") if name in existing else template.type,
                    description=existing[name].get("Description") if name in existing
                    else f"{template.campaign}: {name} (provisioner sync)")
            for name in names))
        provider = SalesforceProvider()
        kinds = [k for k in provider.kinds() if k.name in (CAMPAIGN, STATUS)]
        desired = provider.desired(ManifestSet(salesforce=[manifest]))
        plan = make_plan(kinds, desired, {"salesforce": self.conn})
        report = apply_saved_plan(plan, plan, kinds, {"salesforce": self.conn}, allow_destroy=False)
        failures: dict[str, str] = {}
        for r in report.results:  # the campaign's own failure comes before its statuses' "skipped"
            for name in names:
                if not r.ok and f'"{name}"' in r.address:
                    failures.setdefault(name, f"Salesforce refused it: {r.message}")
        return failures

    # -- members, engagement, polls --------------------------------------------------------
    def write(self, items: list[Item], name: str = "write") -> None:
        """Write every ``sf.*`` item of one window; each ends confirmed or rejected (run-wide mode: the
        ``match`` and ``people`` passes find and stage people, ``write`` stages the records)."""
        if not items:
            return
        self.preflight([i.row.data["session"] for i in items])
        self.trim()
        emails = [i.row.data["email"].lower() for i in items]
        for cache in self._caches:
            cache.load(emails)  # what this window looks up, in one query per 500 e-mails
        if name == "match":
            self.ensure_campaigns(items)  # sessions first: nobody is created for a row whose session has no campaign
            kept = self.with_campaign(items)
            self.settled([i for i in items if i.state == "rejected"])
            for item in kept:
                email = item.row.data["email"].lower()
                if email not in self._to_match and email not in self.people:
                    self._to_match[email] = None
                    self._to_match_chars += len(email) + 3
                    if self._to_match_chars >= MATCH_CHARS:  # six full Composite calls' worth
                        self.match(list(self._to_match))
                        self._to_match.clear()
                        self._to_match_chars = 0
            return
        if name == "people":
            self.create_missing(self.with_campaign(items))
            return
        self.ensure_campaigns(items)
        items = self.with_campaign(items)
        if self.staging is None:
            self.match([i.row.data["email"] for i in items])
            self.create_missing(items)
        self.enrich([i for i in items if i.target == "sf.member"])
        ready: list[Item] = []
        for item in items:
            person = self.people.get(item.row.data["email"].lower())
            campaign = self.campaigns.get(item.row.data["session"])
            if person is None:
                item.reject(f"could not create the {self.target.create_as}: "
                            f"{item.extra.get('person_error') or self.person_errors.get(item.row.data['email'].lower()) or 'no record'}")
            elif campaign is None:
                item.reject(self.missing.get(item.row.data["session"]) or f"no campaign {item.row.data['session']!r}")
            else:
                item.extra["person"], item.extra["campaign"] = person, campaign
                item.extra["member_key"] = f"{campaign[0]}_{person[1]}"
                ready.append(item)
        self._members([i for i in ready if i.target in ("sf.member", "sf.replay")])
        self._records("sf.engagement", [i for i in ready if i.target == "sf.engagement"])
        self._records("sf.poll", [i for i in ready if i.target == "sf.poll"])

    def _members(self, items: list[Item]) -> None:
        external = self.target.member_external_id
        records: dict[str, dict[str, Any]] = {}
        owners: dict[str, list[Item]] = {}
        for item in items:
            (obj, pid), (cid, labels) = item.extra["person"], item.extra["campaign"]
            key = item.extra["member_key"]
            record = records.setdefault(key, {external: key, "CampaignId": cid,
                                              "LeadId" if obj == "Lead" else "ContactId": pid})
            if item.target == "sf.member":
                status = self.config.status_for("salesforce", item.row.data["status"])
                if status is None or status not in labels:
                    item.reject(f"status {item.row.data['status']!r} maps to no status of campaign "
                                f"{item.row.data['session']!r}")
                    continue
                record["Status"] = status
            elif self.target.replay_field:
                record[self.target.replay_field] = item.row.data["status"]
            else:
                item.reject("the Sync manifest names no replayStatusField")
                continue
            owners.setdefault(key, []).append(item)
        sendable = [records[k] for k in owners]
        if self.dry_run:
            self.would_send("upsert CampaignMember", len(sendable))
            self._members_again(list(owners))
            for key, its in owners.items():
                self._count_status(records[key])
                for i in its:
                    i.confirm()
            return
        def settle(record: dict[str, Any], result: RecordResult) -> list[Item]:
            for i in owners[record[external]]:
                if result.success:
                    i.confirm(result.id)
                else:
                    i.reject(result.message())
            if result.success:
                self._count_status(record)
            return owners[record[external]]

        self._send("CampaignMember", external, sendable, settle, owners,
                   not_updateable=("CampaignId", "LeadId", "ContactId"))

    def _members_again(self, keys: list[str]) -> None:
        """Dry run: the members that exist already, which :meth:`_upsert` sends a second time without the fields
        Salesforce does not update (``"again CampaignMember"``), and how many collections of 200 hold one
        (``"again CampaignMember collections"``). Read by external id; a real run does not make this read, so
        its calls are not the run's (``dry_reads``)."""
        maybe = [k for k in keys if "(" not in k]  # a person or campaign the run would create: a new member
        if not maybe:
            return
        before = int(getattr(self.conn, "calls", 0))
        external = self.target.member_external_id
        found = {str(r.get(external) or "").lower() for r in self.conn.data.query_in(
            f"SELECT {external} FROM CampaignMember WHERE {external} IN ({{values}})", maybe,
            what="existing campaign members")}
        self.dry_reads += int(getattr(self.conn, "calls", 0)) - before
        again = [n for n, k in enumerate(keys) if k.lower() in found]
        if again and sum(self.totals.get(t, 0) for t in ("sf.member", "sf.replay")) > self.bulk_threshold:
            self.uncounted = "members that exist already, sent again after a Bulk job refuses their create-only fields"
        self.would_send("again CampaignMember", len(again))
        self.would_send("again CampaignMember collections", len({n // MAX_COLLECTION for n in again}))

    def _count_status(self, record: dict[str, Any]) -> None:
        if "Status" in record:
            self.by_status[record["Status"]] = self.by_status.get(record["Status"], 0) + 1

    def _records(self, target: str, items: list[Item]) -> None:
        obj = self.target.engagement if target == "sf.engagement" else self.target.polls
        if not items:
            return
        if obj is None:
            for i in items:
                i.reject(f"the Sync manifest names no Salesforce object for {target.split('.')[1]} rows")
            return
        names = {f.name for f in obj.fields}
        records: dict[str, dict[str, Any]] = {}
        owners: dict[str, list[Item]] = {}
        for item in items:
            data = item.row.data
            (pobj, pid) = item.extra["person"]
            key = f"{item.extra['member_key']}_{data['entry_id']}"
            record = records.setdefault(key, {"external_id__c": key})
            if "campaign_member" in names:
                record["campaign_member__c"] = item.extra["member_key"]
            if "Lead" in names and pobj == "Lead":
                record["Lead__c"] = pid
            if target == "sf.poll":
                n = data["poll_number"]
                for part in ("type", "question", "answer"):
                    if f"poll_{n}_{part}" in names and data.get(part):
                        record[f"poll_{n}_{part}__c"] = data[part]
                for column in ("entry_id", "entry_name", "email"):
                    if column in names and data.get(column):
                        record[f"{column}__c"] = data[column]
            else:
                for column, value in data.items():
                    f = self.config.salesforce_field(obj, column)
                    if f is not None and value != "" and f.type != "Lookup" and f.name != "external_id":
                        record[f.api_name] = value
            owners.setdefault(key, []).append(item)
        sendable = [records[k] for k in owners]
        if self.dry_run:
            self.would_send(f"upsert {obj.api_name}", len(sendable))
            for its in owners.values():
                for i in its:
                    i.confirm()
            return
        def settle(record: dict[str, Any], result: RecordResult) -> list[Item]:
            for i in owners[record["external_id__c"]]:
                if result.success:
                    i.confirm(result.id)
                else:
                    i.reject(result.message())
            return owners[record["external_id__c"]]

        self._send(obj.api_name, "external_id__c", sendable, settle, owners, fills=tuple(f.api_name for f in obj.fields))

    def _send(self, sobject: str, external: str, records: list[dict[str, Any]],
              settle: Callable[[dict[str, Any], RecordResult], list[Item]], owners: dict[str, list[Item]],
              not_updateable: tuple[str, ...] = (), fills: tuple[str, ...] = ()) -> None:
        """Upsert ``records`` one API call at a time (a collection of 200, or one Bulk API 2.0 job above the
        threshold); after each, its items are settled (in the ledger at once) and a call whose records all
        failed the same systemic way stops the run (:class:`Refused`) instead of failing the rest one by one."""
        if self.staging is not None:  # run-wide mode: gathered for one job when the pass ends
            self._sends[sobject] = (external, not_updateable, fills)
            earlier = self.recovered(sobject, external)
            done: list[Item] = []
            staged = []
            for r in records:
                if self._written(earlier, r, external):
                    done += settle(r, earlier[str(r[external]).lower()])
                    continue
                key = str(r[external])
                staged.append((key, r, owners[key]))
            self.staging.add_many(sobject, staged)
            if done:
                self.settled(done)
            return
        bulk = len(records) > self.bulk_threshold
        if bulk:  # rows a killed run's job already wrote, with these values, are not sent again
            earlier = self.recovered(sobject, external)
            again = [r for r in records if not self._written(earlier, r, external)]
            if len(again) < len(records):
                self.settled([i for r in records if self._written(earlier, r, external)
                              for i in settle(r, earlier[str(r[external]).lower()])])
            records = again
        calls = [records] if bulk else _batches(records)
        for chunk in calls:
            if not chunk:
                continue
            results = self._upsert(sobject, external, list(chunk), not_updateable)
            done: list[Item] = []
            for record, result in zip(chunk, results):
                done += settle(record, result)
            problem = systemic(f"upsert {sobject}", [None if r.success else r.errors for r in results],
                               [*chunk, dict.fromkeys(fills)])
            if problem:  # not the rows' fault: they stay pending, so the run after the fix sends them
                for i in done:
                    i.state, i.reason = "pending", None
                raise Refused(problem)
            self.settled(done)
            if bulk:
                self._jobs_settled(sobject)

    def _create_staged(self) -> None:
        """Create every staged person: one Bulk insert job (per 100 MB) above the threshold, else collections.
        The new Ids go to the people cache; a row the job did not settle is read back by e-mail before it
        is created again (an insert is not idempotent)."""
        assert self.staging is not None
        if not self.staging.sizes.get("people"):
            return
        obj = self.target.create_as
        mapping = self.target.mappings.get(obj, {"Email": "email"})
        if self.staging.sizes["people"] <= self.bulk_threshold:
            emails, records = zip(*self.staging.records("people"))
            self._settle_people(obj, mapping, list(emails), self._create_rest(obj, list(records)), list(records))
            return
        for part in self.staging.csv_files("people", SF_JOB_BYTES):
            run = self.bulk().run_file("insert", obj, part.path)
            for n, row in enumerate(self.bulk().rows(run.job_id, "successfulResults"), start=1):
                email = row["Email"].lower()  # streamed into the people cache: never all in memory
                self.people[email] = (obj, row["sf__Id"])
                self.created[email] = True
                self.counts["created"] += 1
                if n % 10_000 == 0:
                    self.trim()
            failed: dict[str, RecordResult] = {}
            if run.failed or run.state != "JobComplete":
                for row in self.bulk().rows(run.job_id, "failedResults"):
                    failed[row["Email"].lower()] = RecordResult(None, False, [bulk_error(row["sf__Error"])])
            if failed and len(failed) == part.rows:
                problem = systemic(f"create {obj}", [r.errors for r in failed.values()],
                                   [dict.fromkeys([*mapping, *self.target.fallbacks])])
                if problem:
                    raise Refused(problem)
            for emails in self.staging.exts("people", part):
                for e in emails:
                    if e in failed:
                        self.people[e] = None
                        self.person_errors[e] = failed[e].message()
                unsettled = [e for e in emails if e not in failed and not self.people.get(e)]
                if unsettled:  # the job did not settle these: read back by e-mail, create only what is not there
                    found = self._find_created(obj, unsettled)
                    results = [RecordResult(found[e], True, [], True) for e in unsettled if e in found]
                    again = [e for e in unsettled if e not in found]
                    staged = dict(self.staging.records("people", again)) if again else {}
                    results += self._create_rest(obj, [staged[e] for e in again]) if again else []
                    emails_done = [e for e in unsettled if e in found] + again
                    self._settle_people(obj, mapping, emails_done, results,
                                        [staged.get(e, {"Email": e}) for e in emails_done])
                self.trim()  # each look-up above brought its person back into memory: 5,000 at a time
            self._jobs_settled(obj)

    def _create_rest(self, obj: str, records: list[dict[str, Any]]) -> list[RecordResult]:
        def already(batch: Sequence[dict[str, Any]]) -> list[RecordResult] | None:
            ids = self._find_created(obj, [r["Email"] for r in batch])
            if all(r["Email"].lower() in ids for r in batch):
                return [RecordResult(ids[r["Email"].lower()], True, created=True) for r in batch]
            return None
        return self.conn.data.create(obj, records, verify=already)

    def _settle_people(self, obj: str, mapping: dict[str, str], emails: list[str], results: list[RecordResult],
                       records: list[dict[str, Any]]) -> None:
        problem = systemic(f"create {obj}", [None if r.success else r.errors for r in results],
                           [*records, dict.fromkeys([*mapping, *self.target.fallbacks])])
        if problem:
            raise Refused(problem)
        for email, result in zip(emails, results):
            if not self._person_created(obj, email, result):
                self.person_errors[email] = result.message() or "no record"
        self.trim()

    def _send_staged(self, sobject: str) -> None:
        """Send one object's staged records: one Bulk upsert job per 100 MB above the threshold, else
        collections of 200; each settles the items it names (restored from the spool)."""
        assert self.staging is not None
        external, not_updateable, fills = self._sends[sobject]
        if self.staging.sizes[sobject] <= self.bulk_threshold:
            keys = [k for k, _ in self.staging.records(sobject)]
            for chunk in _batches(keys):
                records = [r for _, r in self.staging.records(sobject, list(chunk))]
                results = self._upsert(sobject, external, records, not_updateable)
                self._settle_staged(sobject, external, records, results, fills)
            return
        for part in self.staging.csv_files(sobject, SF_JOB_BYTES):
            run = self.bulk().run_file("upsert", sobject, part.path, external)
            all_ok = run.state == "JobComplete" and run.failed == 0 and run.processed == part.rows
            complete = run.state == "JobComplete" and run.processed == part.rows
            failed: dict[str, RecordResult] = {}
            if run.failed or not complete:
                for row in self.bulk().rows(run.job_id, "failedResults"):
                    failed[row[external].lower()] = RecordResult(row.get("sf__Id") or None, False,
                                                                 [bulk_error(row["sf__Error"])])
            done: set[str] = set()
            if not complete:
                done = {row[external].lower() for row in self.bulk().rows(run.job_id, "successfulResults")}
            if failed and not done and complete and len(failed) == part.rows and \
                    not any(self._retryable(r, external) for r in failed.values()):  # existing rows: sent again first
                sample = list(failed.values())
                problem = systemic(f"upsert {sobject}", [r.errors for r in sample], [dict.fromkeys(fills)])
                if problem:  # not the rows' fault: they stay pending, so the run after the fix sends them
                    raise Refused(problem)
            for keys in self.staging.exts(sobject, part):
                records = [r for _, r in self.staging.records(sobject, keys)]
                results = []
                again: list[int] = []
                trim_ok: set[int] = set()  # refused for a create-only field: the row exists
                for n, r in enumerate(records):
                    k = str(r[external]).lower()
                    if all_ok or k in done or (complete and k not in failed):
                        results.append(RecordResult(None, True, []))
                    elif k in failed and not self._retryable(failed[k], external):
                        results.append(failed[k])
                    else:  # not processed, a lost row race, or a create-only field on an existing row: send again
                        if not_updateable and k in failed and any(
                                "INVALID_FIELD_FOR_INSERT_UPDATE" in f"{e.get('statusCode')} {e.get('message')}"
                                for e in failed[k].errors):
                            trim_ok.add(n)
                        results.append(failed.get(k) or RecordResult(None, False, [{"statusCode": "BULK_JOB_" + run.state.upper(), "message": run.message}]))
                        again.append(n)
                # Rows that exist already go again without the fields Salesforce only sets on create (sending them
                # whole again would fail the same way); rows the job did not process go again as they were.
                existing = [n for n in again if n in trim_ok]
                fresh = [n for n in again if n not in trim_ok]
                if existing:
                    trimmed = [{k: v for k, v in records[n].items() if k not in not_updateable} for n in existing]
                    for n, r in zip(existing, self._upsert(sobject, external, trimmed)):
                        results[n] = r
                if fresh:
                    for n, r in zip(fresh, self._upsert(sobject, external, [records[n] for n in fresh], not_updateable)):
                        results[n] = r
                self._settle_staged(sobject, external, records, results, fills)
            self._jobs_settled(sobject)

    @staticmethod
    def _retryable(result: RecordResult, external: str) -> bool:
        from ..providers.salesforce.retry import lost_row_race
        return lost_row_race(result.errors, external) or any(
            "INVALID_FIELD_FOR_INSERT_UPDATE" in f"{e.get('statusCode')} {e.get('message')}" for e in result.errors)

    def _settle_staged(self, sobject: str, external: str, records: list[dict[str, Any]],
                       results: list[RecordResult], fills: tuple[str, ...]) -> None:
        """Settle the items of staged ``records`` by their results (restored from the spool), one commit."""
        assert self.staging is not None
        problem = systemic(f"upsert {sobject}", [None if r.success else r.errors for r in results],
                           [*records, dict.fromkeys(fills)])
        if problem:
            raise Refused(problem)
        keys = [str(r[external]) for r in records]
        owners = self.staging.owners(sobject, keys)
        items = self.restored(owners)
        done: list[Item] = []
        for key, record, result in zip(keys, records, results):
            for pair in owners.get(key, []):
                item = items.get(pair)
                if item is None:
                    continue
                if result.success:
                    item.confirm(result.id)
                else:
                    item.reject(result.message())
                done.append(item)
            if result.success:
                self._count_status(record)
        self.settled(done)

    @staticmethod
    def _written(done: dict[str, RecordResult], record: dict[str, Any], external: str) -> bool:
        result = done.get(str(record[external]).lower())
        return result is not None and result.success and result.sent is not None and same_values(result.sent, record)

    def _upsert(self, sobject: str, external: str, records: list[dict[str, Any]],
                not_updateable: tuple[str, ...] = ()) -> list[RecordResult]:
        """Upsert on ``external`` 200 per call; records that exist get a second try without create-only fields."""
        if len(records) > self.bulk_threshold:
            results = self.bulk().upsert(sobject, external, records)  # failed rows come back as rejects
        else:
            results = self.conn.data.upsert(sobject, external, records)
        if not_updateable:
            retry = [i for i, r in enumerate(results)
                     if not r.success and any("INVALID_FIELD_FOR_INSERT_UPDATE" in f"{e.get('statusCode')} {e.get('message')}"
                                              for e in r.errors)]
            if retry:
                trimmed = [{k: v for k, v in records[i].items() if k not in not_updateable} for i in retry]
                for i, result in zip(retry, self._upsert(sobject, external, trimmed)):
                    results[i] = result
        return results
