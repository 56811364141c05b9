"""Sync tests: an in-process sandbox with the Kaltura manifests applied, and helpers to read the orgs."""

from __future__ import annotations

from pathlib import Path
import time
from typing import Any, Iterator

import pytest
import requests

from provisioner.manifest import load
from provisioner.plan import apply_saved_plan
from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.seed import channels_from_manifests
from provisioner.workflow import connect_session

from make_fixture import main as make_fixture
from synchelp import BATCH, PEOPLE, SERVE, ServedSandbox, run_sync_cli

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                    "kaltura-marketo.yaml", "kaltura-sync.yaml")]
FIXTURES = Path(__file__).parent / "fixtures"
DATA = [str(FIXTURES / f"kaltura-export-{k}.csv") for k in ("registrations", "engagement", "polls")]


def apply_manifests(env: dict[str, str]) -> None:
    """Provision the orgs from the manifests the way a user would: plan, then apply."""
    result = load(MANIFESTS)
    assert result.ok, [f.render() for f in result.findings]
    session = connect_session(result.manifests, result.files, env)
    plan = session.plan()
    report = apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False)
    assert report.ok, [(r.address, r.message) for r in report.failed]


def seed_people(box: Sandbox) -> dict[str, str]:
    """A Contact and a Lead sharing an email, and a converted Lead; returns their ids."""
    from provisioner.providers.salesforce.connection import SalesforceConnection
    conn = SalesforceConnection.from_env(box.env())
    contact = conn.data.create("Contact", [{"LastName": "Shared", "Email": "shared.person@example.com"}])[0].id
    lead = conn.data.create("Lead", [{"LastName": "Shared", "Company": "X", "Email": "shared.person@example.com"}])[0].id
    converted = conn.data.create("Lead", [{"LastName": "Conv", "Company": "Y",
                                           "Email": "converted.lead@example.com"}])[0].id
    r = requests.post(f"{box.salesforce_url}/__sandbox/leads/{converted}/convert", json={}, verify=box.ca_bundle)
    r.raise_for_status()
    return {"contact": str(contact), "lead": str(lead), "converted": str(converted)}


def manifests_channels() -> list[dict[str, Any]]:
    return channels_from_manifests(load(MANIFESTS).manifests)


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    """A sandbox with the Kaltura setup applied and the seed people created."""
    tmp = tmp_path_factory.mktemp("sync")
    with Sandbox(tmp / "sandbox", marketo_channels=manifests_channels()) as box:
        apply_manifests(box.env())
        yield box, seed_people(box)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The fixture's generator with fewer people, for the subprocess tests."""
    return make_fixture(n=PEOPLE, folder=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def base_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state file with the Kaltura setup applied and the seed people (Contact+Lead sharing an email, a
    converted Lead) created: every run below starts from a copy of it."""
    folder = tmp_path_factory.mktemp("base")
    with Sandbox(state_file=folder / "base.json", marketo_channels=manifests_channels()) as box:
        apply_manifests(box.env())
        seed_people(box)
    return folder / "base.json"


@pytest.fixture(scope="session")
def uninterrupted(base_state: Path, small_data: list[str], tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[Any, float]]:
    """The org snapshot after one uninterrupted run of ``small_data`` (and how long it took).

    Kept for tests written against it; new tests compare the orgs with :mod:`oracle` instead (what the
    input says), since a bug present in both runs would pass a run-against-run comparison."""
    folder = tmp_path_factory.mktemp("clean")
    box = ServedSandbox(base_state, folder, *SERVE)
    try:
        started = time.monotonic()
        proc = run_sync_cli(box.env, folder, *BATCH, data=small_data)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
        yield box.snapshot(), time.monotonic() - started
    finally:
        box.stop()
