"""Client CPU of `provisioner sync` as users run it: rows per CPU second, overall and per stage.

Run:  python bench/cpu.py [--rows 100000] [--no-profile] [--json cpu.json]

R registrations + R engagement rows (R new people over 10 sessions, the data of bench/run.py) are synced by
the `provisioner` command at its CLI defaults, in its own process, into a `provisioner sandbox serve` in
another process (no added latency, Marketo's throttle lifted: the client's CPU is what is measured, and the
sandbox's CPU is never counted in it). Two runs, each into a fresh ledger and fresh e-mail addresses:

  overall   the command as it is: its user + system CPU (``os.wait4``) → 2R / CPU s
  stages    the same command under py-spy (a sampling profiler in a process of its own: ``pip install
            '.[bench]'``); each sample is charged to the innermost stage function on its stack, and a stage's
            CPU is its share of the samples times the plain run's CPU. A sampler charges time where it is
            spent; a tracing profiler (cProfile) charges every call a fixed cost and so over-weighs code
            that makes many small calls.

    read       the reader (encoding, delimiter, damaged records): ``sources.py`` Reader.rows
    check      the row checks: ``checks.py`` check_row
    hash       the ledger's content hashes: ``ledger.py`` content_hash
    ledger     the ledger's lookups and writes: ``ledger.py`` Ledger.lookup, mark, mark_many, commit
    match      finding people by e-mail (queries built, sent, read): ``salesforce_sink.py`` match
    serialise  records as CSV for Bulk API 2.0 and Marketo imports (``staging.py`` Staging.csv_files,
               ``bulk2.py`` _csv, ``bulk_import.py`` csv_files), and as JSON for REST bodies (requests'
               prepare_body)
    HTTP       the HTTP client (requests, TLS) less the JSON bodies counted above

The "match+serialise" figure (the issue's target) is 2R over those two stages' CPU; "read+check+hash+match+
serialise" adds the other per-row stages. Nothing here imports provisioner: the command runs in a child
process, and its samples are read from py-spy's collapsed stacks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import SandboxProcess, must, provisioner_command  # noqa: E402

#: stage → (file name ending, function) pairs; a sample belongs to the innermost of them on its stack
STAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "read": (("sync/sources.py", "Reader.rows"),),
    "check": (("sync/checks.py", "check_row"),),
    "hash": (("sync/ledger.py", "content_hash"),),
    "ledger": (("sync/ledger.py", "Ledger.lookup"), ("sync/ledger.py", "Ledger.mark"),
               ("sync/ledger.py", "Ledger.mark_many"), ("sync/ledger.py", "Ledger.commit")),
    "match": (("sync/salesforce_sink.py", "SalesforceSink.match"),),
    "serialise": (("sync/staging.py", "Staging.csv_files"), ("salesforce/bulk2.py", "_csv"),
                  ("marketo/bulk_import.py", "csv_files"), ("requests/models.py", "PreparedRequest.prepare_body")),
    "HTTP": (("requests/sessions.py", "Session.request"),),
}
CLIENT_STAGES = ("read", "check", "hash", "match", "serialise")
TARGET_STAGES = ("match", "serialise")
SAMPLES_PER_S = 250


def py_spy() -> str | None:
    """The py-spy executable beside this Python or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def prepare(box: SandboxProcess, folder: Path) -> None:
    """The Kaltura setup and the bench's 10 sessions, with the sandbox's limits lifted for the client alone."""
    from run import MANIFESTS, SYNC_SESSIONS, sessions_csv

    box.admin("marketo", "POST", "/__sandbox/limits", {"rate_limit_calls": 10_000_000, "daily_quota": 10_000_000})
    box.admin("salesforce", "POST", "/__sandbox/limits", {"api_daily_limit": 10_000_000})
    must(box.cli("setup", "apply", str(MANIFESTS), "--auto-approve"))
    day = datetime.now(timezone.utc) + timedelta(days=20)
    must(box.cli("sessions", "event", "new", "kaltura-event", "--manifests", str(MANIFESTS), "--sessions",
                 str(sessions_csv(folder / "sessions.csv", SYNC_SESSIONS, day)), "--auto-approve"))


def stage_shares(collapsed: Path) -> tuple[dict[str, float], int]:
    """``stage → share of all samples`` in py-spy's collapsed stacks, and the number of samples."""
    counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        total += samples
        for frame in reversed(stack.split(";")):  # innermost first
            name, _, where = frame.partition(" (")
            filename = where.rsplit(":", 1)[0]
            stage = next((st for st, functions in STAGES.items()
                          if any(filename.endswith(f) and name == n for f, n in functions)), None)
            if stage:
                counts[stage] += samples
                break
    return {stage: counts[stage] / total if total else 0.0 for stage in STAGES}, total


