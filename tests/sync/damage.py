"""Helpers for the damaged-input and policy tests: run ``provisioner sync --format json`` in-process against the
sandbox, write a changed copy of the Kaltura Sync manifest, and read back what the orgs hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import yaml
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.providers.marketo.client import connect
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from synchelp import MANIFESTS

HEADER = "email,first_name,last_name,company,title,session,status,time"
SESSION = "Damage Webinar"  # made by the module fixture (policy create), then used with policy declared


def reg(email: str, first: str = "Ann", session: str = SESSION, status: str = "Registered", last: str = "Lee",
        title: str = "Engineer") -> str:
    """One registrations CSV line."""
    return f"{email},{first},{last},Acme,{title},{session},{status},2026-12-01T10:00:00Z"


def sync_manifests(folder: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> list[str]:
    """The Kaltura manifests with the Sync manifest changed by ``edit`` (written to ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load(Path(MANIFESTS[-1]).read_text("utf-8"))
    if edit:
        edit(doc)
    target = folder / "kaltura-sync.yaml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    return [*MANIFESTS[:-1], str(target)]


def declared(doc: dict[str, Any]) -> None:
    """The Sync manifest without a sessions policy: the default, declared."""
    doc["spec"].pop("sessions", None)


def run(box: Sandbox, tmp: Path, files: list[Path], manifests: list[str] = MANIFESTS, *extra: str
        ) -> tuple[int, dict[str, Any], str]:
    """``provisioner sync FILES --format json``: exit code, the parsed JSON (``{}`` if none) and the output."""
    args = ["sync", *map(str, files), *sum((["--manifest", m] for m in manifests), []),
            "--ledger", str(tmp / "ledger.sqlite"), "--rejects", str(tmp / "rejects.csv"), "--format", "json", *extra]
    result = CliRunner().invoke(cli, args, env=box.env())
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    try:
        data = json.loads(result.stdout)
    except ValueError:
        data = {}
    return result.exit_code, data, result.output


def members(box: Sandbox, emails: list[str]) -> dict[str, tuple[str, str]]:
    """``email → (campaign name, status)`` of the CampaignMembers of these people, read from the org."""
    conn = SalesforceConnection.from_env(box.env())
    rows = conn.data.query("SELECT Status, Campaign.Name, Lead.Email, Contact.Email FROM CampaignMember")
    wanted = {e.lower() for e in emails}
    out: dict[str, tuple[str, str]] = {}
    for r in rows:
        email = ((r.get("Lead") or r.get("Contact") or {}).get("Email") or "").lower()
        if email in wanted:
            assert email not in out, f"two members for {email}"
            out[email] = (r["Campaign"]["Name"], r["Status"])
    return out


def people(box: Sandbox, email: str) -> list[dict[str, Any]]:
    """Every Lead and Contact with this e-mail (FirstName, LastName, Title)."""
    conn = SalesforceConnection.from_env(box.env())
    found = []
    for obj in ("Lead", "Contact"):
        found += [dict(r, type=obj) for r in conn.data.query(
            f"SELECT Id, FirstName, LastName, Title FROM {obj} WHERE Email = '{email}'")]
    return found


def campaign_exists(box: Sandbox, name: str) -> bool:
    conn = SalesforceConnection.from_env(box.env())
    return bool(conn.data.query(f"SELECT Id FROM Campaign WHERE Name = '{name}'"))


def program_exists(box: Sandbox, name: str) -> bool:
    return bool(connect(box.env()).get("/rest/asset/v1/program/byName.json", {"name": name}))


def accounts_add_up(data: dict[str, Any]) -> bool:
    a = data["accounts"]
    return a["read"] == a["confirmed"] + a["rejected"] + a["unchanged"] + a["pending"]


def rejects(tmp: Path) -> dict[int, str]:
    """``line → reasons`` of the rejects file (one row per target a line was rejected for, joined by " | ")."""
    import csv
    path = tmp / "rejects.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        out: dict[int, str] = {}
        for r in csv.DictReader(handle):
            out[int(r["line"])] = (out[int(r["line"])] + " | " if int(r["line"]) in out else "") + r["reason"]
        return out
