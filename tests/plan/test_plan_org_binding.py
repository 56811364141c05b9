"""A saved plan is bound to the orgs it was made against (Salesforce organization id and API user,
Marketo instance and API user): apply with another org's credentials is refused, naming both ids,
even when that org's state matches the plan's fingerprint exactly (two fresh orgs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [str(REPO / "manifests" / "livestorm-salesforce.yaml"), str(REPO / "manifests" / "kaltura-marketo.yaml")]
ORG_A, ORG_B = "00DA0000000001AEAA", "00DB0000000002AEAA"


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Sandbox]]:
    from provisioner.manifest import load
    from provisioner.sandbox.seed import channels_from_manifests

    channels = channels_from_manifests(load(MANIFESTS).manifests)
    root = tmp_path_factory.mktemp("orgs")
    with Sandbox(root / "a", organization_id=ORG_A, marketo_channels=channels) as a, \
            Sandbox(root / "b", organization_id=ORG_B, marketo_channels=channels) as b:
        yield a, b


def run(box: Sandbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=box.env(), catch_exceptions=False)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def created(box: Sandbox) -> list[str]:
    """Campaigns and programs in the org, read from the sandbox's own state."""
    store = box.salesforce_app.store  # type: ignore[union-attr]
    return sorted([c["Name"] for c in store.all("Campaign")] +
                  [p["name"] for p in box.marketo_app.state["programs"].values()])


def test_a_plan_made_for_one_org_is_refused_by_another_and_applies_to_its_own(
        orgs: tuple[Sandbox, Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = orgs
    monkeypatch.chdir(tmp_path)
    code, out = run(a, "plan", "--out", "plan.json", *MANIFESTS)
    assert code == 0, out
    recorded = json.loads(Path("plan.json").read_text("utf-8"))["org"]
    user = a.credentials.username
    instance_a, instance_b = (box.marketo_url.split("://", 1)[1] for box in (a, b))  # type: ignore[union-attr]
    assert recorded["salesforce"] == {"organization_id": ORG_A, "user": user}
    assert recorded["marketo"] == {"instance": instance_a, "user": a.marketo_app.config.api_user}

    code, out = run(b, "apply", "plan.json")
    assert code == 1, out
    assert "The plan was made for another org" in out
    assert f"salesforce: the plan was made for organization_id {ORG_A}, user {user}; " \
           f"the credentials point at organization_id {ORG_B}, user {user}" in out
    assert f"marketo: the plan was made for instance {instance_a}" in out and f"instance {instance_b}" in out
    assert created(b) == []  # refused before any write

    code, out = run(a, "apply", "plan.json")
    assert code == 0, out
    assert "Livestorm Session Template" in created(a) and "Kaltura Event Template" in created(a)


def test_a_plan_file_that_records_no_org_is_refused(orgs: tuple[Sandbox, Sandbox], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = orgs
    monkeypatch.chdir(tmp_path)
    code, out = run(b, "plan", "--out", "plan.json", *MANIFESTS)
    assert code == 0, out
    data = json.loads(Path("plan.json").read_text("utf-8"))
    del data["org"]
    Path("plan.json").write_text(json.dumps(data), encoding="utf-8")
    code, out = run(b, "apply", "plan.json")
    assert code == 1, out
    assert f"salesforce: the plan records no org; the credentials point at organization_id {ORG_B}" in out
    assert created(b) == []
