"""A seeded random sample of mutmut's mutants, N per module, for a mutation run that fits a CI job.

Usage: ``python .ci/mutation_sample.py N [PATTERN ...]`` (run from the folder mutmut generated ``mutants/`` in);
prints the chosen mutant names on one line for ``mutmut run``. PATTERNs (fnmatch, e.g. ``provisioner.sync.*``)
limit the modules. The seed is ``MUTATION_SEED`` (default 19), so two runs on the same code pick the same
mutants and their scores can be compared. A module with N mutants or fewer is taken whole.
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import sys
from pathlib import Path


def main() -> int:
    size, patterns = int(sys.argv[1]), sys.argv[2:] or ["*"]
    seed = int(os.environ.get("MUTATION_SEED", "19"))
    chosen: list[str] = []
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        names = sorted(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
        chosen += sorted(random.Random(seed).sample(names, min(size, len(names))))  # a seed per module
    print(" ".join(chosen))
    return 0 if chosen else 1


if __name__ == "__main__":
    raise SystemExit(main())
