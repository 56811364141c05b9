"""Logins admins already have: the Salesforce CLI's stored login (SF_TARGET_ORG), an SFDX auth URL, a
.env file; and connection mistakes told as the host, the variable to fix and the likely cause."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from provisioner.http import make_session
from provisioner.sandbox.runtime import Sandbox

from .conftest import REPO, run

MANIFEST = str(REPO / "manifests" / "livestorm-salesforce.yaml")
LIBRARY_TEXT = ("Traceback", "HTTPSConnectionPool", "urllib3", "AttributeError", "Max retries", "NameResolutionError",
                "NewConnectionError")


def _token(org: Sandbox) -> dict[str, str]:
    """A session minted the way `sf org login web` ends up with one (an OAuth token for the org)."""
    creds = org.credentials
    return make_session(org.ca_bundle).post(f"{org.salesforce_url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": creds.client_id,
        "client_secret": creds.client_secret}).json()


def _fake_sf(tmp_path: Path, answer: dict, exit_code: int = 0) -> Path:
    """A `sf` executable on PATH that prints ``answer`` as `sf org display --json` does, and logs its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "answer.json").write_text(json.dumps(answer, indent=2))
    script = bin_dir / "sf"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> '{bin_dir}/calls.log'\ncat '{bin_dir}/answer.json'\n"
                      f"exit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def _org_display(instance_url: str, token: str, alias: str) -> dict:
    """The JSON shape `sf org display --target-org ALIAS --json` prints (Salesforce CLI v2)."""
    return {"status": 0, "result": {
        "id": "00D5g000004ABCDEAA", "apiVersion": "60.0", "accessToken": token, "instanceUrl": instance_url,
        "username": "admin@example.com", "clientId": "PlatformCLI", "connectedStatus": "Connected", "alias": alias},
        "warnings": ["This command will expose sensitive information that allows for subsequent activity using "
                     "your current authenticated session."]}


