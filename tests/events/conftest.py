"""Event tests: one sandbox with the Kaltura and Livestorm setups applied, and the real CLI in-process."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.manifest import load
from provisioner.plan import apply_saved_plan
from provisioner.providers.marketo.client import connect
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.seed import channels_from_manifests
from provisioner.workflow import connect_session

REPO = Path(__file__).resolve().parents[2]
SETUP = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                "kaltura-marketo.yaml", "livestorm-salesforce.yaml")]
FIELDS = ["name", "start", "end", "type"]


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox with the shipped setup manifests applied (template campaigns, template program)."""
    setup = load(SETUP)
    assert setup.ok, [f.render() for f in setup.findings]
    with Sandbox(tmp_path_factory.mktemp("events") / "sandbox",
                 marketo_channels=channels_from_manifests(setup.manifests)) as sandbox:
        session = connect_session(setup.manifests, setup.files, sandbox.env())
        plan = session.plan()
        report = apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False)
        assert report.ok, [(r.address, r.message) for r in report.failed]
        yield sandbox


def run(box: Sandbox | None, *args: str, calls_per_20s: int = 100) -> tuple[int, str]:
    """`provisioner ARGS` from the repository root (templates/ and manifests/ as a user has them)."""
    env = dict(box.env(), MARKETO_MAX_CALLS_PER_20S=str(calls_per_20s)) if box else {}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    if box is not None:
        assert box.env()["SF_CLIENT_SECRET"] not in output
    return result.exit_code, output


def write_sessions(path: Path, rows: list[dict[str, Any]], fields: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def campaigns(box: Sandbox, names: list[str]) -> dict[str, dict[str, Any]]:
    """Campaigns by name with their statuses, read through the tool's own client (a fresh connection)."""
    conn = SalesforceConnection.from_env(box.env())
    return {n: c for n, c in conn.read_campaigns(names).items() if c}


def calls(box: Sandbox) -> int:
    stats = box.stats()
    return sum(s["calls"]["total"] for s in stats.values())


def programs(box: Sandbox) -> list[dict[str, Any]]:
    """Every program of the instance, by browsing (200 a page) and reading each one by id."""
    client = connect(box.env())
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = client.get("/rest/asset/v1/programs.json", {"maxReturn": 200, "offset": offset}) or []
        found += page
        if len(page) < 200:
            break
        offset += 200
    return found
