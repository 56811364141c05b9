"""An emulated org per test (fresh state), reached over real HTTPS through the tool's own clients."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
SF_MANIFESTS = ["kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2", "livestorm-salesforce.yaml"]


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox", marketo=False) as box:
        yield box


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    """A private copy of the Salesforce seed manifests that a test may edit."""
    target = tmp_path / "manifests"
    target.mkdir()
    for name in SF_MANIFESTS:
        shutil.copy(REPO / "manifests" / name, target / name)
    return target


def run(env: dict[str, str], *args: str) -> Result:
    """Run the real CLI with ``env`` as the whole connection environment."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
