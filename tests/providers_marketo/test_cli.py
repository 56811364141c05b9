"""The provider through the real command line (in-process click runner, real HTTPS to the sandbox):
a channel step that differs is a manual step; apply fails on it only with --strict."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.manifest.model import ManifestSet
from provisioner.sandbox.httpserver import SandboxServer
from provisioner.sandbox.marketo.config import default_channels
from provisioner.sandbox.tls import TLSMaterial

from .support import MANIFEST, sandbox_channel, seeded_config, serving


@pytest.fixture(scope="module")
def drifted(tls: TLSMaterial, manifests: ManifestSet) -> Iterator[SandboxServer]:
    channel = sandbox_channel(manifests.marketo[0].channels[0], Blocked=75)
    with serving(tls, seeded_config(manifests, channels=[channel] + default_channels())) as server:
        yield server


def run(server: SandboxServer, tls: TLSMaterial, *args: str) -> tuple[int, str]:
    env = {"MARKETO_ENDPOINT": server.base_url + "/rest", "MARKETO_CLIENT_ID": server.app.config.client_id,
           "MARKETO_CLIENT_SECRET": server.app.config.client_secret, "MARKETO_CA_BUNDLE": str(tls.ca_cert)}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert server.app.config.client_secret not in output
    return result.exit_code, output


def test_plan_apply_strict_and_drift_from_the_command_line(
        drifted: SandboxServer, tls: TLSMaterial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    code, out = run(drifted, tls, "plan", "--detailed-exitcode", str(MANIFEST))
    assert code == 2
    assert "MARKETO_ENDPOINT ends with '/rest'" in caplog.text
    assert 'Change status "Blocked" at step 70: leave Success unchecked (now step 75, Success unchecked).' in out

    code, out = run(drifted, tls, "apply", "--auto-approve", "--strict", str(MANIFEST))
    assert code == 1, out  # everything applied, but a manual step is left and --strict
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed. 1 manual step left to do." in out
    code, out = run(drifted, tls, "apply", "--auto-approve", str(MANIFEST))
    assert code == 0, out  # without --strict a manual step is reported, not an error
    code, out = run(drifted, tls, "apply", "--auto-approve", "--strict", str(MANIFEST))
    assert code == 1, out

    code, out = run(drifted, tls, "plan", "--detailed-exitcode", str(MANIFEST))
    assert code == 2 and "Plan: 0 to add, 0 to change, 0 to destroy, 1 manual." in out
