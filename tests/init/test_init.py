"""`provisioner init`: a new integration repository that validates at once, and a second run that changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.precommit import main as pre_commit_hook

REPO = Path(__file__).resolve().parents[2]
COMMON = {"schemas/manifest.schema.json", "sessions.csv", ".env.example", ".pre-commit-config.yaml",
          ".github/workflows/provisioner.yml", ".gitignore"}


def init(*args: str) -> Result:
    return CliRunner().invoke(cli, ["init", *args])


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("args, manifests", [
    ((), {"kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2", "kaltura-marketo.yaml", "kaltura-sync.yaml"}),
    (("--target", "salesforce"), {"kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2"}),
    (("--source", "livestorm"), {"livestorm-salesforce.yaml", "livestorm-sync.yaml"}),
    (("--source", "kaltura", "--source", "livestorm", "--target", "salesforce", "--target", "marketo"),
     {"kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2", "kaltura-marketo.yaml", "kaltura-sync.yaml",
      "livestorm-salesforce.yaml", "livestorm-sync.yaml"}),
])
def test_scaffolds_the_chosen_manifests_and_they_validate(tmp_path: Path, args: tuple[str, ...],
                                                          manifests: set[str]) -> None:
    target = tmp_path / "acme-crm"
    result = init(str(target), *args)
    assert result.exit_code == 0, result.output
    assert files_in(target) == COMMON | {f"manifests/{m}" for m in manifests}
    for name in manifests:  # the shipped manifests, byte for byte
        assert (target / "manifests" / name).read_bytes() == (REPO / "manifests" / name).read_bytes()
        modeline = re.match(r"# yaml-language-server: \$schema=(\S+)", (target / "manifests" / name).read_text())
        assert modeline and (target / "manifests" / modeline.group(1)).is_file()  # the editor finds the schema
    validated = CliRunner().invoke(cli, ["validate", str(target / "manifests")])
    assert validated.exit_code == 0, validated.output
    assert f"created  {target / 'sessions.csv'}" in result.output
    if "livestorm-salesforce.yaml" in manifests and "kaltura-marketo.yaml" in manifests:
        assert "note: no Livestorm → Marketo manifests ship yet" in result.output
    if "kaltura-salesforce.yaml" in manifests and "kaltura-sync.yaml" not in manifests:
        assert "note: manifests/kaltura-sync.yaml left out: it syncs into marketo and salesforce" in result.output


def test_a_second_run_skips_everything_and_overwrites_nothing(tmp_path: Path) -> None:
    assert init(str(tmp_path)).exit_code == 0
    (tmp_path / ".env.example").write_text("SF_TARGET_ORG=acme-prod\n")  # the user's edits
    (tmp_path / "manifests" / "kaltura-marketo.yaml").unlink()  # and a file they removed
    before = {p: (tmp_path / p).read_bytes() for p in files_in(tmp_path)}
    again = init(str(tmp_path))
    assert again.exit_code == 0, again.output
    assert "1 file(s) created, 9 skipped." in again.output
    assert f"skipped  {tmp_path / '.env.example'} (already there; left as it is)" in again.output
    assert f"created  {tmp_path / 'manifests' / 'kaltura-marketo.yaml'}" in again.output
    assert all((tmp_path / p).read_bytes() == content for p, content in before.items())
    assert (tmp_path / ".env.example").read_text() == "SF_TARGET_ORG=acme-prod\n"


def test_a_combination_that_ships_no_manifests_is_a_usage_error(tmp_path: Path) -> None:
    result = init(str(tmp_path / "x"), "--source", "livestorm", "--target", "marketo")
    assert result.exit_code == 64  # a usage error (the exit-code table)
    assert "no Livestorm → Marketo manifests ship yet; choose --target salesforce" in result.output
    assert not (tmp_path / "x").exists()


def test_the_scaffolded_repository_works_with_its_own_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert init(str(tmp_path)).exit_code == 0
    # .env.example names variables the tool reads, and nothing in it is a value yet.
    env_lines = [l for l in (tmp_path / ".env.example").read_text().splitlines() if l and not l.startswith("#")]
    assert {l.split("=")[0] for l in env_lines} == {"SF_TARGET_ORG", "SFDX_AUTH_URL", "MARKETO_ENDPOINT",
                                                     "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"}
    assert all(l.endswith("=") for l in env_lines)
    assert ".env" in (tmp_path / ".gitignore").read_text().splitlines()
    # The pre-commit hook, run as pre-commit would (entry, no filenames), passes beside the workflow file.
    (hook,) = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert hook["entry"] == "provisioner-pre-commit" and hook["pass_filenames"] is False
    assert re.search(hook["files"], ".github/workflows/provisioner.yml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        pre_commit_hook([])
    assert stop.value.code in (0, None), capsys.readouterr()
    assert "OK: 4 file(s), 4 manifest(s) valid." in capsys.readouterr().err
    # The sample sessions render into reviewable event manifests that validate with the setup.
    rendered = CliRunner().invoke(cli, ["event", "new", "kaltura-event", "--sessions", "sessions.csv",
                                        "--manifests", "manifests", "--out-dir", "events"])
    assert rendered.exit_code == 0, rendered.output
    sessions = (tmp_path / "sessions.csv").read_text().splitlines()
    assert len(list((tmp_path / "events").glob("*.yaml"))) == len(sessions) - 1
    assert CliRunner().invoke(cli, ["validate", "manifests", "events"]).exit_code == 0


def test_json_output_lists_what_was_created_and_what_was_left_alone(tmp_path: Path) -> None:
    import json

    first = json.loads(init(str(tmp_path), "--format", "json").output)
    assert first["version"] == 1 and first["command"] == "init" and first["skipped"] == []
    on_disk = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(first["created"]) == on_disk  # exactly the files it wrote
    again = json.loads(init(str(tmp_path), "--format", "json").output)
    assert again["created"] == [] and sorted(again["skipped"]) == on_disk
