"""Check a built wheel holds every data file the installed tool reads (run by .ci/check-wheel).

Expected files come from git: every tracked file under the package's data folders must be in the
wheel at the same path, so a file added later without a package-data pattern fails CI here.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile

DATA_FOLDERS = ("provisioner/schemas/", "provisioner/manifests/", "provisioner/templates/",
                "provisioner/examples/", "provisioner/sandbox/data/")


def main(wheel: str, repo: str) -> int:
    tracked = subprocess.run(["git", "-C", repo, "ls-files", "--", *DATA_FOLDERS], check=True,
                             capture_output=True, text=True).stdout.split()
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(p for p in tracked if p not in names)
    licences = [n for n in names if n.endswith(".dist-info/licenses/provisioner/sandbox/data/marketo-openapi/LICENSE")]
    for path in missing:
        print(f"missing from the wheel: {path}", file=sys.stderr)
    if not licences:
        print("missing from the wheel's metadata: Adobe's OpenAPI LICENSE", file=sys.stderr)
    for folder in DATA_FOLDERS:
        count = sum(1 for p in tracked if p.startswith(folder))
        print(f"  {folder:<28} {count} file(s)")
    return 1 if missing or not licences or not tracked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
