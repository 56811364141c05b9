"""`event new --sessions`: 50 sessions become 50 campaigns with the template's statuses and 50 cloned programs
in the template's folder; a second run plans `No changes.`; past sessions are skipped; a new date is an update."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import requests

from provisioner.sandbox.runtime import Sandbox

from .conftest import calls, campaigns, programs, run, write_sessions

TEMPLATE = "Kaltura Event Template"
FOLDER_NAME = "Kaltura Events"  # the template program's folder (manifests/kaltura-marketo.yaml)


def fifty(day: int = 1) -> list[dict[str, str]]:
    rows = [{"name": f"Kaltura Summit 2099 – Session {i:02d}", "start": f"2099-03-{day:02d}T{8 + i % 10:02d}:00:00Z",
             "end": f"2099-03-{day:02d}T{9 + i % 10:02d}:00:00Z", "type": "live"} for i in range(1, 49)]
    rows += [{"name": "O'Brien's on-demand keynote", "start": "2020-05-01", "end": "", "type": "on-demand"},
             {"name": "Replay: Summit opening", "start": "2021-01-01", "end": "", "type": "on-demand"}]
    past = [{"name": "Kaltura Summit 2001 – Opening", "start": "2001-09-10T09:00:00Z", "end": "", "type": "live"},
            {"name": "Last year's roadshow", "start": "2025-06-01", "end": "2025-06-02", "type": "live"}]
    return rows[:25] + past + rows[25:]


def statuses(campaign: dict) -> list[tuple[str, bool, bool]]:
    return [(s["Label"], bool(s["IsDefault"]), bool(s["HasResponded"]))
            for s in sorted(campaign["statuses"], key=lambda s: s["SortOrder"])]


@pytest.fixture
def unthrottled(box: Sandbox) -> Iterator[Sandbox]:
    """The instance without its 100 calls / 20 s window for one test (the limits have their own tests, in
    simulated time): 50 sessions take ~200 Marketo calls, which would otherwise wait out real windows."""
    url = f"{box.marketo_url}/__sandbox/limits"
    before = requests.post(url, json={}, verify=box.ca_bundle, timeout=10).json()["rate_limit_calls"]
    requests.post(url, json={"rate_limit_calls": 100_000}, verify=box.ca_bundle, timeout=10).raise_for_status()
    yield box
    requests.post(url, json={"rate_limit_calls": before}, verify=box.ca_bundle, timeout=10).raise_for_status()


def test_fifty_sessions_become_campaigns_and_programs_once(unthrottled: Sandbox, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    box = unthrottled
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    rows = fifty()
    sessions = write_sessions(tmp_path / "sessions.csv", rows)
    names = [r["name"] for r in rows if not r["start"].startswith(("2001", "2025"))]
    assert len(names) == 50

    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve",
                    calls_per_20s=100_000)
    assert code == 0, out
    assert "52 session(s)" in out and "50 to plan, 2 past, 0 bad" in out
    assert '"Kaltura Summit 2001 – Opening" started 2001-09-10T09:00:00Z' in out
    assert '"Last year\'s roadshow" started 2025-06-01' in out
    assert "Apply complete! Resources: 900 added, 0 changed, 0 destroyed." in out  # 50 × (campaign + 16 statuses + program)

    # Salesforce: every session campaign carries exactly the template campaign's statuses, flags and order.
    found = campaigns(box, names + [TEMPLATE, "Kaltura Summit 2001 – Opening", "Last year's roadshow"])
    template = found.pop(TEMPLATE)
    assert "Kaltura Summit 2001 – Opening" not in found and "Last year's roadshow" not in found
    assert sorted(found) == sorted(names)
    assert len(statuses(template)) == 18  # the manifest's 16 and the Sent/Responded every campaign starts with
    for name, campaign in found.items():
        assert statuses(campaign) == statuses(template), name
        assert campaign["Type"] == "Webinar" and campaign["IsActive"] is True
    session_01 = found["Kaltura Summit 2099 – Session 01"]
    assert (session_01["StartDate"], session_01["EndDate"], session_01["Status"]) == ("2099-03-01", "2099-03-01",
                                                                                      "Planned")
    assert found["O'Brien's on-demand keynote"]["Status"] == "In Progress"

    # Marketo: 50 programs cloned from the template into its folder, with the session's dates.
    listed = {p["name"]: p for p in programs(box)}
    template_program = listed[TEMPLATE]
    clones = {n: p for n, p in listed.items() if n in names}
    assert sorted(clones) == sorted(names)
    assert "Kaltura Summit 2001 – Opening" not in listed
    for program in clones.values():
        assert program["folder"]["folderName"] == FOLDER_NAME
        assert program["folder"]["value"] == template_program["folder"]["value"]
        assert (program["type"], program["channel"]) == ("Event", "Kaltura Event")

    # Second run: nothing to do, and the plan says so.
    before = calls(box)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--plan-only",
                    "--detailed-exitcode", calls_per_20s=100_000)
    assert code == 0, out
    assert "No changes." in out
    assert calls(box) > before  # it did read the orgs

    # A session moved to another day (a file with just that row: sessions are matched by name): its campaign
    # and program are updated in place, nothing is created.
    moved = [dict(r, start=r["start"].replace("2099-03-01", "2099-04-02"), end=r["end"].replace("2099-03-01", "2099-04-02"))
             for r in rows if r["name"].endswith("Session 01")]
    write_sessions(sessions, moved)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 0, out
    assert "Apply complete! Resources: 0 added, 2 changed, 0 destroyed." in out
    again = campaigns(box, ["Kaltura Summit 2099 – Session 01"])["Kaltura Summit 2099 – Session 01"]
    assert (again["StartDate"], again["EndDate"]) == ("2099-04-02", "2099-04-02")
    assert again["Id"] == session_01["Id"]
    assert len(campaigns(box, names)) == 50 and len({p["name"] for p in programs(box)} & set(names)) == 50
