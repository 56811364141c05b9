"""The shipped GitHub Actions workflow, run step by step against the sandbox so the example cannot rot.

The workflow is read as GitHub reads it; each job's `if:` is evaluated for the event, and each
`run:` step is executed with bash as the runner does (`bash --noprofile --norc -eo pipefail`), with
the workflow's, job's and step's `env:` and the secrets pointing at the sandbox. `pip` and `gh` are
stand-ins on PATH that record what they were asked; `provisioner` is the real one, behind a
stand-in that records each command line. `uses:` steps are limited to the four known actions
(checkout, setup-python, upload/download-artifact), which here mean "the files are already in the
folder".
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.http import make_session
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
KNOWN_ACTIONS = {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/download-artifact"}
PR_NUMBER = "7"


def load_workflow() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads a bare `on:` key as True
    return workflow


# -- a small evaluator for the ${{ }} expressions the workflow uses -----------------------------------
_TOKEN = re.compile(r"\s*('(?:[^']|'')*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][\w.-]*)")


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """GitHub's expression subset used here: context paths, 'strings', ==, !=, &&, ||, !, parentheses."""
    python, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        assert match, f"cannot read the expression {expression!r} at {position}"
        token, position = match.group(1), match.end()
        if token.startswith("'"):
            python.append(repr(token[1:-1].replace("''", "'")))
        elif token in ("==", "!=", "(", ")"):
            python.append(token)
        else:
            python.append({"&&": " and ", "||": " or ", "!": " not ", "true": "True", "false": "False"}.get(
                token) or repr(lookup(context, token)))
    return eval("".join(python), {"__builtins__": {}})  # noqa: S307 - tokens are checked above


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def substitute(text: str, context: dict[str, Any]) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), context)), str(text))


# -- the run ----------------------------------------------------------------------------------------
@dataclass
class Run:
    """One workflow run: which jobs ran, what each stand-in recorded, and the steps' outputs."""

    jobs_run: list[str] = field(default_factory=list)
    jobs_skipped: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    pip: list[str] = field(default_factory=list)
    gh: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def stand_ins(bin_dir: Path) -> None:
    """`pip`, `gh` and a recording `provisioner` in front of the real one."""
    bin_dir.mkdir()
    real = Path(sys.executable).parent / "provisioner"
    scripts = {
        "pip": f'echo "$*" >> "{bin_dir}/pip.log"\n',
        "gh": (f'echo "$*" >> "{bin_dir}/gh.log"\n'
               'while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then cat "$2" > "' + str(bin_dir) +
               '/comment.$(date +%s%N).md"; fi; shift; done\n'),
        "provisioner": f'echo "$*" >> "{bin_dir}/provisioner.log"\nexec "{real}" "$@"\n',
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run_workflow(workflow: dict[str, Any], event: str, ref: str, folder: Path, bin_dir: Path,
                 secrets: dict[str, str], variables: dict[str, str], base_env: dict[str, str]) -> Run:
    """Run every job whose `if:` holds for ``event`` on ``ref``, in `needs` order, in ``folder``."""
    github = {"event_name": event, "ref": ref, "token": "ghs_stand_in_token",
              "event": {"pull_request": {"number": PR_NUMBER}} if event == "pull_request" else {}}
    run = Run()
    needs: dict[str, Any] = {}
    for name, job in workflow["jobs"].items():
        context = {"github": github, "secrets": secrets, "vars": variables, "needs": needs}
        required = job.get("needs", [])
        required = [required] if isinstance(required, str) else required
        if any(needs.get(r, {}).get("result") != "success" for r in required) or (
                "if" in job and not evaluate(job["if"], context)):
            run.jobs_skipped.append(name)
            needs[name] = {"result": "skipped", "outputs": {}}
            continue
        run.jobs_run.append(name)
        steps: dict[str, Any] = {}
        env = {k: substitute(v, context) for k, v in (workflow.get("env") or {}).items()}
        env.update({k: substitute(v, context) for k, v in (job.get("env") or {}).items()})
        for number, step in enumerate(job["steps"]):
            context = {"github": github, "secrets": secrets, "vars": variables, "needs": needs, "steps": steps}
            if "if" in step and not evaluate(step["if"], context):
                continue
            if "uses" in step:
                assert step["uses"].split("@")[0] in KNOWN_ACTIONS, step["uses"]
                continue
            output = folder / f".github_output_{name}_{number}"
            output.write_text("")
            step_env = dict(base_env, **env, **{k: substitute(v, context) for k, v in (step.get("env") or {}).items()})
            step_env.update(GITHUB_OUTPUT=str(output), CI="true", GITHUB_ACTIONS="true")
            script = folder / f".step_{name}_{number}.sh"
            script.write_text(substitute(step["run"], context))
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=folder,
                                  env=step_env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"job {name}, step {step.get('name', number)}:\n{done.stdout}\n{done.stderr}"
            if "id" in step:
                steps[step["id"]] = {"outputs": dict(line.split("=", 1) for line in output.read_text().splitlines()
                                                     if "=" in line)}
        outputs = {k: substitute(v, {"steps": steps}) for k, v in (job.get("outputs") or {}).items()}
        needs[name] = {"result": "success", "outputs": outputs}
    for log, target in (("provisioner.log", run.commands), ("pip.log", run.pip), ("gh.log", run.gh)):
        if (bin_dir / log).exists():
            target.extend((bin_dir / log).read_text().splitlines())
            (bin_dir / log).unlink()
    for comment in sorted(bin_dir.glob("comment.*.md")):
        run.comments.append(comment.read_text())
        comment.unlink()
    return run


@pytest.fixture
def scaffolded(tmp_path: Path) -> Path:
    """A repository made by `provisioner init`, as a user starts one (Livestorm → Salesforce: the smallest
    setup keeps this test fast; the Marketo variables of the workflow are then unused)."""
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "repo"), "--source", "livestorm"])
    assert result.exit_code == 0, result.output
    return tmp_path / "repo"


