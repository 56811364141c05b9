"""Personal data stays private: the ledger and rejects file are 0600 in a 0700 folder, and neither verbose
output (every request line) nor error output holds an attendee's e-mail or a query that carries one."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from urllib.parse import quote

from click.testing import CliRunner

from conftest import manifests_channels
from damage import HEADER, reg
from provisioner.cli import cli
from provisioner.privacy import redact
from provisioner.sandbox.runtime import Sandbox
from synchelp import MANIFESTS

EMAILS = [f"secret.person{i}@example.com" for i in range(12)] + ["o'hara@example.com"]


def leaks(text: str) -> list[str]:
    """The test e-mails (as written, or URL-encoded as in a request line) that appear in ``text``."""
    found = []
    for e in EMAILS:
        forms = {e, quote(e), quote(e, safe=""), e.replace("@", "%40"), quote(e).replace("%27", "'")}
        found += [e for form in forms if form.lower() in text.lower()]
    return sorted(set(found))


def test_files_are_private_and_verbose_output_under_faults_holds_no_email(base_state: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    shutil.copy(base_state, state)
    data = tmp_path / "p-registrations.csv"
    lines = [HEADER, *(reg(e, first="Secretname", session="Private Webinar") for e in EMAILS),
             reg("not-an-email", first="Bad")]
    data.write_text("\n".join(lines) + "\n", "utf-8")
    out_dir = tmp_path / "new" / "private"  # does not exist yet: created 0700
    with Sandbox(state_file=state, fault_rate=0.3, seed=4, marketo_channels=manifests_channels()) as box:
        args = ["sync", str(data), *sum((["--manifest", m] for m in MANIFESTS), []), "--verbose",
                "--ledger", str(out_dir / "ledger.sqlite"), "--rejects", str(out_dir / "rejects.csv")]
        outputs = []
        for _ in range(4):  # faults may end a run early; each re-run continues
            result = CliRunner().invoke(cli, args, env=box.env())
            outputs.append(result.output + (result.stderr if result.stderr_bytes is not None else ""))
            if result.exit_code == 0:
                break
        assert result.exit_code == 0, outputs[-1][-2000:]
        assert box.stats()["salesforce"]["faults"]["total"] > 0  # errors really happened and were shown
    everything = "\n".join(outputs)
    assert "GET /services/data" in everything  # verbose really printed the request lines ...
    assert leaks(everything) == []  # ... with no e-mail in them
    assert "Secretname" not in everything
    for name in ("ledger.sqlite", "rejects.csv"):
        assert stat.S_IMODE((out_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(out_dir.parent.stat().st_mode) == 0o700


def test_an_error_quoting_a_match_query_url_is_masked() -> None:
    """What requests says when a connection drops during the e-mail match: the URL with the SOQL."""
    soql = "SELECT Id, Email FROM Lead WHERE Email IN ('secret.person1@example.com','o''hara@example.com')"
    message = (f"HTTPSConnectionPool(host='127.0.0.1', port=4443): Max retries exceeded with url: "
               f"/services/data/v59.0/query/?q={quote(soql)} (Caused by ProtocolError('Connection aborted.'))")
    assert leaks(redact(message)) == [] and "Max retries exceeded" in redact(message)
    assert leaks(redact(soql)) == [] and redact(soql).startswith("SELECT Id, Email FROM Lead WHERE")
