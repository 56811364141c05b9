"""`--format json` on every command: one document on stdout, {"version": 1, "command": ...}, facts that match
the org (read back through a fresh plan), nothing else on stdout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from click.testing import CliRunner, Result

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
SF_MANIFEST = str(REPO / "manifests" / "kaltura-salesforce.yaml")


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def document(result: Result, command: str) -> dict[str, Any]:
    data = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert data["version"] == 1 and data["command"] == command
    return data


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox", marketo=False) as box:
        yield box


def _creates_in(manifest: str) -> int:
    """What an empty org lacks of the manifest: custom objects (those with a label; CampaignMember is
    standard), their fields, each template campaign and its statuses, the permission set."""
    spec = yaml.safe_load(Path(manifest).read_text())["spec"]
    objects = spec.get("objects", [])
    count = sum(1 for o in objects if "label" in o) + sum(len(o.get("fields", [])) for o in objects)
    count += sum(1 + len(c["statuses"]) for c in spec.get("campaignMemberStatuses", []))
    return count + (1 if spec.get("access", {}).get("permissionSet") else 0)


def test_apply_json_reports_what_the_org_then_holds(org: Sandbox) -> None:
    refused = run(org.env(), "apply", SF_MANIFEST, "--format", "json")
    assert refused.exit_code == 1 and "pass --auto-approve" in refused.output
    applied = run(org.env(), "apply", SF_MANIFEST, "--auto-approve", "--format", "json")
    assert applied.exit_code == 0, applied.output
    data = document(applied, "apply")
    assert data["ok"] is True and data["applied"] is True
    assert data["summary"]["added"] == len(data["results"]) == data["plan"]["add"] == _creates_in(SF_MANIFEST)
    assert all(r["ok"] and r["action"] == "create" for r in data["results"])
    again = run(org.env(), "plan", SF_MANIFEST, "--detailed-exitcode", "--format", "json")
    assert again.exit_code == 0 and document(again, "plan")["summary"]["add"] == 0
    nothing = run(org.env(), "apply", SF_MANIFEST, "--auto-approve", "--format", "json")
    assert nothing.exit_code == 0 and document(nothing, "apply")["applied"] is False


def test_validate_drift_and_show_are_versioned(org: Sandbox, tmp_path: Path) -> None:
    assert document(run({}, "validate", SF_MANIFEST, "--format", "json"), "validate")["valid"] is True
    assert document(run(org.env(), "drift", SF_MANIFEST, "--format", "json"), "drift")["drift"] is True
    plan_file = tmp_path / "plan.json"
    assert run(org.env(), "plan", SF_MANIFEST, "--out", str(plan_file)).exit_code == 0
    shown = document(run({}, "show", str(plan_file), "--format", "json"), "show")
    assert shown["summary"]["add"] == _creates_in(SF_MANIFEST) and shown["targets"] == []


def test_export_json_is_the_manifest_the_yaml_prints(org: Sandbox) -> None:
    assert run(org.env(), "apply", SF_MANIFEST, "--auto-approve").exit_code == 0
    args = ["export", "salesforce", "--object", "UserSessionEngagement__c", "--campaign", "Kaltura Event Template"]
    as_yaml = run(org.env(), *args)
    as_json = run(org.env(), *args, "--format", "json")
    assert as_yaml.exit_code == as_json.exit_code == 0, as_json.output
    documents = document(as_json, "export salesforce")["documents"]
    assert documents == [d for d in yaml.safe_load_all(as_yaml.stdout) if d]
    assert documents[0]["kind"] == "Salesforce"


def test_demo_json_and_a_fresh_rejects_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    stale = tmp_path / ".provisioner" / "demo-rejects.csv"
    stale.parent.mkdir()
    stale.write_text("row,reason\nlast run's row,left over from the previous demo\n")
    result = CliRunner().invoke(cli, ["demo", "--manifests", str(REPO / "manifests"), "--format", "json"], env={})
    assert result.exit_code == 0, result.output
    data = document(result, "demo")
    assert data["ok"] is True and data["error"] is None and len(data["steps"]) == 8
    rejects = stale.read_text()
    assert "left over from the previous demo" not in rejects
    assert rejects.count("\n") == 3  # the header and the export's two bad rows, once


def test_sandbox_serve_json_then_sigterm_stops_it(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", "from provisioner.cli import main; main()", "sandbox", "serve",
                             "--format", "json", "--env-file", str(tmp_path / "sb.env")], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    text = ""
    for line in proc.stdout:
        text += line
        if line.startswith("}"):
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    data = json.loads(text)
    assert data["version"] == 1 and data["command"] == "sandbox serve"
    assert data["salesforce_url"].startswith("https://127.0.0.1:") and data["ca_bundle"].endswith(".pem")
    assert data["salesforce_url"] in (tmp_path / "sb.env").read_text()  # the env file points at the same org
    assert proc.returncode == 0 and "Sandbox stopped" in err
