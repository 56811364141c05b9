"""`provisioner export marketo` against an emulated instance over real HTTPS.

Round trip: an instance built from the shipped manifest exports a manifest that validates and
plans `No changes.`; an instance changed by hand exports the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.manifest import load
from provisioner.providers.marketo.provider import PROVIDER
from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.seed import channels_from_manifests

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "manifests" / "kaltura-marketo.yaml"
EXPORT_ALL = ["export", "marketo", "--channel", "Kaltura Event", "--program", "Kaltura Event Template",
              "--custom-object", "kalturaUserSessionEngagement", "--activity", "userSessionEngagement"]


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _channels(**steps: int) -> list[dict[str, Any]]:
    """The shipped manifest's channels as the sandbox seeds them; ``steps`` moves statuses by hand."""
    channels = channels_from_manifests(load([str(SHIPPED)]).manifests)
    for channel in channels:
        for status in channel["progressionStatuses"]:
            status["step"] = steps.get(status["name"], status["step"])
    return channels


def _built(tmp: Path, **steps: int) -> Iterator[Sandbox]:
    with Sandbox(tmp, marketo_channels=_channels(**steps)) as box:
        applied = run(box.env(), "apply", str(SHIPPED), "--auto-approve")
        assert applied.exit_code == 0, applied.output
        yield box


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from _built(tmp_path_factory.mktemp("marketo"))


def test_export_of_a_built_instance_validates_and_plans_no_changes(instance: Sandbox, tmp_path: Path) -> None:
    result = run(instance.env(), *EXPORT_ALL, "--name", "kaltura-instance")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("# yaml-language-server: $schema=")
    path = tmp_path / "marketo.yaml"
    path.write_text(text)
    assert run(instance.env(), "validate", str(path)).exit_code == 0
    planned = run(instance.env(), "plan", str(path), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith("No changes.")
    spec = yaml.safe_load(text)["spec"]
    shipped = yaml.safe_load(SHIPPED.read_text())["spec"]
    assert spec["channels"][0]["statuses"] == shipped["channels"][0]["statuses"]
    assert spec["programs"][0]["folder"] == "Marketing Activities/Kaltura Events"
    assert [f["name"] for f in spec["customObjects"][0]["fields"]] == \
        [f["name"] for f in shipped["customObjects"][0]["fields"]]
    assert len(spec["customActivities"][0]["attributes"]) == 19


def test_a_missing_program_or_custom_object_exits_1(instance: Sandbox) -> None:
    for args, expected in ((("--program", "No Such Program"), "no program named 'No Such Program'"),
                           (("--custom-object", "noSuchObject"), "no custom object named 'noSuchObject'"),
                           (("--channel", "No Such Channel"), "no channel named 'No Such Channel'")):
        result = run(instance.env(), "export", "marketo", *args)
        assert result.exit_code == 1, result.output
        assert expected in result.stderr and result.stdout == ""


def test_export_shows_changes_made_by_hand(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    for box in _built(tmp_path_factory.mktemp("marketo-changed"), Blocked=75):
        client = PROVIDER.connect(box.env())
        program = client.get("/rest/asset/v1/program/byName.json", {"name": "Kaltura Event Template"})[0]
        client.post_form(f"/rest/asset/v1/program/{program['id']}.json", {"description": "Edited in Marketo: by hand",
                                                                         "startDate": "2027-05-01",
                                                                         "endDate": "2027-05-02"})
        schema = "/rest/v1/customobjects/schema/kalturaUserSessionEngagement"
        client.post_json(f"{schema}/addField.json", {"input": [
            {"name": "session_rating", "displayName": "Session Rating", "dataType": "integer"}]})
        client.post_json(f"{schema}/approve.json", None)

        result = run(box.env(), *EXPORT_ALL)
        assert result.exit_code == 0, result.output
        spec = yaml.safe_load(result.stdout)["spec"]
        assert {"name": "Blocked", "step": 75} in spec["channels"][0]["statuses"]
        assert spec["programs"][0]["description"] == "Edited in Marketo: by hand"
        assert (spec["programs"][0]["startDate"], spec["programs"][0]["endDate"]) == ("2027-05-01", "2027-05-02")
        fields = {f["name"]: f for f in spec["customObjects"][0]["fields"]}
        assert fields["session_rating"] == {"name": "session_rating", "displayName": "Session Rating",
                                            "dataType": "integer"}
        path = tmp_path / "changed.yaml"
        path.write_text(result.stdout)
        planned = run(box.env(), "plan", str(path), "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output
