"""Rescheduling one event costs what the change needs at Marketo: the token, the program's byName read,
its folder read and the update; no permission probe (the reads proved the Assets area the update writes).
The check of the daily limit before writing adds one call (stats/usage.json), none with --ignore-limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.providers.marketo.client import connect
from provisioner.sandbox.runtime import Sandbox

from .conftest import run, write_sessions

NAME = "Rescheduled Roadshow 2099"


def marketo_calls(box: Sandbox) -> dict[str, int]:
    return box.stats()["marketo"]["calls"]["by_route"]


def test_rescheduling_one_event_costs_four_marketo_calls(box: Sandbox, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    sessions = tmp_path / "sessions.csv"
    write_sessions(sessions, [{"name": NAME, "start": "2099-05-04T10:00:00Z", "end": "2099-05-04T11:00:00Z",
                               "type": "live"}])
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 0, out

    write_sessions(sessions, [{"name": NAME, "start": "2099-05-06T10:00:00Z", "end": "2099-05-06T11:00:00Z",
                               "type": "live"}])
    box.server("marketo").reset_stats()
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve",
                    "--ignore-limits")
    assert code == 0, out
    assert "0 added, 2 changed" in out
    needed = {
        "POST /identity/oauth/token": 1,
        "GET /rest/asset/v1/program/byName.json": 1,
        "GET /rest/asset/v1/folder/{id}.json": 1,
        "POST /rest/asset/v1/program/{id}.json": 1,
    }
    assert marketo_calls(box) == needed

    write_sessions(sessions, [{"name": NAME, "start": "2099-05-07T10:00:00Z", "end": "2099-05-07T11:00:00Z",
                               "type": "live"}])
    box.server("marketo").reset_stats()
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 0 and "0 added, 2 changed" in out, out
    assert marketo_calls(box) == {**needed, "GET /rest/v1/stats/usage.json": 1}
    program = connect(box.env()).get("/rest/asset/v1/program/byName.json", {"name": NAME})[0]
    assert (program["startDate"][:10], program["endDate"][:10]) == ("2099-05-07", "2099-05-07")
