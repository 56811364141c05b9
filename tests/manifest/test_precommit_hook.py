"""The pre-commit hook validates manifests only: workflows, docker-compose and other YAML are ignored."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from provisioner.precommit import main

REPO = Path(__file__).resolve().parents[2]

COMPOSE = """services:
  crm-sync:
    image: python:3.12-slim
    command: provisioner sync /data/*.csv --manifest manifests/
    env_file: .env
    volumes: ["./export:/data:ro"]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An integration repository: two manifests, a GitHub workflow, a compose file and a vars file."""
    (tmp_path / "manifests").mkdir()
    for name in ("livestorm-salesforce.yaml", "livestorm-sync.yaml"):
        shutil.copy(REPO / "manifests" / name, tmp_path / "manifests" / name)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "ci" / "github-actions.yml", tmp_path / ".github" / "workflows" / "ci.yml")
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    (tmp_path / "manifests" / "vars.yaml").write_text("name: Summit\nstart: 2027-03-01\n")
    return tmp_path


def hook(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        main(list(args))
    captured = capsys.readouterr()
    return int(stop.value.code or 0), captured.out + captured.err


def test_workflow_and_compose_files_pass_untouched(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workflow, compose = repo / ".github/workflows/ci.yml", repo / "docker-compose.yml"
    code, out = hook(capsys, str(workflow), str(compose), str(repo / "manifests" / "vars.yaml"))
    assert code == 0, out
    assert "no manifests among 3 path(s)" in out
    # The same files given to `validate` itself are findings: the hook is what keeps them out.
    from click.testing import CliRunner
    from provisioner.cli import cli
    assert CliRunner().invoke(cli, ["validate", str(compose)]).exit_code == 1


def test_a_folder_is_searched_for_manifests_only(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = hook(capsys, str(repo))
    assert code == 0, out
    assert "OK: 2 file(s), 2 manifest(s) valid." in out


def test_a_broken_manifest_fails_the_commit_with_its_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "manifests" / "livestorm-salesforce.yaml"
    lines = path.read_text().splitlines()
    line_no = next(i for i, line in enumerate(lines, 1) if re.search(r"\btype: (Text|Picklist|Checkbox)", line))
    lines[line_no - 1] = re.sub(r"type: \w+", "type: Txet", lines[line_no - 1])
    path.write_text("\n".join(lines) + "\n")
    code, out = hook(capsys, str(repo))
    assert code == 1, out
    assert f"{path}:{line_no}:" in out


def test_configured_paths_are_strict(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = repo / "manifests" / "typo.yaml"
    typo.write_text((REPO / "manifests" / "livestorm-salesforce.yaml").read_text()
                    .replace("apiVersion: provisioner/v1", "apiVersion: provisoner/v1"))
    code, out = hook(capsys, str(repo), "--include", "manifests/livestorm-*.yaml", "--include", "manifests/typo.yaml")
    assert code == 1, out
    assert str(typo) in out and "apiVersion" in out
    code, out = hook(capsys, str(repo), "--include", "manifests/livestorm-*.yaml")
    assert code == 0 and "OK: 2 file(s)" in out, out


def test_the_published_hook_runs_this_selection_on_the_whole_repository() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (entry,) = [h for h in hooks if h["id"] == "provisioner-validate"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[entry["entry"]] == "provisioner.precommit:main"
    assert entry["pass_filenames"] is False  # cross-references span files: validate them together
    files = re.compile(entry["files"])
    assert files.search(".github/workflows/ci.yml") and files.search("docker-compose.yml")
    assert files.search("manifests/kaltura-salesforce-polls.yaml.j2")