def _path_with(bin_dir: Path) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def test_target_org_reuses_the_salesforce_cli_login(org: Sandbox, tmp_path: Path) -> None:
    token = _token(org)
    bin_dir = _fake_sf(tmp_path, _org_display(token["instance_url"], token["access_token"], "my-sandbox"))
    env = {"SF_TARGET_ORG": "my-sandbox", "SF_CA_BUNDLE": org.ca_bundle, "PATH": _path_with(bin_dir)}
    planned = run(env, "plan", MANIFEST, "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert '+ salesforce.campaign."Livestorm Session Template"' in planned.output
    applied = run(env, "apply", MANIFEST, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert run(env, "plan", MANIFEST, "--detailed-exitcode").exit_code == 0  # the org holds it now
    calls = (bin_dir / "calls.log").read_text().splitlines()
    assert calls and set(calls) == {"org display --target-org my-sandbox --json"}
    assert token["access_token"] not in planned.output + applied.output


def test_target_org_without_a_login_or_without_the_cli_says_what_to_run(tmp_path: Path) -> None:
    error = {"code": 1, "context": "OrgDisplay", "commandName": "OrgDisplay", "exitCode": 1, "status": 1,
             "message": "No authorization information found for nope.", "name": "NamedOrgNotFoundError",
             "stack": "NamedOrgNotFoundError: No authorization information found for nope.\n    at ...",
             "warnings": []}
    bin_dir = _fake_sf(tmp_path, error, exit_code=1)
    result = run({"SF_TARGET_ORG": "nope", "PATH": _path_with(bin_dir)}, "plan", MANIFEST)
    assert result.exit_code == 1
    assert "NamedOrgNotFoundError: No authorization information found for nope." in result.output
    assert "sf org login web --alias nope" in result.output and "    at " not in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run({"SF_TARGET_ORG": "nope", "PATH": str(empty)}, "plan", MANIFEST)
    assert result.exit_code == 1 and "the Salesforce CLI (`sf`) is not on PATH" in result.output


def _auth_url(org: Sandbox, refresh_token: str | None = None) -> str:
    """An SFDX auth URL as `sf org display --verbose --json` prints it (no client secret, like the CLI's)."""
    host = org.salesforce_url.removeprefix("https://")
    return f"force://{org.credentials.client_id}::{refresh_token or org.credentials.refresh_token}@{host}"


def test_sfdx_auth_url_logs_in_with_its_refresh_token(org: Sandbox) -> None:
    env = {"SFDX_AUTH_URL": _auth_url(org), "SF_CA_BUNDLE": org.ca_bundle}
    result = run(env, "apply", MANIFEST, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert run(env, "plan", MANIFEST, "--detailed-exitcode").exit_code == 0
    refused = run(dict(env, SFDX_AUTH_URL=_auth_url(org, "5AepREVOKED-token-9999")), "plan", MANIFEST)
    assert refused.exit_code == 1
    assert "invalid_grant: expired access/refresh token" in refused.output
    assert "5AepREVOKED-token-9999" not in refused.output and org.credentials.refresh_token not in result.output
    malformed = run({"SFDX_AUTH_URL": "force://only-a-client-id@example.my.salesforce.com"}, "plan", MANIFEST)
    assert malformed.exit_code == 1 and "client id, client secret and refresh token separated by colons" in malformed.output
    assert "only-a-client-id" not in malformed.output


def test_dotenv_file_is_read_and_the_environment_wins(org: Sandbox, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "# written by an admin\n"
        f"export SFDX_AUTH_URL='{_auth_url(org)}'\n"
        f'SF_CA_BUNDLE="{org.ca_bundle}"  # the sandbox CA\n')
    monkeypatch.chdir(tmp_path)
    result = run({}, "plan", MANIFEST, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    overridden = run({"SFDX_AUTH_URL": _auth_url(org, "5AepFROM-the-environment")}, "plan", MANIFEST)
    assert overridden.exit_code == 1 and "expired access/refresh token" in overridden.output


def _mistakes(org: Sandbox) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Four common mistakes (and two more), each with what the message must name."""
    good = {k: v for k, v in org.env().items() if k.startswith("SF_")}
    host = org.salesforce_url.removeprefix("https://")
    token = _token(org)
    return {
        "a REST path pasted into SF_INSTANCE_URL": (
            {"SF_INSTANCE_URL": token["instance_url"] + "/services/data/v60.0", "SF_ACCESS_TOKEN":
             token["access_token"], "SF_CA_BUNDLE": org.ca_bundle},
            ["SF_INSTANCE_URL has a path (/services/data/v60.0)", f"https://{host}"]),
        "the wrong instance (the Marketo host as the login URL)": (
            dict(good, SF_LOGIN_URL=org.marketo_url),
            [org.marketo_url.removeprefix("https://"), "does not answer like a Salesforce login server",
             "check SF_LOGIN_URL"]),
        "a TLS certificate not trusted": (
            {k: v for k, v in good.items() if k != "SF_CA_BUNDLE"},
            [f"TLS verification of {host} failed", "SF_LOGIN_URL", "SF_CA_BUNDLE"]),
        "a host name that does not resolve": (
            dict(good, SF_LOGIN_URL="https://acme-typo.my.salesforce.invalid"),
            ["acme-typo.my.salesforce.invalid does not resolve (DNS)", "check SF_LOGIN_URL"]),
        "nothing listening on the port": (
            dict(good, SF_LOGIN_URL="https://127.0.0.1:9"),
            ["127.0.0.1:9 refused the connection", "SF_LOGIN_URL"]),
        "http:// instead of https://": (
            dict(good, SF_LOGIN_URL=org.salesforce_url.replace("https://", "http://")),
            ["Salesforce speaks HTTPS only", "SF_LOGIN_URL with https://"]),
    }


def test_connection_mistakes_name_the_host_the_variable_and_the_cause(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sandbox") as org:  # with Marketo: a real HTTPS server that is not Salesforce
        secrets = [org.credentials.client_secret]
        mistakes = _mistakes(org)
        results = {mistake: (env, expected, run(env, "plan", MANIFEST)) for mistake, (env, expected) in mistakes.items()}
        marketo = {k: v for k, v in org.env().items() if k.startswith("MARKETO_")}
        results["a Marketo host name that does not resolve"] = (
            marketo, ["123-abc-456.mktorest.invalid does not resolve (DNS): check MARKETO_ENDPOINT"],
            run(dict(marketo, MARKETO_ENDPOINT="https://123-abc-456.mktorest.invalid"), "plan",
                str(REPO / "manifests" / "kaltura-marketo.yaml")))
    for mistake, (env, expected, result) in results.items():
        assert result.exit_code == 1, (mistake, result.output)
        for text in expected:
            assert text in result.output, (mistake, result.output)
        assert not [t for t in LIBRARY_TEXT if t in result.output], (mistake, result.output)
        assert not [s for s in secrets + [env.get("SF_ACCESS_TOKEN", "")] if s and s in result.output], mistake
        assert len(result.output.strip().splitlines()) <= 2, (mistake, result.output)


def test_a_cli_login_beside_another_login_is_refused_not_ranked(org: Sandbox, tmp_path: Path) -> None:
    """`sf` users often export SF_TARGET_ORG; sourcing a sandbox's env file beside it must not reach their org."""
    bin_dir = _fake_sf(tmp_path, _org_display("https://acme.my.salesforce.com", "00Dtoken!never-used", "prod"))
    env = dict(org.env(), SF_TARGET_ORG="prod", PATH=_path_with(bin_dir))
    result = run(env, "plan", MANIFEST)
    assert result.exit_code == 1
    assert ("two logins are configured, SF_TARGET_ORG and SF_CLIENT_ID + SF_CLIENT_SECRET, and they may name "
            "different orgs; unset one") in result.output
    assert not (bin_dir / "calls.log").exists()  # nothing asked of the CLI, no org reached
    assert run(dict(env, SF_TARGET_ORG=""), "plan", MANIFEST, "--detailed-exitcode").exit_code == 2
