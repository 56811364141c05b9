"""`event new --format json` (facts checked against the org) and its progress bar (on a terminal only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from terminal import on_a_terminal

from provisioner.sandbox.runtime import Sandbox

from .conftest import campaigns, programs, run, write_sessions

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def _rows(prefix: str, n: int) -> list[dict[str, str]]:
    return [{"name": f"{prefix} {i}", "start": f"2099-06-{i:02d}", "end": "", "type": "live"} for i in range(1, n + 1)]


def test_event_new_json(box: Sandbox, tmp_path: Path) -> None:
    rows = _rows("Json Session", 2) + [{"name": "Json Bad", "start": "not a date", "end": "", "type": "live"}]
    sessions = write_sessions(tmp_path / "s.csv", rows)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--format", "json",
                    "--auto-approve", "--partial")
    assert code == 1  # the bad row makes the run fail, the good ones are applied
    data = json.loads(out[:out.rindex("}") + 1][out.index("{"):])
    assert data["version"] == 1 and data["command"] == "event new" and data["template"] == "kaltura-event"
    assert data["sessions"] == {"total": 3, "to_plan": 2, "past": 0, "bad": 1,
                                "bad_rows": [{"where": f"{sessions}:4", "errors": data["sessions"]["bad_rows"][0]["errors"]}]}
    assert data["applied"] is True and data["summary"]["failed"] == 0
    names = [r["name"] for r in rows[:2]]
    assert sorted(campaigns(box, names)) == sorted(names)
    assert set(names) <= {p["name"] for p in programs(box)}
    assert data["summary"]["added"] == len(data["results"])


def _on_a_terminal(box: Sandbox, tmp_path: Path, *extra: str) -> str:
    """Run `event new` with stderr on a pseudo-terminal; return what the terminal showed."""
    sessions = write_sessions(tmp_path / "s.csv", _rows(f"Progress{len(extra)} Session", 3))
    return on_a_terminal(["event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve", *extra],
                         dict(box.env(), MARKETO_MAX_CALLS_PER_20S="100", COLUMNS="120"), REPO,
                         tmp_path / "stdout.txt")


def test_progress_shows_rate_and_eta_on_a_terminal(box: Sandbox, tmp_path: Path) -> None:
    shown = _on_a_terminal(box, tmp_path)
    assert "applying 3 sessions" in shown and "changes/s" in shown and "ETA" in shown
    assert "54/54" in shown  # 3 sessions × (campaign, 10 statuses, program, ...): every change counted


def test_quiet_and_non_terminals_show_no_progress(box: Sandbox, tmp_path: Path) -> None:
    assert "changes/s" not in _on_a_terminal(box, tmp_path, "--quiet")
    code, out = run(box, "event", "new", "kaltura-event", "--sessions",
                    str(write_sessions(tmp_path / "p.csv", _rows("Piped Session", 1))), "--auto-approve")
    assert code == 0 and "changes/s" not in out and "Apply complete!" in out