def measure(rows: int, folder: Path, profile: bool = True) -> dict[str, object]:
    """Client CPU of one sync of ``2 * rows`` rows (and, with ``profile``, per stage)."""
    from run import MANIFESTS, sync_args, write_sync_data

    box = SandboxProcess(folder / "sandbox", 0.0, MANIFESTS / "kaltura-marketo.yaml")
    unthrottled = {"MARKETO_MAX_CALLS_PER_20S": "1000000"}
    try:
        prepare(box, folder)
        data, _ = write_sync_data(folder, rows, "cpu.")
        plain = must(box.cli("sync (client CPU)", *sync_args(data, folder, "cpu"), env=unthrottled))
        result: dict[str, object] = {"rows": 2 * rows, "cpu_s": round(plain.cpu_s, 2), "wall_s": round(plain.wall_s, 2),
                                     "sandbox_cpu_s": round(plain.sandbox_cpu_s, 2),
                                     "calls": plain.sf_calls + plain.mk_calls,
                                     "rows_per_cpu_s": round(2 * rows / plain.cpu_s)}
        print(render(result), flush=True)  # the plain figure first
        if not profile:
            return result
        spy = py_spy()
        if spy is None:
            result["stages_missing"] = "py-spy not found (pip install '.[bench]')"
            return result
        data, _ = write_sync_data(folder, rows, "cpuprof.")  # new people: the same work again, not a re-run
        out = folder / "sync.collapsed"
        environment = {**os.environ, **box.env, **unthrottled}
        proc = subprocess.run([spy, "record", "--format", "raw", "--rate", str(SAMPLES_PER_S), "--output", str(out),
                               "--", *provisioner_command(), *sync_args(data, folder, "cpuprof")],
                              env=environment, cwd=box.folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0 or not out.exists():
            result["stages_missing"] = f"py-spy exited {proc.returncode}: {proc.stdout.decode()[-300:].strip()}"
            return result
        shares, samples = stage_shares(out)
        stages = {s: round(share * plain.cpu_s, 3) for s, share in shares.items()}
        client = sum(stages[s] for s in CLIENT_STAGES)
        target = sum(stages[s] for s in TARGET_STAGES)
        result.update({"samples": samples, "stage_cpu_s": stages,
                       "stage_rows_per_s": {s: round(2 * rows / v) if v else None for s, v in stages.items()},
                       "client_stages_cpu_s": round(client, 3),
                       "client_rows_per_s": round(2 * rows / client) if client else None,
                       "match_serialise_cpu_s": round(target, 3),
                       "match_serialise_rows_per_s": round(2 * rows / target) if target else None})
        return result
    finally:
        box.stop()


def render(result: dict[str, object]) -> str:
    lines = [f"{result['rows']:,} rows; client CPU {result['cpu_s']} s → {result['rows_per_cpu_s']:,} rows/s overall "
             f"(wall {result['wall_s']} s, sandbox CPU {result['sandbox_cpu_s']} s, {result['calls']} calls)"]
    if "stage_cpu_s" in result:
        stages, rates = result["stage_cpu_s"], result["stage_rows_per_s"]
        assert isinstance(stages, dict) and isinstance(rates, dict)
        lines.append(f"  stages from {result['samples']:,} py-spy samples, as shares of the plain run's CPU:")
        for stage, seconds in stages.items():
            rate = f"{rates[stage]:,}" if rates[stage] else "-"
            lines.append(f"  {stage:<10} {seconds:8.2f} s CPU  {rate:>12} rows/s")
        lines.append(f"  match+serialise: {result['match_serialise_cpu_s']} s CPU → "
                     f"{result['match_serialise_rows_per_s']:,} rows/s")
        lines.append(f"  read+check+hash+match+serialise: {result['client_stages_cpu_s']} s CPU → "
                     f"{result['client_rows_per_s']:,} rows/s")
    elif "stages_missing" in result:
        lines.append(f"  stages not measured: {result['stages_missing']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="people (rows per file; the sync reads twice this)")
    parser.add_argument("--no-profile", action="store_true", help="overall CPU only (no profiled run)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="provisioner-cpu-"))
    try:
        result = measure(args.rows, folder, not args.no_profile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"provisioner: {' '.join(provisioner_command())}")
    if "stage_cpu_s" in result:
        print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
