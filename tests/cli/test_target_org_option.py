"""`--target-org ALIAS` on every command that connects to Salesforce: it sets SF_TARGET_ORG for the run, which
the Salesforce connection reads to reuse the Salesforce CLI's stored login."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from provisioner.cli import cli

REPO = Path(__file__).resolve().parents[2]
CONNECTING = [["plan"], ["apply"], ["drift"], ["event", "new"], ["export", "salesforce"], ["sync"]]


@pytest.mark.parametrize("command", CONNECTING, ids=" ".join)
def test_every_connecting_command_takes_target_org(command: list[str]) -> None:
    shown = CliRunner().invoke(cli, [*command, "--help"]).output
    assert "--target-org ALIAS" in shown and "SF_TARGET_ORG" in shown


def test_the_option_sets_sf_target_org_for_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # setenv then delenv: monkeypatch records that the variable was absent and removes what the run sets,
    # so no later test in this process inherits an SF_TARGET_ORG (it would be a second login beside theirs).
    monkeypatch.setenv("SF_TARGET_ORG", "placeholder")
    monkeypatch.delenv("SF_TARGET_ORG")
    # A manifest with a finding stops the run before any connection: what is checked is the option alone.
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: provisioner/v1\nkind: Salesforce\n")
    result = CliRunner().invoke(cli, ["plan", str(broken), "--target-org", "my-sandbox"])
    assert result.exit_code == 1, result.output
    assert os.environ["SF_TARGET_ORG"] == "my-sandbox"
