"""Helpers for the sync tests: a sandbox in a subprocess with a state file, the sync CLI in a subprocess,
and an id-free snapshot of both orgs so two runs can be compared record by record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from provisioner.clock import WAIT_SCALE_VARIABLE

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [str(REPO / "manifests" / n) for n in ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2",
                                                    "kaltura-marketo.yaml", "kaltura-sync.yaml")]
FIXTURES = Path(__file__).parent / "fixtures"
DATA = [str(FIXTURES / f"kaltura-export-{k}.csv") for k in ("registrations", "engagement", "polls")]
CLI = "from provisioner.cli import main; main()"
SERVE = ("--latency-ms", "2")  # sandbox serve options of the subprocess tests
BATCH = ("--batch-rows", "20")  # small batches: many ledger commits, many points to be killed at
PEOPLE = 30  # small data keeps each run fast; the special people (shared email, converted Lead, o'brien) stay
#: The sync subprocesses' retry backoff and status polls wait a fiftieth of their time (provisioner.clock):
#: against the sandbox the full waits only slow the suite (a heavy-fault run waited ~60 s), and no test here
#: asserts how long a wait lasts. Rate windows are still waited out in full. An env that sets it wins.
WAIT_SCALE = "50"


def read_env_file(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for line in path.read_text("utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, _, v = line.removeprefix("export ").partition("=")
            env[k.strip()] = v.strip().strip("'\"")
    return env


def state_copy(base_state: Path, folder: Path) -> Path:
    """A copy of the session's base sandbox state (``state.json`` and its ``.d`` folder) in ``folder``, for a
    sandbox of the test's own: the state file to serve. The ``.d`` folder holds the TLS material, so a copy
    starts without generating keys."""
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / "state.json"
    shutil.copy(base_state, state)
    kept = base_state.with_name(base_state.name + ".d")
    if kept.is_dir():
        shutil.copytree(kept, folder / "state.json.d", dirs_exist_ok=True)
    return state


class ServedSandbox:
    """``provisioner sandbox serve --state F --env-file E`` in a subprocess, started from a copy of a state."""

    def __init__(self, base_state: Path, folder: Path, *extra: str) -> None:
        self.state = state_copy(base_state, folder)
        self.env_file = folder / "sandbox.env"
        self.proc = subprocess.Popen([sys.executable, "-c", CLI, "sandbox", "serve", "--state", str(self.state),
                                      "--env-file", str(self.env_file), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        for line in self.proc.stderr:  # "Serving; ..." comes once the env file is written (no polling)
            if line.startswith("Serving"):
                break
        else:
            raise RuntimeError("sandbox serve did not start")
        self.env = read_env_file(self.env_file)

    def url(self, which: str) -> str:
        return self.env["SF_LOGIN_URL" if which == "salesforce" else "MARKETO_ENDPOINT"].rstrip("/")

    def admin(self, which: str, method: str, path: str, body: Any = None) -> Any:
        r = requests.request(method, f"{self.url(which)}/__sandbox/{path}", json=body,
                             verify=self.env["SF_CA_BUNDLE"], timeout=30)
        r.raise_for_status()
        return r.json()

    def snapshot(self) -> dict[str, Counter[str]]:
        return org_snapshot(self.admin("salesforce", "GET", "state"), self.admin("marketo", "GET", "state"))

    def states(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Both orgs' state as the sandbox holds it (``GET /__sandbox/state``), not as the tool reads it."""
        return self.admin("salesforce", "GET", "state"), self.admin("marketo", "GET", "state")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


class InProcessSandbox:
    """A copy of a state file served by an in-process :class:`Sandbox` (no serve subprocess to start), with the
    same ``env``/``admin``/``states`` as :class:`ServedSandbox`; the sync still runs in its own process."""

    def __init__(self, base_state: Path, folder: Path) -> None:
        from provisioner.sandbox.runtime import Sandbox

        self.box = Sandbox(state_file=state_copy(base_state, folder), latency_ms=float(SERVE[1])).start()
        # a Marketo import takes 20 ms instead of 0.2 s: still queued, then importing, then done, on the
        # sandbox's worker threads (the tests here are about what is recovered, not how long imports take)
        self.box.marketo_app.config.bulk_delay_s = 0.02
        self.env = {**os.environ, **self.box.env()}

    url = ServedSandbox.url
    admin = ServedSandbox.admin
    snapshot = ServedSandbox.snapshot
    states = ServedSandbox.states

    def stop(self) -> None:
        self.box.stop()


