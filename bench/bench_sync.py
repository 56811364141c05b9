"""Benchmark `provisioner sync`: API calls against the minimum the APIs allow, a per-record peer, wall time
and peak memory.

Run: python bench/bench_sync.py [--rows 100000] [--latency-ms 100] [--peer-sample 300] [--memory-rows 1000000]

Workload: ROWS registrations (ROWS distinct new people over 10 sessions, Kaltura statuses) plus ROWS
engagement rows (one per person), synced to both targets of manifests/kaltura-sync.yaml against the
in-process sandbox. Calls are counted by the sandbox (GET /__sandbox/stats), token requests included.

Minimum calls (derived from the API limits, not from our code):
  Salesforce  1 token
              + match: 2 objects × the fewest IN queries that fit the 16 KB URI limit for all emails
                (in_chunks packs greedily to the limit, which is optimal for one ordered list)
              + campaigns: 1 read (all names in one query) + 1 Campaign create (≤ 200 in one collection)
                + 1 CampaignMemberStatus create (16 statuses × 10 campaigns ≤ 200 → 1 collection... the
                template's statuses per campaign; 160 records: 1 call) + 1 read-back of the statuses
              + 3 Bulk API 2.0 jobs (Leads insert, CampaignMember upsert, engagement upsert), each
                create + upload + close + 1 status poll + successfulResults + failedResults = 6
  Marketo     1 token + ceil(R/300) lead upserts (every person needs a lead id: custom activities take the
              numeric leadId and have no bulk import, and no bulk call returns ids — a REST upsert or
              a GET by email, 300 per call, either way) + per (program, Marketo status) group of n
              members min(ceil(n/300) REST calls, 2: one bulk program member import + one status
              poll) + for the E custom object records min(ceil(E/300), 2 per 10 MB import file) +
              ceil(E/300) activity calls + 1 activity type read + 1 template lookup + per session:
              1 program lookup + 1 clone. (A bulk import's failures/warnings files are read only when
              it reports failed or warned rows: none here.) Polling more than once per import is above
              the minimum: the sync polls with backoff (0.3 s doubling to 8 s, one call per round).
The sync streams in batches (--batch-rows); each batch re-pays the per-job overhead, so the default
batch here is the whole file. Peak memory is measured on `provisioner sync` itself (both targets, default
10,000-row batches) of --memory-rows rows in its own process, against a sandbox in this one, as the
process's peak resident set (VmHWM).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "sync"))

from provisioner.manifest import load  # noqa: E402
from provisioner.plan import apply_saved_plan  # noqa: E402
from provisioner.providers.marketo.bulk_import import MAX_FILE_BYTES  # noqa: E402
from provisioner.providers.marketo.client import connect  # noqa: E402
from provisioner.providers.marketo.ratelimit import Budget  # noqa: E402
from provisioner.providers.salesforce.connection import SalesforceConnection  # noqa: E402
from provisioner.providers.salesforce.soql import in_chunks  # noqa: E402
from provisioner.sandbox.runtime import Sandbox  # noqa: E402
from provisioner.sandbox.seed import channels_from_manifests  # noqa: E402
from provisioner.sync.config import build_config  # noqa: E402
from provisioner.sync.engine import SyncRun  # noqa: E402
from provisioner.sync.ledger import Ledger  # noqa: E402
from provisioner.sync.marketo_sink import MarketoSink  # noqa: E402
from provisioner.sync.rejects import Rejects  # noqa: E402
from provisioner.sync.salesforce_sink import SalesforceSink  # noqa: E402
from provisioner.sync.sources import read_rows  # noqa: E402
from provisioner.workflow import connect_session  # noqa: E402

MANIFESTS = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                    "kaltura-marketo.yaml", "kaltura-sync.yaml")]
SESSIONS = [f"Bench Session {i}" for i in range(10)]
STATUSES = ["Registered", "Confirmed email", "During-event visit", "Attended"]
FAST_MARKETO = Budget(calls=1_000_000, window_s=20, concurrent=5)  # see --real-marketo-rate


def write_data(folder: Path, rows: int) -> list[str]:
    """ROWS registrations and ROWS engagement rows, written streaming."""
    rng = random.Random(1)
    reg, eng = folder / "bench-registrations.csv", folder / "bench-engagement.csv"
    with reg.open("w", newline="") as r, eng.open("w", newline="") as e:
        rw, ew = csv.writer(r), csv.writer(e)
        rw.writerow(["email", "first_name", "last_name", "company", "session", "status", "time"])
        ew.writerow(["email", "session", "entry_id", "plays", "live_minutes_viewed", "time"])
        for i in range(rows):
            email, session = f"bench.person{i:07d}@example.com", SESSIONS[i % len(SESSIONS)]
            rw.writerow([email, f"F{i}", f"L{i}", f"C{i}", session, rng.choice(STATUSES), "2026-12-01T10:00:00Z"])
            ew.writerow([email, session, f"1_{i:08d}", rng.randint(1, 9), f"{rng.uniform(0, 60):.2f}",
                         "2026-12-01T11:00:00Z"])
    return [str(reg), str(eng)]


def start_sandbox(folder: Path, latency_ms: float) -> Sandbox:
    model = load(MANIFESTS).manifests
    box = Sandbox(folder / "sandbox", latency_ms=0, marketo_channels=channels_from_manifests(model),
                  api_daily_limit=10_000_000).start()
    session = connect_session(model, MANIFESTS, box.env())
    plan = session.plan()
    assert apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False).ok
    import requests
    requests.post(f"{box.marketo_url}/__sandbox/limits", verify=box.ca_bundle,
                  json={"rate_limit_calls": 1_000_000, "daily_quota": 10_000_000, "max_concurrent": 100})
    for server in box._servers.values():
        server.options.latency_ms = latency_ms
    requests.delete(f"{box.salesforce_url}/__sandbox/stats", verify=box.ca_bundle)
    requests.delete(f"{box.marketo_url}/__sandbox/stats", verify=box.ca_bundle)
    return box


def totals(box: Sandbox) -> tuple[int, int]:
    stats = box.stats()
    return stats["salesforce"]["calls"]["total"], stats["marketo"]["calls"]["total"]


def run_ours(box: Sandbox, data: list[str], folder: Path, batch_rows: int) -> tuple[int, int, float]:
    model = load(MANIFESTS).manifests
    config = build_config(model)
    ledger, rejects = Ledger(folder / "ledger.sqlite"), Rejects(folder / "rejects.csv")
    before = totals(box)
    started = time.perf_counter()
    sf = SalesforceSink(SalesforceConnection.from_env(box.env()), config)
    mk = MarketoSink(connect(box.env(), budget=FAST_MARKETO), config, ledger)
    summary = SyncRun(config, ledger, rejects, sf, mk, batch_rows=batch_rows).run(data)
    wall = time.perf_counter() - started
    ledger.close()
    rejects.close()
    assert not summary.rejected and not summary.stopped and not summary.failed, summary
    after = totals(box)
    return after[0] - before[0], after[1] - before[1], wall


def minimum(rows: int, data: list[str] | None = None) -> tuple[int, int]:
    emails = [f"bench.person{i:07d}@example.com" for i in range(rows)]
    queries = sum(1 for _ in in_chunks("SELECT Id, Email, CreatedDate FROM Lead WHERE Email IN ({values}) "
                                        "AND IsConverted = false ORDER BY CreatedDate ASC, Id ASC", emails))
    sf = 1 + 2 * queries + 4 + 3 * 6
    status_map = {m.source: m.marketo for m in load(MANIFESTS).manifests.sync[0].status_map}
    groups: dict[tuple[str, str], int] = {}
    object_bytes = 0
    if data:  # the real group sizes and the custom object file size of this data
        for row in read_rows([data[0]]):
            key = (row.data["session"], status_map[row.data["status"]])
            groups[key] = groups.get(key, 0) + 1
        for row in read_rows([data[1]]):
            object_bytes += len(",".join([row.data["entry_id"], row.data["email"], row.data["plays"],
                                          row.data["live_minutes_viewed"], "1234567"])) + 1
    members = sum(min(math.ceil(n / 300), 2) for n in groups.values())
    objects = min(math.ceil(rows / 300), 2 * max(1, math.ceil(object_bytes / MAX_FILE_BYTES)))
    mk = 1 + math.ceil(rows / 300) + members + objects + math.ceil(rows / 300) + 1 + 1 + 2 * len(SESSIONS)
    return sf, mk


def run_peer(box: Sandbox, data: list[str], sample: int) -> tuple[int, int, float]:
    """The same work one record per call: simple-salesforce per record, a per-record Marketo loop."""
    conn = SalesforceConnection.from_env(box.env())
    sf = conn.sf
    client = connect(box.env(), budget=FAST_MARKETO)
    campaigns = {r["Name"]: r["Id"] for r in sf.query_all("SELECT Id, Name FROM Campaign")["records"]}
    programs = {s: client.get("/rest/asset/v1/program/byName.json", {"name": s})[0]["id"] for s in SESSIONS}
    type_id = next(t["id"] for t in client.get("/rest/v1/activities/types.json")
                   if t["apiName"] == "userSessionEngagement")
    before = totals(box)
    started = time.perf_counter()
    regs = [r for _, r in zip(range(sample), read_rows([data[0]]))]
    engs = [r for _, r in zip(range(sample), read_rows([data[1]]))]
    for row in regs:
        d = dict(row.data, email="peer." + row.data["email"])
        q = "'" + d["email"].replace("'", "\\'") + "'"
        found = sf.query(f"SELECT Id FROM Contact WHERE Email = {q}")["records"] or \
            sf.query(f"SELECT Id FROM Lead WHERE Email = {q} AND IsConverted = false")["records"]
        pid = found[0]["Id"] if found else sf.Lead.create({"Email": d["email"], "LastName": d["last_name"],
                                                           "Company": d["company"]})["id"]
        cid = campaigns[d["session"]]
        sf.CampaignMember.upsert(f"external_id__c/{cid}_{pid}", {"CampaignId": cid, "LeadId": pid,
                                                                 "Status": d["status"]})
        lead = client.post_json("/rest/v1/leads.json", {"action": "createOrUpdate", "lookupField": "email",
                                                        "input": [{"email": d["email"]}]})[0]["id"]
        client.post_json(f"/rest/v1/programs/{programs[d['session']]}/members/status.json",
                         {"statusName": "Registered", "input": [{"leadId": lead}]})
    for row in engs:
        d = dict(row.data, email="peer." + row.data["email"])
        sf.UserSessionEngagement__c.upsert(f"external_id__c/peer_{d['entry_id']}",
                                           {"entry_id__c": d["entry_id"], "plays__c": d["plays"]})
        lead = client.post_json("/rest/v1/leads.json", {"action": "createOrUpdate", "lookupField": "email",
                                                        "input": [{"email": d["email"]}]})[0]["id"]
        client.post_json("/rest/v1/customobjects/kalturaUserSessionEngagement.json", {
            "action": "createOrUpdate", "dedupeBy": "dedupeFields",
            "input": [{"entry_id": d["entry_id"], "email": d["email"], "personId": lead}]})
        client.post_json("/rest/v1/activities/external.json", {"input": [{
            "leadId": lead, "activityDate": "2026-12-01T11:00:00Z", "activityTypeId": type_id,
            "primaryAttributeValue": d["entry_id"]}]})
    wall = time.perf_counter() - started
    after = totals(box)
    return after[0] - before[0], after[1] - before[1], wall


# The CLI, reporting its peak RSS at exit. VmHWM is this process image's own peak: ru_maxrss (self or
# children) would also count the pages of this big parent that the child shares between fork and exec.
PEAK_RSS_OF_CLI = ("import atexit, sys; from provisioner.cli import main; "
                   "atexit.register(lambda: print('VmHWM', open('/proc/self/status').read()"
                   ".split('VmHWM:')[1].split()[0], file=sys.stderr)); sys.argv[0] = 'provisioner'; main()")


def memory(rows: int, folder: Path) -> tuple[float, float, int]:
    """Peak RSS (MB), wall time and rows read of ``provisioner sync`` (the command a user runs, default
    10,000-row batches, both targets) on ROWS rows (ROWS/2 registrations + ROWS/2 engagement), in its own
    process against a sandbox in this one, so the sandbox's memory is not counted."""
    import re
    import subprocess
    folder.mkdir(parents=True, exist_ok=True)
    data = write_data(folder, rows // 2)
    box = start_sandbox(folder / "box", 0)
    try:
        env = dict(os.environ, **box.env(), MARKETO_MAX_CALLS_PER_20S="100000", MARKETO_MAX_CONCURRENT="10")
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PEAK_RSS_OF_CLI, "sync", *data, *[a for m in MANIFESTS for a in ("--manifest", m)],
                              "--sync", "kaltura-sync", "--ledger", str(folder / "mem.sqlite"),
                              "--rejects", str(folder / "mem-rejects.csv")],
                             capture_output=True, text=True, env=env, cwd=folder)
        wall = time.perf_counter() - started
        if out.returncode:
            raise RuntimeError(out.stdout[-3000:] + out.stderr[-3000:])
        read = re.search(r"Sync finished: ([\d,]+) rows read", out.stdout)
        peak = re.search(r"VmHWM (\d+)", out.stderr)
    finally:
        box.stop()
    assert peak, out.stderr[-3000:]
    return int(peak.group(1)) / 1024, wall, int(read.group(1).replace(",", "")) if read else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--peer-sample", type=int, default=300)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=0, help="0: the whole file in one batch")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="measure only the full-sync peak memory")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    if args.memory_only:
        try:
            rss, wall, read = memory(args.memory_rows, tmp / "m")
            print(f"peak memory, `provisioner sync` of {args.memory_rows:,} rows: {rss:.0f} MB peak RSS "
                  f"({read:,} rows read and synced to both targets in {wall:.0f} s, latency 0)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    try:
        data = write_data(tmp, args.rows)
        batch = args.batch_rows or 2 * args.rows
        box = start_sandbox(tmp / "a", 0)
        sf_calls, mk_calls, wall0 = run_ours(box, data, tmp / "a", batch)
        peer = run_peer(box, data, args.peer_sample)
        box.stop()
        min_sf, min_mk = minimum(args.rows, data)
        scale = args.rows / args.peer_sample
        rows = [("", "Salesforce calls", "Marketo calls", "wall s"),
                ("minimum", min_sf, min_mk, ""),
                ("provisioner sync (latency 0)", sf_calls, mk_calls, f"{wall0:.1f}"),
                ("  ratio to minimum", f"{sf_calls / min_sf:.3f}", f"{mk_calls / min_mk:.3f}", ""),
                (f"per-record peer (sample {args.peer_sample}, ×{scale:.0f})", round(peer[0] * scale),
                 round(peer[1] * scale), f"{peer[2] * scale:.0f} (extrapolated, latency 0)")]
        if not args.skip_latency:
            box = start_sandbox(tmp / "b", args.latency_ms)
            _, _, wall = run_ours(box, data, tmp / "b", batch)
            box.stop()
            rows.append((f"provisioner sync (latency {args.latency_ms:.0f} ms)", "", "", f"{wall:.1f}"))
            per_call = args.latency_ms / 1000
            rows.append((f"per-record peer (latency {args.latency_ms:.0f} ms, from its calls)", "", "",
                         f"{(peer[0] + peer[1]) * scale * per_call + peer[2] * scale:.0f} (extrapolated)"))
        if args.memory_rows:
            rss, wall, read = memory(args.memory_rows, tmp / "m")
            rows.append((f"peak memory, `provisioner sync` of {args.memory_rows:,} rows", f"{rss:.0f} MB peak RSS",
                         "", f"{wall:.0f} ({read:,} rows read, latency 0)"))
        width = [max(len(str(r[i])) for r in rows) for i in range(4)]
        for r in rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, width)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
