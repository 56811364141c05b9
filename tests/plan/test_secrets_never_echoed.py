"""Secrets never appear in what the tool prints, logs or writes.

Every command runs against the sandbox with test secrets in the environment: the client secrets,
and a password in the userinfo of both endpoint URLs (``https://user:password@host``). Success
paths and failure paths (a refused secret, an untrusted certificate, a non-https endpoint) alike;
stdout, stderr, every log record (urllib3 at DEBUG logs request lines, queries included) and the
plan file are searched for the secrets.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = str(REPO / "manifests")
USERINFO_PASSWORD = "Us3rinfo-Pa55word-42"
WRONG_SECRET = "Wr0ng-Client-Secret-77"
EXPORT = REPO / "examples" / "kaltura-export"


def with_userinfo(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://integration:{USERINFO_PASSWORD}@{rest}"


class Records(logging.Handler):
    """Every log record of the module's commands, formatted as a handler would print it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def logs() -> Iterator[Records]:
    handler, root, urllib3 = Records(), logging.getLogger(), logging.getLogger("urllib3")
    old = root.level, urllib3.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    urllib3.setLevel(logging.DEBUG)  # request lines, with their query strings
    yield handler
    root.removeHandler(handler)
    root.setLevel(old[0])
    urllib3.setLevel(old[1])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, logs: Records) -> Iterator[dict[str, str]]:
    from provisioner.manifest import load
    from provisioner.sandbox.seed import channels_from_manifests

    channels = channels_from_manifests(load([MANIFESTS]).manifests)
    with Sandbox(tmp_path_factory.mktemp("secrets") / "sandbox", marketo_channels=channels) as box:
        values = dict(box.env(), MARKETO_MAX_CALLS_PER_20S="100")
        values["SF_LOGIN_URL"] = with_userinfo(values["SF_LOGIN_URL"])
        values["MARKETO_ENDPOINT"] = with_userinfo(values["MARKETO_ENDPOINT"])
        yield values


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += repr(result.exception)
    return result.exit_code, output


def assert_no_secret(env: dict[str, str], logs: Records, *texts: str) -> None:
    for secret in (USERINFO_PASSWORD, WRONG_SECRET, env["SF_CLIENT_SECRET"], env["MARKETO_CLIENT_SECRET"]):
        for text in texts + tuple(logs.lines):
            assert secret not in text, text


@pytest.fixture(scope="module")
def applied(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, str]]:
    """plan --out, plan --format json, show and apply of the shipped manifests."""
    plan_file = str(tmp_path_factory.mktemp("plan") / "plan.json")
    return [run(env, "plan", MANIFESTS, "--out", plan_file), run(env, "plan", MANIFESTS, "--format", "json"),
            run(env, "show", plan_file), run(env, "apply", plan_file), (0, Path(plan_file).read_text("utf-8"))]


def test_validate_never_echoes_a_secret_even_in_a_manifest_endpoint(
        env: dict[str, str], logs: Records, tmp_path: Path) -> None:
    manifest = tmp_path / "endpoint.yaml"
    manifest.write_text("apiVersion: provisioner/v1\nkind: Marketo\nmetadata: {name: endpoint}\nspec:\n"
                        f"  endpoint: {with_userinfo('https://123-ABC-456.mktorest.com')}\n", encoding="utf-8")
    code, out = run(env, "validate", str(manifest))
    assert code == 1 and "the Marketo endpoint carries a user name and password" in out, out
    assert "https://123-ABC-456.mktorest.com" in out
    ok, shipped = run(env, "validate", MANIFESTS)
    assert ok == 0, shipped
    assert_no_secret(env, logs, out, shipped)


def test_plan_show_apply_and_the_plan_file_never_hold_a_secret(
        env: dict[str, str], logs: Records, applied: list[tuple[int, str]]) -> None:
    assert [code for code, _ in applied] == [0, 0, 0, 0, 0], applied
    assert "Apply complete! Resources: 100 added" in applied[3][1]
    assert "user name and password" in "\n".join(logs.lines)  # the userinfo was noticed and left out
    assert_no_secret(env, logs, *(out for _, out in applied))


def test_drift_export_event_and_sync_never_echo_a_secret(
        env: dict[str, str], logs: Records, applied: list[tuple[int, str]], tmp_path: Path) -> None:
    runs = [
        run(env, "drift", MANIFESTS),
        run(env, "export", "salesforce", "--object", "CampaignMember", "--campaign", "Kaltura Event Template"),
        run(env, "export", "marketo", "--channel", "Kaltura Event", "--program", "Kaltura Event Template"),
        run(env, "event", "new", "kaltura-event", "--var", "name=Secret Summit", "--var",
            "start=2031-03-01T16:00:00Z", "--manifests", MANIFESTS, "--plan-only"),
        run(env, "sync", *map(str, sorted(EXPORT.glob("*.csv"))), "--manifest", MANIFESTS, "--sync", "kaltura-sync",
            "--ledger", str(tmp_path / "ledger.db"), "--rejects", str(tmp_path / "rejects.csv")),
    ]
    assert [code for code, _ in runs] == [0, 0, 0, 0, 0], runs
    assert_no_secret(env, logs, *(out for _, out in runs))


def test_failures_name_the_endpoint_but_never_its_password_or_a_secret(env: dict[str, str], logs: Records) -> None:
    runs = [
        run(dict(env, SF_CLIENT_SECRET=WRONG_SECRET, MARKETO_CLIENT_SECRET=WRONG_SECRET), "plan", MANIFESTS),
        run(dict(env, SF_CA_BUNDLE=""), "plan", MANIFESTS),  # untrusted certificate: the message names the URL
        run(dict(env, MARKETO_CA_BUNDLE=""), "plan", MANIFESTS),
        run(dict(env, MARKETO_ENDPOINT=with_userinfo("http://127.0.0.1:1")), "plan", MANIFESTS),
    ]
    assert [code for code, _ in runs] == [1, 1, 1, 1], runs
    host = env["SF_LOGIN_URL"].rsplit("@", 1)[1]
    assert host in runs[1][1]  # the failing endpoint is named (host and port), never its password
    assert "https://127.0.0.1:1" in runs[3][1] or "http://127.0.0.1:1" in runs[3][1]
    assert_no_secret(env, logs, *(out for _, out in runs))


@pytest.mark.parametrize("text,expected", [
    ("could not connect to https://integration:S3cret-pw@example.my.salesforce.com/services",
     "could not connect to https://***@example.my.salesforce.com/services"),
    ("GET /identity/oauth/token?grant_type=client_credentials&client_secret=Xy7-secret-99 HTTP/1.1",
     "GET /identity/oauth/token?grant_type=client_credentials&client_secret=*** HTTP/1.1"),
    ("Authorization: Bearer 7f3c1e2a-11aa-4b2c-9d8e-0a1b2c3d4e5f:ab", "Authorization: Bearer ***"),
    ("session 00D5g000004SbxG!AQ4AQFhb3uK2zWq9v8xJ0sLmN7yT expired", "session *** expired"),
    ("SFDX_AUTH_URL=force://PlatformCLI::5Aep861refresh-token-42@example.my.salesforce.com",
     "SFDX_AUTH_URL=force://***@example.my.salesforce.com"),
])
def test_the_redactor_masks_each_kind_of_secret_and_keeps_the_rest(text: str, expected: str) -> None:
    from provisioner.redaction import redact

    assert redact(text) == expected


def test_prose_is_left_alone() -> None:
    from provisioner.redaction import redact

    text = "Bearer authentication failed for user integration@example.com at https://example.com/a@b"
    assert redact(text) == text
