"""Client CPU of `provisioner sync` as users run it: rows per CPU second, overall and per stage.

Run:  python bench/cpu.py [--rows 100000] [--no-profile] [--json cpu.json]

R registrations + R engagement rows (R new people over 10 sessions, the data of bench/run.py) are synced by
the `provisioner` command at its CLI defaults, in its own process, into a `provisioner sandbox serve` in
another process (no added latency, Marketo's throttle lifted: the client's CPU is what is measured, and the
sandbox's CPU is never counted in it). Two runs, each into a fresh ledger and fresh e-mail addresses:

  overall   the command as it is: its user + system CPU (``os.wait4``) → 2R / CPU s
  stages    the same command under a CPU-time profiler (cProfile with ``time.process_time``); each stage's
            CPU is its functions' cumulative time, scaled by (CPU of the plain run / CPU of the profiled run)
            so the profiler's own overhead is not charged to the stages:

    read       the reader (encoding, delimiter, damaged records): ``sources.py`` Reader.rows
    check      the row checks: ``checks.py`` check_row
    hash       the ledger's content hashes: ``ledger.py`` content_hash
    ledger     the ledger's lookups and writes: ``ledger.py`` lookup, mark, commit
    match      finding people by e-mail (queries built, sent, read): ``salesforce_sink.py`` match
    serialise  records as CSV for Bulk API 2.0 (``bulk2.py`` _csv) and Marketo imports (``bulk_import.py``
               csv_files), and as JSON for REST bodies (requests' prepare_body)
    HTTP       the HTTP client (requests, TLS) less the JSON bodies counted above

The "read+check+hash+match+serialise" figure is 2R over the sum of those five stages' CPU. Nothing here
imports provisioner: the command runs in a child process, and its profile is read with :mod:`pstats`.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import SandboxProcess, must, provisioner_command  # noqa: E402

#: stage → (file name ending, function name) pairs whose cumulative CPU is the stage's
STAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "read": (("sync/sources.py", "rows"),),
    "check": (("sync/checks.py", "check_row"),),
    "hash": (("sync/ledger.py", "content_hash"),),
    "ledger": (("sync/ledger.py", "lookup"), ("sync/ledger.py", "mark"), ("sync/ledger.py", "commit")),
    "match": (("sync/salesforce_sink.py", "match"),),
    "serialise": (("salesforce/bulk2.py", "_csv"), ("marketo/bulk_import.py", "csv_files"),
                  ("requests/models.py", "prepare_body")),
    "HTTP": (("requests/sessions.py", "request"),),
}
CLIENT_STAGES = ("read", "check", "hash", "match", "serialise")
#: The child's entry point: the console script's ``main`` under a CPU-time profiler (argv: profile file, args).
PROFILED = ("import cProfile, sys, time\n"
            "out = sys.argv[1]\n"
            "sys.argv = ['provisioner', *sys.argv[2:]]\n"
            "profile = cProfile.Profile(time.process_time)\n"
            "profile.enable()\n"
            "try:\n"
            "    from provisioner.cli import main\n"
            "    main()\n"
            "finally:\n"
            "    profile.disable()\n"
            "    profile.dump_stats(out)\n")


def prepare(box: SandboxProcess, folder: Path) -> None:
    """The Kaltura setup and the bench's 10 sessions, with the sandbox's limits lifted for the client alone."""
    from run import MANIFESTS, SYNC_SESSIONS, sessions_csv

    box.admin("marketo", "POST", "/__sandbox/limits", {"rate_limit_calls": 10_000_000, "daily_quota": 10_000_000})
    box.admin("salesforce", "POST", "/__sandbox/limits", {"api_daily_limit": 10_000_000})
    must(box.cli("setup", "apply", str(MANIFESTS), "--auto-approve"))
    day = datetime.now(timezone.utc) + timedelta(days=20)
    must(box.cli("sessions", "event", "new", "kaltura-event", "--manifests", str(MANIFESTS), "--sessions",
                 str(sessions_csv(folder / "sessions.csv", SYNC_SESSIONS, day)), "--auto-approve"))


def stage_seconds(profile: Path) -> tuple[dict[str, float], float]:
    """``stage → cumulative CPU s`` in a profile, and the profile's total CPU s."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    out = {stage: 0.0 for stage in STAGES}
    for (filename, _, name), (_, _, _, cumulative, _) in stats.items():
        for stage, functions in STAGES.items():
            if any(filename.endswith(f) and name == n for f, n in functions):
                out[stage] += cumulative
    json_bodies = sum(c for (f, _, n), (_, _, _, c, _) in stats.items()
                      if f.endswith("requests/models.py") and n == "prepare_body")
    out["HTTP"] -= json_bodies
    total = max(c for (_, _, _, c, _) in stats.values())
    return out, total


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
        print(render(result), flush=True)  # the plain figure first: the profiled run takes a few times longer
        if not profile:
            return result
        data, _ = write_sync_data(folder, rows, "cpuprof.")  # new people: the same work again, not a re-run
        out = folder / "sync.prof"
        python = sys.executable
        environment = {**os.environ, **box.env, **unthrottled}
        proc = subprocess.run([python, "-c", PROFILED, str(out), *sync_args(data, folder, "cpuprof")],
                              env=environment, cwd=box.folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise SystemExit(f"profiled sync exited {proc.returncode}:\n{proc.stdout.decode()[-4000:]}")
        seconds, total = stage_seconds(out)
        scale = plain.cpu_s / total if total else 1.0
        stages = {s: round(v * scale, 3) for s, v in seconds.items()}
        client = sum(stages[s] for s in CLIENT_STAGES)
        result.update({"profiled_cpu_s": round(total, 2), "stage_cpu_s": stages,
                       "stage_rows_per_s": {s: round(2 * rows / v) if v else None for s, v in stages.items()},
                       "client_stages_cpu_s": round(client, 3),
                       "client_rows_per_s": round(2 * rows / client) if client else None})
        return result
    finally:
        box.stop()


def render(result: dict[str, object]) -> str:
    lines = [f"{result['rows']:,} rows; client CPU {result['cpu_s']} s → {result['rows_per_cpu_s']:,} rows/s overall "
             f"(wall {result['wall_s']} s, sandbox CPU {result['sandbox_cpu_s']} s, {result['calls']} calls)"]
    if "stage_cpu_s" in result:
        stages, rates = result["stage_cpu_s"], result["stage_rows_per_s"]
        assert isinstance(stages, dict) and isinstance(rates, dict)
        for stage, seconds in stages.items():
            rate = f"{rates[stage]:,}" if rates[stage] else "-"
            lines.append(f"  {stage:<10} {seconds:8.2f} s CPU  {rate:>12} rows/s")
        lines.append(f"  read+check+hash+match+serialise: {result['client_stages_cpu_s']} s CPU → "
                     f"{result['client_rows_per_s']:,} rows/s")
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
