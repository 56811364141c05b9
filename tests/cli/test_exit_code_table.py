"""One test per row of the exit-code table (README "Exit codes" and `provisioner --help`), through the
real command line against the sandbox over HTTPS."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
SF_MANIFEST = str(REPO / "manifests" / "kaltura-salesforce.yaml")


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox", marketo=False) as box:
        yield box


def _table(text: str) -> dict[int, str]:
    """Exit code → meaning, from README's Markdown table or the help's indented list."""
    rows = re.findall(r"^\|\s*`?(\d+)`?\s*\|\s*(.+?)\s*\|\s*$", text, re.M) or \
        re.findall(r"^\s+(\d+)\s{2,}(.+)$", text.split("Exit codes (every command):")[1], re.M)
    return {int(code): meaning for code, meaning in rows}


def test_readme_and_help_document_the_same_table() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = _table(section)
    shown = _table(run({}, "--help").output)
    assert set(documented) == set(shown) == {0, 1, 2, 3, 64, 130}
    for code in documented:
        assert documented[code].rstrip(".") == shown[code].rstrip("."), code


def test_0_success_and_no_changes(org: Sandbox) -> None:
    assert run({}, "validate", str(REPO / "manifests")).exit_code == 0
    assert run(org.env(), "apply", SF_MANIFEST, "--auto-approve").exit_code == 0
    result = run(org.env(), "plan", SF_MANIFEST, "--detailed-exitcode")
    assert result.exit_code == 0 and "No changes." in result.output


def test_1_error_names_what_to_fix(org: Sandbox, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: provisioner/v1\nkind: Salesforce\nmetadata: {name: x}\nspec: [\n")
    result = run({}, "validate", str(broken))
    assert result.exit_code == 1 and str(broken) in result.output
    result = run(org.env(), "plan", SF_MANIFEST, "--target", "salesforce.nothing.*")
    assert result.exit_code == 1
    assert "error: --target salesforce.nothing.* matches no address" in result.output
    assert "hint: " in result.output and "Traceback" not in result.output


def test_2_changes_only_with_the_flag(org: Sandbox) -> None:
    assert run(org.env(), "plan", SF_MANIFEST).exit_code == 0  # changes, but no --detailed-exitcode
    assert run(org.env(), "plan", SF_MANIFEST, "--detailed-exitcode").exit_code == 2
    assert run(org.env(), "drift", SF_MANIFEST).exit_code == 2  # an empty org: everything drifted


def test_3_daily_api_limit(org: Sandbox) -> None:
    limits = f"{org.salesforce_url}/__sandbox/limits"
    requests.post(limits, json={"api_daily_limit": 1000, "api_usage": 1000}, verify=org.ca_bundle, timeout=10)
    result = run(org.env(), "plan", SF_MANIFEST)
    assert result.exit_code == 3, result.output
    assert "daily" in result.output and "hint: run the same command again after the daily limit resets" in result.output


COMMANDS = [["validate"], ["plan"], ["apply"], ["show"], ["drift"], ["demo"], ["sandbox", "serve"],
            ["export", "salesforce"], ["export", "marketo"], ["sync"], ["event", "new"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_64_usage_errors_on_every_command(command: list[str]) -> None:
    result = run({}, *command, "--no-such-option")
    assert result.exit_code == 64, result.output
    assert "No such option: --no-such-option" in result.output or "No such option '--no-such-option'" in result.output


def test_64_bad_values_and_missing_arguments() -> None:
    assert run({}, "plan", "manifests", "--format", "xml").exit_code == 64
    assert run({}, "validate").exit_code == 64  # PATHS missing
    assert run({}, "no-such-command").exit_code == 64


def test_130_ctrl_c_says_what_was_done_and_how_to_resume(tmp_path: Path) -> None:
    # Every API call takes 60 ms in this sandbox, so the apply is still running when Ctrl-C comes.
    with Sandbox(tmp_path / "sandbox", marketo=False, latency_ms=60) as org:
        env = dict(os.environ, **org.env(), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-c", "from provisioner.cli import main; main()", "apply",
                                 SF_MANIFEST, "--auto-approve"], env=env, cwd=tmp_path, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        for line in proc.stdout:  # wait for the first applied change, then press Ctrl-C
            if line.startswith("✓"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Aborted!" not in err and "Traceback" not in err
        said = re.search(r"Interrupted: apply stopped after (\d+) of (\d+) change\(s\) \(listed above\)\. "
                         r"To resume: run `provisioner plan` to see what is left, then apply again", err)
        assert said, err
        done, total = int(said.group(1)), int(said.group(2))
        assert 0 < done < total
        left = run(org.env(), "plan", SF_MANIFEST, "--format", "json")
        pending = [c for c in json.loads(left.output)["resource_changes"] if c["change"]["actions"] != ["no-op"]]
        assert 0 < len(pending) <= total - done  # what it said was done is done in the org