def campaigns_in_org(box: Sandbox) -> set[str]:
    """Campaign names, read with an independent REST query (not the tool's reader)."""
    creds = box.credentials
    http = make_session(box.ca_bundle)
    token = http.post(f"{box.salesforce_url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": creds.client_id,
        "client_secret": creds.client_secret}).json()["access_token"]
    rows = http.get(f"{box.salesforce_url}/services/data/v60.0/query", params={"q": "SELECT Name FROM Campaign"},
                    headers={"Authorization": f"Bearer {token}"}).json()["records"]
    return {r["Name"] for r in rows}


@dataclass
class Runner:
    """A sandbox with the scaffolded repository's setup, and the secrets a repository would hold for it."""

    box: Sandbox
    folder: Path
    bin_dir: Path
    secrets: dict[str, str]
    variables: dict[str, str]
    base_env: dict[str, str]

    def run(self, event: str, ref: str) -> Run:
        return run_workflow(load_workflow(), event, ref, self.folder, self.bin_dir, self.secrets, self.variables,
                            self.base_env)

    def secret_values(self) -> list[str]:
        return [self.box.credentials.refresh_token, self.box.credentials.client_secret,
                self.secrets["MARKETO_CLIENT_SECRET"]]


@pytest.fixture
def runner(scaffolded: Path, tmp_path: Path) -> Iterator[Runner]:
    bin_dir = tmp_path / "bin"
    stand_ins(bin_dir)
    with Sandbox(tmp_path / "sandbox") as box:
        env = box.env()
        host = box.salesforce_url.removeprefix("https://")
        secrets = {"SFDX_AUTH_URL": f"force://{box.credentials.client_id}::{box.credentials.refresh_token}@{host}",
                   "MARKETO_CLIENT_ID": env["MARKETO_CLIENT_ID"], "MARKETO_CLIENT_SECRET": env["MARKETO_CLIENT_SECRET"]}
        # The runner's own environment: a PATH, and trust in the sandbox's CA (real orgs need no CA file).
        base = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(tmp_path),
                "SF_CA_BUNDLE": box.ca_bundle, "MARKETO_CA_BUNDLE": box.ca_bundle}
        yield Runner(box, scaffolded, bin_dir, secrets, {"MARKETO_ENDPOINT": env["MARKETO_ENDPOINT"]}, base)


def test_the_workflow_is_what_init_scaffolds_and_apply_waits_for_approval(scaffolded: Path) -> None:
    workflow = load_workflow()
    assert yaml.safe_load((scaffolded / ".github/workflows/provisioner.yml").read_text())["jobs"] == workflow["jobs"]
    assert set(workflow["on"]) >= {"push", "pull_request"} and "if" not in workflow["jobs"]["validate"]
    apply = workflow["jobs"]["apply"]
    assert apply.get("environment"), "apply must wait for the environment's required reviewers"
    assert apply["needs"] == "plan" and "needs.plan.outputs.changes == 'true'" in apply["if"]
    assert workflow["jobs"]["plan"]["permissions"]["pull-requests"] == "write"


def test_a_pull_request_is_validated_and_gets_the_plan_as_a_comment(runner: Runner) -> None:
    pull_request = runner.run("pull_request", "refs/pull/7/merge")
    assert pull_request.jobs_run == ["validate", "plan"] and pull_request.jobs_skipped == ["apply"]
    assert [c.split()[0] for c in pull_request.commands] == ["validate", "plan", "show"]
    assert pull_request.pip == [f"install {PROJECT['name']}=={PROJECT['version']}"] * 2
    assert pull_request.gh == [f"pr comment {PR_NUMBER} --body-file plan.md --edit-last"]
    (comment,) = pull_request.comments
    assert re.match(r"### Plan: [1-9]\d* to add, 0 to change, 0 to destroy\.\n", comment), comment[:200]
    assert "<details>" in comment and 'salesforce.campaign."Livestorm Session Template"' in comment
    assert "Livestorm Session Template" not in campaigns_in_org(runner.box)  # a pull request changes nothing
    assert not [s for s in runner.secret_values() if s in comment + (runner.folder / "plan.json").read_text()]
    assert runner.run("push", "refs/heads/feature").jobs_run == ["validate"]  # a branch push only validates


def test_a_merge_applies_the_saved_plan(runner: Runner) -> None:
    merged = runner.run("push", "refs/heads/main")
    assert merged.jobs_run == ["validate", "plan", "apply"]
    assert [c.split()[0] for c in merged.commands] == ["validate", "plan", "show", "apply"]
    assert merged.commands[-1] == "apply plan.json" and merged.gh == []
    assert "Livestorm Session Template" in campaigns_in_org(runner.box)
