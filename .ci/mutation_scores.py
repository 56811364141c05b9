"""Per-module mutation scores from mutmut's results (run from the folder mutmut ran in).

Usage: ``python .ci/mutation_scores.py [MIN_PERCENT]``; prints ``module  killed/total  score  survivors``
and exits 1 when a module that was run scores below MIN_PERCENT. Timeouts count as killed
(the mutant made the tests hang); "no tests" mutants count against the score.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict


def main() -> int:
    minimum = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True,
                             text=True, check=True).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name or "__mutmut_" not in name:
            continue
        module = name.split(".x")[0].split(".x_")[0].rsplit("__mutmut_", 1)[0]
        module = ".".join(p for p in module.split(".") if not p.startswith(("x_", "xǁ")))
        by_module[module][status] += 1
        if status == "survived":
            survivors[module].append(name)
    failed = False
    print(f"{'module':45} {'killed':>7} {'tested':>6} {'score':>6}  survived / no tests / timeout / not run")
    for module in sorted(by_module):
        counts = by_module[module]
        tested = sum(counts.values()) - counts["skipped"] - counts["not checked"]
        killed = counts["killed"] + counts["timeout"]
        score = 100.0 * killed / tested if tested else 0.0
        failed |= tested > 0 and score < minimum  # modules left out (MUTATION_ONLY) are shown, not judged
        print(f"{module:45} {killed:7} {tested:6} {score:5.1f}%  {counts['survived']} / {counts['no tests']} / "
              f"{counts['timeout']} / {counts['not checked']}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
