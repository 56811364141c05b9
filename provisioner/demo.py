"""`provisioner demo`: the whole loop on an in-process sandbox, told as a story a newcomer follows.

No credentials and no ports left open: the emulated Salesforce org and Marketo instance run
inside this process for the length of the demo, and every step uses the same code paths as
the real commands (validate, plan, apply, plan again, sync twice).
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from .manifest import load
from .plan import apply_saved_plan, render_change, render_result
from .sandbox.runtime import Sandbox
from .sandbox.seed import channels_from_manifests
from .events.render import find_template
from .events.sessions import make_row
from .events.stamp import prepare
from .shipped import shipped
from .workflow import connect_session

Echo = Callable[[str], None]


class DemoError(Exception):
    """A demo step failed; the message says which and why."""


def find_manifests(explicit: str | None = None) -> Path:
    """The manifests: ``--manifests DIR``, ``./manifests``, or the ones this package ships."""
    for candidate in ([Path(explicit)] if explicit else [Path("manifests"), shipped("manifests")]):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise DemoError("cannot find the shipped manifests: run the demo from the repository root, or pass --manifests DIR")


def find_export(manifests: Path) -> Path:
    """The bundled example export (examples/kaltura-export beside the manifests folder, or the shipped one)."""
    for candidate in (manifests.resolve().parent / "examples" / "kaltura-export", Path("examples") / "kaltura-export",
                      shipped("examples", "kaltura-export")):
        if candidate.is_dir() and any(candidate.glob("*.csv")):
            return candidate
    raise DemoError("cannot find examples/kaltura-export: run the demo from the repository root")


def _sync(files: list[str], folder: Path, env: dict[str, str], ledger: Path, rejects: Path) -> object:
    from .sync.engine import run_sync

    return run_sync(files, [str(folder)], env, sync_name="kaltura-sync", ledger_path=str(ledger),
                    rejects_path=str(rejects))


def _render_sync(summary: object) -> None:
    from .commands.sync import render

    render(summary)


def _step(echo: Echo, number: int, title: str) -> None:
    echo("")
    echo(f"── {number}. {title} " + "─" * max(0, 66 - len(title)))


def _sessions(echo: Echo, folder: Path, env: dict[str, str]) -> None:
    """Stamp out sessions from templates/kaltura-event, as `provisioner event new --sessions` does."""
    template = find_template("kaltura-event", [folder.resolve().parent / "templates", Path("templates"),
                                               shipped("templates")])
    today = date.today()
    rows = [make_row(f"session {i}", {"name": name, "start": start.isoformat(), "end": "", "type": kind})
            for i, (name, start, kind) in enumerate([
                ("Kaltura Summit: Opening Keynote", today + timedelta(days=30), "live"),
                ("Kaltura Summit: Product Deep Dive", today + timedelta(days=31), "live"),
                ("Kaltura Summit: Keynote Replay", today - timedelta(days=60), "on-demand"),
                ("Kaltura Summit: Last Year's Kickoff", today - timedelta(days=365), "live")], 1)]
    batch = prepare(template, [str(folder)], rows, datetime.now(timezone.utc))
    if batch.bad:
        raise DemoError("the demo sessions have errors: " + "; ".join(e.render() for r in batch.bad for e in r.errors))
    for row in batch.past:
        echo(f"  Skipped \"{row.name}\": a live session that already started ({row.variables['start']}).")
    session = connect_session(batch.manifests, [str(f) for f in template.files], env)
    plan = session.plan()
    report = apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False)
    if not report.ok:
        raise DemoError("event new failed for " + ", ".join(r.address for r in report.failed))
    statuses = len(batch.manifests.salesforce[0].campaign_statuses[0].statuses)
    for row in batch.good:
        echo(f"  + {row.name} ({row.variables['type']}, {row.variables['start_date']})")
    echo(f"  Each is a Webinar campaign with the template campaign's {statuses} statuses (same default and")
    echo("  responded flags) and a Marketo program cloned from \"Kaltura Event Template\" with its dates.")
    session.reset_reads()
    pending = [c.address for c in session.plan().changes if not c.is_no_op]
    if pending:
        raise DemoError("the sessions still plan changes after apply: " + ", ".join(pending[:5]))
    echo(f"  Applied: {report.added} added. Planned again: No changes (sessions are matched by name).")
    echo("  (the same as: provisioner event new kaltura-event --sessions sessions.csv — one row per session)")


def run_demo(echo: Echo, manifests_dir: str | None = None, verbose: bool = False,
             steps: list[str] | None = None) -> int:
    """Run the story; returns 0 when every step did what it should.

    Writes the sync's rejects file to .provisioner/demo-rejects.csv so it can be opened afterwards;
    each run starts that file afresh. The title of each step begun is appended to ``steps``.
    """
    started = time.perf_counter()
    begun = steps if steps is not None else []

    def step(number: int, title: str) -> None:
        begun.append(title)
        _step(echo, number, title)

    folder = find_manifests(manifests_dir)
    echo("provisioner demo: the CRM setup of three event integrations, as code, against a built-in sandbox.")
    echo("Everything runs on this machine: an emulated Salesforce org and Marketo instance over local HTTPS.")

    step(1, "Validate the manifests (no network)")
    result = load([folder])
    for finding in result.findings:
        echo("  " + finding.render())
    if not result.ok:
        raise DemoError("the shipped manifests have findings")
    model = result.manifests
    echo(f"  {len(result.files)} files, {len(model.documents)} manifests: "
         f"{len(model.salesforce)} Salesforce, {len(model.marketo)} Marketo, {len(model.sync)} Sync. All valid.")
    echo(f"  (the same as: provisioner validate {folder}/)")

    with tempfile.TemporaryDirectory(prefix="provisioner-demo-") as tmp, \
            Sandbox(Path(tmp) / "sandbox", marketo_channels=channels_from_manifests(model)) as box:
        echo("")
        echo(f"  Sandbox up: Salesforce org at {box.salesforce_url}, Marketo instance at {box.marketo_url}.")
        echo("  The Marketo instance already has the 'Kaltura Event' channel: channels are made by hand in")
        echo("  Admin > Tags (no API can create them), so the tool only verifies them.")
        session = connect_session(model, result.files, box.env())

        step(2, "Plan against an empty org and instance")
        plan = session.plan()
        creates = [c for c in plan.changes if c.action == "create"]
        by_kind: dict[str, int] = {}
        for change in creates:
            by_kind[change.kind] = by_kind.get(change.kind, 0) + 1
        for kind, count in by_kind.items():
            echo(f"  + {count:3d} × {kind}")
        if verbose:
            for change in plan.changes:
                if not change.is_no_op:
                    echo(render_change(change).rstrip())
        else:
            sample = next((c for c in creates if c.address == "salesforce.field.CampaignMember.external_id__c"),
                          creates[0])
            echo("  For example:")
            echo("\n".join("    " + line for line in render_change(sample).rstrip().splitlines()))
        s = plan.summary
        echo(f"  Plan: {s.add} to add, {s.change} to change, {s.destroy} to destroy.")
        echo("  (the same as: provisioner plan manifests/ — add --out plan.json to save it for review)")

        step(3, "Apply the plan")
        failures: list[str] = []

        def on_result(r: object) -> None:
            if not getattr(r, "ok", True) or verbose:
                echo("  " + render_result(r))  # type: ignore[arg-type]
            if not getattr(r, "ok", True):
                failures.append(getattr(r, "address", "?"))

        report = apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False,
                                  on_result=on_result)
        if failures:
            raise DemoError(f"apply failed for {', '.join(failures)}")
        echo(f"  Applied: {report.added} added, {report.changed} changed, {report.destroyed} destroyed, "
             f"in order (objects, then fields, then the permission sets that make them visible).")
        sf_calls = box.stats()["salesforce"]["calls"]["total"]
        mk = box.stats().get("marketo") or {}
        echo(f"  API calls so far: Salesforce {sf_calls}, Marketo {mk.get('calls', {}).get('total', 0)} "
             "(batched: 10 components per metadata call, 200 records per collection call).")

        step(4, "Plan again: the org now matches the manifests")
        session.reset_reads()
        again = session.plan()
        pending = [c for c in again.changes if not c.is_no_op]
        if pending:
            raise DemoError("the second plan still has changes: " + ", ".join(c.address for c in pending[:5]))
        echo("  No changes. Your org matches the manifests.")
        echo("  (in CI: provisioner plan manifests/ --detailed-exitcode exits 0 here, 2 when something drifted)")

        step(5, "Create three sessions from the event template")
        _sessions(echo, folder, box.env())

        step(6, "Sync a small Kaltura export into both")
        export = find_export(folder)
        files = sorted(str(p) for p in export.glob("*.csv"))
        echo(f"  {len(files)} files from {export}: registrations, engagement and polls (one bad entry_id and one")
        echo("  unknown status are in there on purpose). People are matched by email; a campaign per session")
        echo("  is created from the template campaign; statuses go through the manifest's status map.")
        rejects = Path(".provisioner") / "demo-rejects.csv"
        rejects.parent.mkdir(exist_ok=True)
        for old in (rejects, rejects.with_name("demo-rejects-2.csv")):  # a new demo, not the last one's rejects
            old.unlink(missing_ok=True)
        summary = _sync(files, folder, box.env(), Path(tmp) / "ledger.sqlite", rejects)
        _render_sync(summary)
        if summary.failed or summary.stopped:
            raise DemoError(f"sync did not finish: {summary.failed or summary.stopped}")
        echo(f"  (the same as: provisioner sync {export}/*.csv --manifest {folder} --sync kaltura-sync)")

        step(7, "Sync the same export again: nothing is sent twice")
        again_summary = _sync(files, folder, box.env(), Path(tmp) / "ledger.sqlite", rejects.with_name("demo-rejects-2.csv"))
        sent = sum(again_summary.confirmed.values())
        if sent:
            raise DemoError(f"the second sync sent {sent} rows again")
        echo(f"  {again_summary.rows} rows read; their {again_summary.skipped} deliveries to Salesforce and Marketo are "
             "already confirmed in the ledger, so 0 were sent.")

    step(8, "Done")
    echo(f"  The sandbox is stopped; nothing was left running. {time.perf_counter() - started:.1f} s in all.")
    echo("  Next: point the tool at a real sandbox org (see README: Connecting to real orgs).")
    return 0
