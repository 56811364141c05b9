"""The benchmark: every scenario as users run it, against floors from the vendors' limits and real peers.

Run:  python bench/run.py [--latency-ms 20] [--rows 10000,200000] [--memory-rows 1000000]
                          [--sessions 50] [--skip-peers] [--json results.json]

One `provisioner sandbox serve` (its own process, Marketo's real limits: 100 calls / 20 s, 10 at once,
``--latency-ms`` added to every call) serves every step. Each step is the `provisioner` command at its
CLI defaults in its own process, or a peer library in this one, on the same data:

  provision    `plan manifests/` and `apply manifests/ --auto-approve` on an empty org, then again converged
  event new    N sessions from templates/kaltura-event (create), the same file again (--plan-only),
               one session moved to another day (reschedule)
  sync         R registrations + R engagement rows (R distinct new people over 10 sessions) through
               manifests/kaltura-sync.yaml into both targets; peers: simple-salesforce's bulk2 for the
               Salesforce writes (with the matching queries), marketorestpython's REST path and its bulk
               lead import path for Marketo, each on the same rows under other e-mail addresses
  memory       `provisioner sync` of --memory-rows rows, Salesforce only: peak resident memory
  client CPU   bench/cpu.py: `provisioner sync` of 2 × --cpu-rows rows in a sandbox of its own (no latency,
               throttle lifted): the whole process's CPU rows/s, and per stage from py-spy's samples of a second
               run (match+serialise, the issue's target; then read+check+hash+match+serialise)
  scale        `event new` for N future sessions (--scale 10,100,500,1000), each N in a fresh sandbox with
               Marketo's throttle lifted (the instance is the tool's alone): render (--out-dir), validate,
               plan (--plan-only), apply, re-plan; wall time, calls, CPU of the tool and of the sandbox
               separately, peak memory, and the growth exponent log(t2/t1)/log(N2/N1) between sizes

The table: calls (Salesforce + Marketo), floor (bench/floors.py, from bench/limits.py, never from the
tool), ratio, the peer's calls and wall time, ours wall time, client CPU rows/s, peak memory.

Below it, for each sync size, the forecast next to the calls the run made: `sync --dry-run --format json`
on the same data just before (its ``forecast`` per org: exact), the upper bound the real run printed when it
checked the daily limit before its first write, and the calls the sandbox counted for the run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floors  # noqa: E402
from harness import REPO, SandboxProcess, Step, dump, must  # noqa: E402

MANIFESTS = REPO / "manifests"
SYNC_SESSIONS = [f"Bench Session {i}" for i in range(10)]
STATUSES = ["Registered", "Confirmed email", "During-event visit", "Attended"]


def status_map() -> dict[str, str]:
    sync = next(d for d in floors.load_manifests([MANIFESTS / "kaltura-sync.yaml"]) if d["kind"] == "Sync")
    return {m["source"]: m["marketo"] for m in sync["spec"]["statusMap"]}


def sessions_csv(path: Path, names: list[str], day: datetime) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "start", "end", "type"])
        for i, name in enumerate(names):
            start = day + timedelta(hours=i % 8)
            w.writerow([name, start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "live"])
    return path


def write_sync_data(folder: Path, rows: int, prefix: str) -> tuple[list[Path], floors.SyncWork]:
    """R registrations and R engagement rows for R new people, and what they oblige a sync to do."""
    rng = random.Random(rows)
    reg, eng = folder / f"{prefix}registrations.csv", folder / f"{prefix}engagement.csv"
    marketo_status = status_map()
    emails, groups = [], {}
    sizes = {"lead": 0, "member": 0, "engagement": 0, "object": 0}
    with reg.open("w", newline="") as r, eng.open("w", newline="") as e:
        rw, ew = csv.writer(r), csv.writer(e)
        rw.writerow(["email", "first_name", "last_name", "company", "session", "status", "time"])
        ew.writerow(["email", "session", "entry_id", "plays", "live_minutes_viewed", "time"])
        for i in range(rows):
            email, session, status = f"{prefix}person{i:07d}@example.com", SYNC_SESSIONS[i % 10], rng.choice(STATUSES)
            entry, plays, minutes = f"1_{i:08d}", rng.randint(1, 9), f"{rng.uniform(0, 60):.2f}"
            rw.writerow([email, f"F{i}", f"L{i}", f"C{i}", session, status, "2026-12-01T10:00:00Z"])
            ew.writerow([email, session, entry, plays, minutes, "2026-12-01T11:00:00Z"])
            emails.append(email)
            key = (session, marketo_status[status])
            groups[key] = groups.get(key, 0) + 1
            # The CSV a bulk job would carry for each record (the fields, comma-separated, a newline).
            sizes["lead"] += len(f"{email},F{i},L{i},C{i}\n")
            sizes["member"] += len(f"{email},0010000000000000AAA,0010000000000000AAA_0010000000000000AAA,{status}\n")
            sizes["engagement"] += len(f"{entry},{plays},{minutes},0010000000000000AAA_{entry}\n")
            sizes["object"] += len(f"{entry},{email},{plays},{minutes},1234567\n")
    work = floors.SyncWork(emails, SYNC_SESSIONS, rows, rows, groups, sizes["lead"], sizes["member"],
                           sizes["engagement"], sizes["object"], programs_in_instance=len(SYNC_SESSIONS) + 1)
    return [reg, eng], work


class Table:
    HEAD = ("benchmark", "rows", "calls SF+MK", "floor", "ratio", "peer calls", "peer wall s", "ours wall s",
            "CPU rows/s", "peak MB")

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, name: str, rows: int | str, step: Step, floor: tuple[int, int], peer: Step | None = None) -> None:
        total, floor_total = step.sf_calls + step.mk_calls, sum(floor)
        cpu = f"{int(rows) / step.cpu_s:,.0f}" if isinstance(rows, int) and rows and step.cpu_s else ""
        self.rows.append((name, f"{rows:,}" if isinstance(rows, int) else rows,
                          f"{step.sf_calls}+{step.mk_calls}", f"{floor[0]}+{floor[1]}",
                          floors.ratio(total, floor_total),
                          f"{peer.sf_calls}+{peer.mk_calls}" if peer else "", f"{peer.wall_s:.1f}" if peer else "",
                          f"{step.wall_s:.1f}", cpu, f"{step.peak_mb:.0f}" if step.peak_mb else ""))

    def render(self) -> str:
        rows = [self.HEAD, *self.rows]
        width = [max(len(r[i]) for r in rows) for i in range(len(self.HEAD))]
        out = io.StringIO()
        for n, r in enumerate(rows):
            out.write(" | ".join(c.ljust(w) for c, w in zip(r, width)).rstrip() + "\n")
            if n == 0:
                out.write("-|-".join("-" * w for w in width) + "\n")
        return out.getvalue()


def provision(box: SandboxProcess, table: Table, steps: list[Step]) -> None:
    docs = floors.load_manifests(sorted(p for p in MANIFESTS.iterdir() if p.suffix in (".yaml", ".j2")))
    sf, mk = floors.salesforce_provision_floor(docs), floors.marketo_provision_floor(docs)
    for state in ("empty", "converged"):
        plan = must(box.cli(f"plan {state}", "plan", str(MANIFESTS)))
        table.add(f"provision: plan, {state} org", "", plan, (sf[f"plan {state}"], mk[f"plan {state}"]))
        apply = must(box.cli(f"apply {state}", "apply", str(MANIFESTS), "--auto-approve"))
        table.add(f"provision: apply, {state} org", "", apply,
                  (sf[f"plan {state}"] + sf[f"apply {state} (writes)"], mk[f"plan {state}"] + mk[f"apply {state} (writes)"]))
        steps += [plan, apply]


def events(box: SandboxProcess, table: Table, steps: list[Step], folder: Path, count: int) -> None:
    day = (datetime.now(timezone.utc) + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    names = [f"Bench Event {i:04d}" for i in range(count)]
    sheet = sessions_csv(folder / "sessions.csv", names, day)
    statuses = len(next(c for d in floors.load_manifests([MANIFESTS / "kaltura-salesforce.yaml"])
                        for c in d["spec"].get("campaignMemberStatuses", [])
                        if c["campaign"] == "Kaltura Event Template")["statuses"])
    programs = 1 + len(SYNC_SESSIONS)  # the template program and the sync's sessions, created before
    base = ["event", "new", "kaltura-event", "--manifests", str(MANIFESTS)]
    create = must(box.cli("event new", *base, "--sessions", str(sheet), "--auto-approve"))
    table.add("event new: create", count, create, floors.event_new_floor(names, statuses, programs))
    again = must(box.cli("event new again", *base, "--sessions", str(sheet), "--plan-only"))
    table.add("event new: same file again", count, again, floors.event_again_floor(names, programs + count))
    moved = sessions_csv(folder / "moved.csv", names[:1], day + timedelta(days=1))
    reschedule = must(box.cli("event reschedule", *base, "--sessions", str(moved), "--auto-approve"))
    table.add("event new: reschedule one", 1, reschedule, floors.event_reschedule_floor())
    steps += [create, again, reschedule]


def sync_args(data: list[Path], folder: Path, tag: str) -> list[str]:
    return ["sync", *map(str, data), "--manifest", str(MANIFESTS), "--sync", "kaltura-sync",
            "--ledger", str(folder / f"{tag}.ledger.sqlite"), "--rejects", str(folder / f"{tag}.rejects.csv")]


class Forecasts:
    """Per sync size and org: the dry run's forecast, the real run's bound before writing, the calls it made."""

    HEAD = ("sync rows", "org", "dry-run forecast", "bound before writing", "calls made", "made - forecast")

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, rows: int, dry: Step, ours: Step) -> None:
        forecast = json.loads(dry.output[dry.output.index("{"):])["forecast"]  # stdout and stderr are merged
        for org, made in (("salesforce", ours.sf_calls), ("marketo", ours.mk_calls)):
            bound = re.search(rf"^  {org}: ([\d,]+) \(", ours.output, re.M)  # the real run's text forecast
            expected = forecast.get(org, {}).get("calls")
            self.rows.append((f"{2 * rows:,}", org, f"{expected:,}" if expected is not None else "-",
                              bound.group(1) if bound else "-", f"{made:,}",
                              f"{made - expected:+,}" if expected is not None else "-"))

    def render(self) -> str:
        return _grid([self.HEAD, *self.rows]) if self.rows else ""


def sync(box: SandboxProcess, table: Table, steps: list[Step], folder: Path, rows: int, peers: bool,
         forecasts: Forecasts | None = None) -> None:
    data, work = write_sync_data(folder, rows, f"r{rows}.")
    dry = must(box.cli(f"sync {rows} --dry-run", *sync_args(data, folder, f"sync{rows}"), "--dry-run", "--quiet",
                       "--format", "json"))
    ours = must(box.cli(f"sync {rows}", *sync_args(data, folder, f"sync{rows}")))
    if forecasts is not None:
        forecasts.add(rows, dry, ours)
    steps.append(dry)
    peer_sf = peer_mk = None
    if peers:
        import peers as peer_runs
        peer_data, _ = write_sync_data(folder, rows, f"peer{rows}.")
        peer_sf = box.in_process(f"simple-salesforce bulk2 {rows}", lambda: peer_runs.salesforce_bulk2(box.env, peer_data))
        peer_mk = box.in_process(f"marketorestpython REST {rows}", lambda: peer_runs.marketo_rest(box.env, peer_data))
        steps += [peer_sf, peer_mk]
    sf_floor, mk_floor = floors.sync_salesforce_floor(work), floors.sync_marketo_floor(work)
    only_sf = Step(ours.name, ours.sf_calls, 0, ours.wall_s, ours.cpu_s, ours.peak_mb)
    only_mk = Step(ours.name, 0, ours.mk_calls, ours.wall_s, ours.cpu_s, ours.peak_mb)
    table.add("sync → Salesforce (both targets in one run)", 2 * rows, only_sf, (sf_floor, 0), peer_sf)
    table.add("sync → Marketo (same run)", 2 * rows, only_mk, (0, mk_floor), peer_mk)
    steps.append(ours)


def memory(box: SandboxProcess, table: Table, steps: list[Step], folder: Path, rows: int) -> None:
    data, work = write_sync_data(folder, rows // 2, f"m{rows}.")
    step = must(box.cli(f"sync {rows} (memory)", *sync_args(data, folder, f"mem{rows}"), "--only", "salesforce"))
    table.add("sync → Salesforce only (memory)", rows, step, (floors.sync_salesforce_floor(work), 0))
    steps.append(step)


def client_cpu(table: Table, folder: Path, rows: int) -> None:
    """bench/cpu.py's figures as rows of the table: the whole process's CPU rows/s at ``rows`` people, and the
    stages' rows/s from py-spy's samples of a second run of the same size (a sampler adds little: no cap)."""
    import cpu

    result = cpu.measure(rows, folder / "cpu", profile=True)
    blank = ("", "", "", "", "", "")
    if "stage_cpu_s" in result:
        table.rows.append(("client CPU: match+serialise (sampled)", f"{result['rows']:,}", *blank,
                           f"{result['match_serialise_rows_per_s']:,}", ""))
        table.rows.append(("client CPU: read+check+hash+match+serialise", f"{result['rows']:,}", *blank,
                           f"{result['client_rows_per_s']:,}", ""))
    table.rows.append(("client CPU: whole sync process", f"{result['rows']:,}", "", "", "", "", "",
                       f"{result['wall_s']:.1f}", f"{result['rows_per_cpu_s']:,}", ""))
    print(cpu.render(result), flush=True)


def scale(folder: Path, sizes: list[int], latency_ms: float) -> str:
    """`event new` at growing N, each in a fresh sandbox: the table of times, calls and growth exponents."""
    import math

    head = ("N", "step", "wall s", "tool CPU s", "sandbox CPU s", "calls SF+MK", "peak MB")
    lines, by_step = [head], {}
    unthrottled = {"MARKETO_MAX_CALLS_PER_20S": "1000000", "MARKETO_MAX_CONCURRENT": "10"}
    day = (datetime.now(timezone.utc) + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    for n in sizes:
        box = SandboxProcess(folder / f"scale{n}", latency_ms, MANIFESTS / "kaltura-marketo.yaml")
        try:
            box.admin("marketo", "POST", "/__sandbox/limits", {"rate_limit_calls": 10_000_000, "daily_quota": 10_000_000})
            box.admin("salesforce", "POST", "/__sandbox/limits", {"api_daily_limit": 10_000_000})
            must(box.cli("setup", "apply", str(MANIFESTS), "--auto-approve"))
            sheet = sessions_csv(folder / f"scale{n}.csv", [f"Scale Session {i:05d}" for i in range(n)], day)
            base = ["event", "new", "kaltura-event", "--manifests", str(MANIFESTS), "--sessions", str(sheet)]
            out = folder / f"scale{n}-rendered"
            steps = [("render", [*base, "--out-dir", str(out)]), ("validate", ["validate", str(MANIFESTS), str(out)]),
                     ("plan", [*base, "--plan-only"]), ("apply", [*base, "--auto-approve"]),
                     ("re-plan", [*base, "--plan-only"])]
            for name, args in steps:
                step = must(box.cli(f"scale {n} {name}", *args, env=unthrottled))
                by_step.setdefault(name, []).append((n, step.wall_s, step.cpu_s, step.sandbox_cpu_s))
                lines.append((str(n), name, f"{step.wall_s:.2f}", f"{step.cpu_s:.2f}", f"{step.sandbox_cpu_s:.2f}",
                              f"{step.sf_calls}+{step.mk_calls}", f"{step.peak_mb:.0f}"))
        finally:
            box.stop()
    growth = [("step", "between", "wall", "tool CPU", "sandbox CPU")]
    for name, points in by_step.items():
        for (n1, *a), (n2, *b) in zip(points, points[1:]):
            exp = [f"{math.log(y / x) / math.log(n2 / n1):.2f}" if x > 0 and y > 0 else "" for x, y in zip(a, b)]
            growth.append((name, f"{n1}→{n2}", *exp))
    return _grid(lines) + "\ngrowth exponent (1.0 = linear)\n" + _grid(growth)


def _grid(rows: list[tuple[str, ...]]) -> str:
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join(" | ".join(c.ljust(w) for c, w in zip(r, width)).rstrip() + "\n" for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rows", default="10000,200000", help="comma-separated sync sizes (rows per file)")
    parser.add_argument("--memory-rows", type=int, default=1_000_000, help="0 to skip")
    parser.add_argument("--cpu-rows", type=int, default=100_000,
                        help="people for the client CPU run (bench/cpu.py); 0 to skip")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--scale", default="", help="comma-separated session counts for the event new scale run")
    parser.add_argument("--only-scale", action="store_true", help="run only the scale scenario")
    parser.add_argument("--json", type=Path, default=None, help="also write every step's figures here")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="provisioner-bench-"))
    if args.scale:
        sizes = [int(n) for n in args.scale.split(",") if n]
        try:
            print(f"event new at scale, sandbox latency {args.latency_ms:g} ms, Marketo throttle lifted\n")
            print(scale(folder, sizes, args.latency_ms))
        finally:
            if args.only_scale:
                shutil.rmtree(folder, ignore_errors=True)
        if args.only_scale:
            return
    table, steps, forecasts = Table(), [], Forecasts()
    box = SandboxProcess(folder / "sandbox", args.latency_ms, MANIFESTS / "kaltura-marketo.yaml")
    try:
        provision(box, table, steps)
        day = datetime.now(timezone.utc) + timedelta(days=20)
        must(box.cli("sync sessions", "event", "new", "kaltura-event", "--manifests", str(MANIFESTS), "--sessions",
                     str(sessions_csv(folder / "sync-sessions.csv", SYNC_SESSIONS, day)), "--auto-approve"))
        events(box, table, steps, folder, args.sessions)
        for rows in (int(r) for r in args.rows.split(",") if r):
            sync(box, table, steps, folder, rows, not args.skip_peers, forecasts)
        if args.memory_rows:
            memory(box, table, steps, folder, args.memory_rows)
        if args.cpu_rows:  # in a sandbox of its own, the shared one idle
            client_cpu(table, folder, args.cpu_rows)
    finally:
        box.stop()
        print(f"sandbox latency {args.latency_ms:g} ms per call; Marketo limits 100 calls / 20 s, 10 at once\n")
        print(table.render())
        refusals = [f"{s.name}: " + ", ".join(f"{n} × {c}" for c, n in sorted(s.refused.items())) for s in steps
                    if s.refused]
        print("\nMarketo refusals for its limits (606 window, 615 concurrency, 607 quota), from the sandbox's count: "
              + ("; ".join(refusals) if refusals else "none in any step"))
        if forecasts.rows:
            print("\nsync: the forecast (sync --dry-run --format json) next to the calls the run made\n")
            print(forecasts.render())
        if args.json:
            dump(steps, args.json)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
