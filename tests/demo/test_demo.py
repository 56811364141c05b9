"""`provisioner demo` runs the whole loop on a built-in sandbox and tells it as a story."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from provisioner.cli import cli

REPO = Path(__file__).resolve().parents[2]


def _listening_ports() -> set[int]:
    """The ports this process listens on (another pytest-xdist worker's sandbox may have been given a port
    the demo let go of: that one is not the demo's)."""
    mine = {link.readlink().name for link in Path("/proc/self/fd").iterdir() if _is_socket(link)}
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == "0A" and f"socket:[{parts[9]}]" in mine:  # LISTEN, on a socket of this process
            ports.add(int(parts[1].split(":")[1], 16))
    return ports


def _is_socket(link: Path) -> bool:
    try:
        return link.readlink().name.startswith("socket:")
    except OSError:  # closed between listing and reading
        return False


def test_demo_tells_the_story_and_leaves_no_port_open(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--manifests", str(REPO / "manifests")], env={})
    assert result.exit_code == 0, result.output
    out = result.output
    steps = ["1. Validate the manifests", "2. Plan against an empty org", "3. Apply the plan",
             "4. Plan again", "No changes. Your org matches the manifests.",
             "5. Create three sessions from the event template", "Skipped \"Kaltura Summit: Last Year's Kickoff\"",
             "Applied: 54 added. Planned again: No changes", "6. Sync a small Kaltura export",
             "Sync finished: 15 rows read", "Rejected: 2", "7. Sync the same export again", "so 0 were sent",
             "8. Done"]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "Plan: 100 to add, 0 to change, 0 to destroy." in out
    assert "salesforce.field.CampaignMember.external_id__c" in out
    ports = {int(p) for p in re.findall(r"https://127\.0\.0\.1:(\d+)", out)}
    assert len(ports) == 2  # the org and the instance it announced
    assert not ports & _listening_ports()  # both closed when the demo ended
    assert "Traceback" not in out
    rejects = (tmp_path / ".provisioner" / "demo-rejects.csv").read_text()
    assert "entry_id is 19 characters; the field is Text(11)" in rejects and "Maybe later" in rejects


def test_demo_without_manifests_says_where_to_run_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--manifests", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot find the shipped manifests" in result.output
