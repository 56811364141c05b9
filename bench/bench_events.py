"""Benchmark `provisioner event new`: API calls against the minimum the APIs allow, and wall time.

Run: python bench/bench_events.py [--sessions 50] [--latency-ms 100]

Workload: SESSIONS future sessions through templates/kaltura-event (a Salesforce campaign with the
template's 16 statuses and a Marketo program cloned from the template program, with dates) into a
sandbox where manifests/ (the setup) was applied. Three runs, as a user makes them:
  new        every session is new               `event new --sessions FILE --auto-approve`
  again      the same file: nothing to do       `event new --sessions FILE --plan-only`
  reschedule one session moved to another day   a one-row file, --auto-approve
Calls are counted by the sandbox per route, token requests included.

Minimum calls (from the API limits, not from our code):
  Salesforce  1 token + 1 SOQL for every session campaign by name (IN list ≤ 16 KB URI)
              new: + ceil(S/200) Campaign creates + ceil(16·S/200) CampaignMemberStatus creates (the
              create reply carries the new Ids, so no read-back is strictly needed)
              reschedule: + 1 Campaign update
  Marketo     1 token + 1 browse of programs (200 a page; absent names cost nothing more)
              new: + 1 folder lookup + 1 template lookup (its id, for the clone) + S clones + S date
              updates (clone takes no dates; the asset API has no batch write for programs)
              again / reschedule: + 1 byName read per dated program (browse results carry no dates)
              + 1 folder read (browse and byName give the folder's id, the manifest names its path)
              reschedule: + 1 program update (one program: read by name, no browse)
  Not in the minimum: the tool's permission preflight before its first Marketo write (one cheap read
  per permission area not yet proven, 4 here), which names every missing API permission at once.
Each run starts with Marketo's 20 s window empty (the bench waits it out between runs).
Marketo's 100 calls per 20 s apply (the sandbox enforces them); the tool keeps to
MARKETO_MAX_CALLS_PER_20S (default 50, set to 100 here: the sandbox instance is the tool's alone).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from click.testing import CliRunner  # noqa: E402

from provisioner.cli import cli  # noqa: E402
from provisioner.manifest import load  # noqa: E402
from provisioner.plan import apply_saved_plan  # noqa: E402
from provisioner.sandbox.runtime import Sandbox  # noqa: E402
from provisioner.sandbox.seed import channels_from_manifests  # noqa: E402
from provisioner.workflow import connect_session  # noqa: E402

SETUP = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                "kaltura-marketo.yaml")]
STATUSES = 16  # the template campaign's statuses (manifests/kaltura-salesforce.yaml)


def minimum(run: str, sessions: int) -> dict[str, int]:
    sf = 1 + 1
    mk = 1 + 1
    if run == "new":
        sf += math.ceil(sessions / 200) + math.ceil(STATUSES * sessions / 200)
        mk += 1 + 1 + 2 * sessions
    elif run == "again":
        mk += sessions + 1
    else:  # reschedule: one session
        sf += 1
        mk += 1 + 1  # byName + update (replacing the browse counted above) + folder read
    return {"salesforce": sf, "marketo": mk}


def write_sessions(path: Path, count: int, day: str = "2099-03-01") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "start", "end", "type"])
        for i in range(1, count + 1):
            writer.writerow([f"Bench Summit Session {i:03d}", f"{day}T{8 + i % 10:02d}:00:00Z",
                             f"{day}T{9 + i % 10:02d}:00:00Z", "live"])
    return path


def calls(box: Sandbox) -> dict[str, Counter]:
    return {name: Counter(s["calls"]["by_route"]) for name, s in box.stats().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--verbose", action="store_true", help="Print the calls per route.")
    args = parser.parse_args()
    os.chdir(REPO)  # templates/ and manifests/ as a user has them
    setup = load(SETUP)
    assert setup.ok, [f.render() for f in setup.findings]
    with tempfile.TemporaryDirectory() as tmp, \
            Sandbox(Path(tmp) / "sandbox", latency_ms=args.latency_ms,
                    marketo_channels=channels_from_manifests(setup.manifests)) as box:
        session = connect_session(setup.manifests, setup.files, box.env())
        plan = session.plan()
        assert apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False).ok
        env = dict(box.env(), MARKETO_MAX_CALLS_PER_20S="100")
        time.sleep(20.5)  # Marketo's rate window: start from an idle instance, as a real run would
        full = write_sessions(Path(tmp) / "sessions.csv", args.sessions)
        one = write_sessions(Path(tmp) / "moved.csv", 1, day="2099-04-02")
        runs = [("new", full, "--auto-approve"), ("again", full, "--plan-only"), ("reschedule", one, "--auto-approve")]
        print(f"event new, {args.sessions} sessions, sandbox latency {args.latency_ms:g} ms per call\n")
        print(f"{'run':<11} {'target':<11} {'calls':>6} {'minimum':>8} {'ratio':>6} {'wall s':>7}")
        for number, (name, path, flag) in enumerate(runs):
            if number:
                time.sleep(20.5)  # runs are minutes apart in real use: each starts with the window empty
            before = calls(box)
            started = time.perf_counter()
            result = CliRunner().invoke(cli, ["event", "new", "kaltura-event", "--sessions", str(path), flag],
                                        env=env, catch_exceptions=False)
            wall = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(f"{name}: exit {result.exit_code}\n{result.output}")
            after = calls(box)
            least = minimum(name, args.sessions)
            for target in ("salesforce", "marketo"):
                used = after[target] - before[target]
                total = sum(used.values())
                shown = f"{wall:>7.1f}" if target == "salesforce" else ""
                print(f"{name:<11} {target:<11} {total:>6} {least[target]:>8} {total / least[target]:>6.2f} {shown}")
                if args.verbose:
                    for route, n in sorted(used.items()):
                        print(f"    {n:>4}  {route}")


if __name__ == "__main__":
    main()