def run_sync_cli(env: dict[str, str], folder: Path, *extra: str, data: list[str] | None = None
                 ) -> subprocess.Popen[str]:
    """Start ``provisioner sync`` on ``data`` (the fixture by default) with the ledger and rejects in ``folder``."""
    args = [sys.executable, "-c", CLI, "sync", *(data or DATA), *sum((["--manifest", m] for m in MANIFESTS), []),
            "--ledger", str(folder / "ledger.sqlite"), "--rejects", str(folder / "rejects.csv"), *extra]
    return subprocess.Popen(args, env={WAIT_SCALE_VARIABLE: WAIT_SCALE, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


GENERATED = {"Id", "IsDeleted", "SystemModstamp", "OwnerId", "membershipDate", "updatedAt", "createdAt",
             "marketoGUID", "id", "seq", "createdAtEpoch", "LastViewedDate", "LastReferencedDate"}
OBJECTS = ("Lead", "Contact", "Campaign", "CampaignMember", "CampaignMemberStatus", "UserSessionEngagement__c",
           "Kaltura_User_Polls__c")


def _clean(record: dict[str, Any], names: dict[str, str], drop_name: bool = False,
           leads: dict[str, str] | None = None) -> str:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if k in GENERATED or k.endswith("Date") or k.endswith("ById") or (drop_name and k == "Name"):
            continue
        if isinstance(v, str) and leads is None:
            for rid, label in names.items():
                if rid in v:
                    v = v.replace(rid, label)
        if leads is not None and k in ("leadId", "personId"):
            v = leads.get(str(v), v)
        out[k] = v
    return json.dumps(out, sort_keys=True, default=str)


def org_snapshot(sf: dict[str, Any], mk: dict[str, Any]) -> dict[str, Counter[str]]:
    """Both orgs as multisets of records with generated ids replaced by what they stand for."""
    records = sf["records"]
    names: dict[str, str] = {}
    for obj in ("Lead", "Contact"):
        for rid, r in records.get(obj, {}).items():
            names[rid] = f"{obj}<{(r.get('Email') or '').lower()}|{r.get('LastName')}>"
    for rid, r in records.get("Campaign", {}).items():
        names[rid] = f"Campaign<{r.get('Name')}>"
    lead_names = {str(lid): f"lead<{l.get('email')}>" for lid, l in mk["leads"].items()}
    programs = {str(pid): p["name"] for pid, p in mk["programs"].items()}
    snap: dict[str, Counter[str]] = {}
    for obj in OBJECTS:
        snap[obj] = Counter(_clean(r, names, drop_name=obj.endswith("__c")) for r in records.get(obj, {}).values())
    snap["mk.leads"] = Counter(_clean(l, {}, leads={}) for l in mk["leads"].values())
    snap["mk.programs"] = Counter(sorted(p["name"] for p in mk["programs"].values()))
    snap["mk.members"] = Counter(
        f"{programs[pid]}|{lead_names.get(lid)}|{m['progressionStatus']}|{m.get('reachedSuccess')}"
        for pid, members in mk["members"].items() for lid, m in members.items())
    snap["mk.objects"] = Counter(_clean(r, {}, leads=lead_names) for recs in mk["customObjects"].values() for r in recs.values())
    snap["mk.activities"] = Counter(_clean(a, {}, leads=lead_names) for a in mk["activities"])
    return snap


def duplicates(snap: dict[str, Counter[str]]) -> dict[str, list[str]]:
    """Records present more than once (any kind)."""
    return {k: [r for r, n in c.items() if n > 1] for k, c in snap.items() if any(n > 1 for n in c.values())}
