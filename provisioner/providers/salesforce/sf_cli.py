"""Reuse the Salesforce CLI's stored login: ``sf org display --target-org ALIAS --json``.

Admins already log in with ``sf org login web --alias NAME``; the CLI keeps the refresh token and
hands out a fresh access token (and the instance URL) on ``org display``. Nothing of it is stored
here, and neither the token nor the CLI's raw output ever reaches a message.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from ..base import ConnectionError_

SF_COMMAND = "sf"
TIMEOUT_SECONDS = 120


class SfCliError(ConnectionError_):
    """The Salesforce CLI is missing, failed, or has no login for the alias; the message says what to do."""


def org_display(target_org: str) -> tuple[str, str]:
    """The instance URL and a current access token of the CLI's login ``target_org`` (alias or username)."""
    executable = shutil.which(SF_COMMAND)
    if executable is None:
        raise SfCliError(f"SF_TARGET_ORG is '{target_org}', but the Salesforce CLI (`sf`) is not on PATH: install "
                         "it (npm install --global @salesforce/cli) and run `sf org login web --alias "
                         f"{target_org}`, or unset SF_TARGET_ORG and set other SF_* variables")
    try:
        done = subprocess.run([executable, "org", "display", "--target-org", target_org, "--json"],
                              capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SfCliError(f"`sf org display --target-org {target_org}` did not answer within {TIMEOUT_SECONDS} s") \
            from None
    except OSError as exc:
        raise SfCliError(f"cannot run the Salesforce CLI ({executable}): {exc.strerror}") from None
    try:
        answer = json.loads(done.stdout or done.stderr or "null")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise SfCliError(f"`sf org display --target-org {target_org} --json` did not print JSON (exit "
                         f"{done.returncode}); run it yourself to see why")
    result = answer.get("result") if answer.get("status", done.returncode) == 0 else None
    if not isinstance(result, dict):
        name = str(answer.get("name") or "error")
        message = str(answer.get("message") or "no details").splitlines()[0][:300]
        raise SfCliError(f"the Salesforce CLI has no usable login for '{target_org}' ({name}: {message}); "
                         f"log in with `sf org login web --alias {target_org}` (add --instance-url "
                         "https://test.salesforce.com for a sandbox)")
    instance, token = str(result.get("instanceUrl") or ""), str(result.get("accessToken") or "")
    if not instance or not token:
        status = result.get("connectedStatus") or "unknown"
        raise SfCliError(f"the Salesforce CLI's login '{target_org}' has no access token (status: {status}); "
                         f"log in again with `sf org login web --alias {target_org}`")
    return instance.rstrip("/"), token
