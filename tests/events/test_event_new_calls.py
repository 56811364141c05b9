"""`event new` spends only the calls the vendors' rules require, counted from the sandbox's own request
records for the user's command. Expected counts come from Marketo's and Salesforce's documented limits:
programs are browsed 200 a page (maxReturn), a program is created by one clone call and dated by one
update (the clone endpoint takes no dates, programs have no batch write), and a browse record carries
each program's id and channel but only its folder's id (one folder read resolves the path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.sandbox.runtime import Sandbox

from .conftest import programs, run, write_sessions

BROWSE_PAGE = 200  # Marketo's maxReturn for browsing programs


def routes(box: Sandbox, target: str) -> dict[str, int]:
    return box.stats()[target]["calls"]["by_route"]


@pytest.mark.parametrize("sessions_count", [2, 12])  # from two programs, one browse page answers for all
def test_creating_sessions_reads_the_template_program_from_the_browse_and_asks_no_identity(
        box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sessions_count: int) -> None:
    SESSIONS = sessions_count
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    sessions = write_sessions(tmp_path / "sessions.csv", [
        {"name": f"Calls Check {SESSIONS}-{i:02d}", "start": f"2099-07-{i + 1:02d}T10:00:00Z",
         "end": f"2099-07-{i + 1:02d}T11:00:00Z", "type": "live"} for i in range(SESSIONS)])
    in_instance = len(programs(box))
    box.server("marketo").reset_stats()
    box.server("salesforce").reset_stats()
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 0, out

    marketo = routes(box, "marketo")
    browse_pages = -(-(in_instance + 1) // BROWSE_PAGE)  # the programs, plus the empty page that ends a full one
    assert marketo == {
        "POST /identity/oauth/token": 1,
        "GET /rest/asset/v1/programs.json": browse_pages,      # the sessions' names and the template program
        "GET /rest/asset/v1/folder/byName.json": 1,              # the sessions' folder path
        "GET /rest/v1/stats/usage.json": 1,                      # the daily quota left, before writing
        "POST /rest/asset/v1/program/{id}/clone.json": SESSIONS,
        "POST /rest/asset/v1/program/{id}.json": SESSIONS,       # the dates
    }, marketo  # no program/byName for the template (twice), no channel/byName: the browse gave both
    salesforce = routes(box, "salesforce")
    assert "GET /services/oauth2/userinfo" not in salesforce  # the org's identity: only for a saved plan
    assert "GET /services/data/limits" not in salesforce      # the limit: from the Sforce-Limit-Info header
    assert len([p for p in programs(box) if p["name"].startswith(f"Calls Check {SESSIONS}-")]) == SESSIONS


def test_a_saved_plan_still_records_the_org_it_was_made_for(box: Sandbox, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    sessions = write_sessions(tmp_path / "sessions.csv", [
        {"name": "Identity Check", "start": "2099-08-01T10:00:00Z", "end": "2099-08-01T11:00:00Z", "type": "live"}])
    out_dir = tmp_path / "rendered"
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--out-dir", str(out_dir))
    assert code == 0, out
    box.server("salesforce").reset_stats()
    code, out = run(box, "plan", "manifests", str(out_dir))
    assert code == 0, out
    assert "GET /services/oauth2/userinfo" not in routes(box, "salesforce")
    box.server("salesforce").reset_stats()
    code, out = run(box, "plan", "manifests", str(out_dir), "--out", str(tmp_path / "plan.json"))
    assert code == 0, out
    assert routes(box, "salesforce").get("GET /services/oauth2/userinfo") == 1
    assert '"organization_id"' in (tmp_path / "plan.json").read_text("utf-8")
