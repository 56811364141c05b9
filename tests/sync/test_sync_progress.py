"""Progress a user sees during a long sync: the rows settled move after every API call (not only when a
batch ends) and reach every row; on a terminal, a bar with rows/s and an ETA, none with --quiet."""

from __future__ import annotations

import csv
from pathlib import Path

from synchelp import MANIFESTS
from terminal import on_a_terminal

from provisioner.sandbox.runtime import Sandbox
from provisioner.sync.engine import run_sync

REPO = Path(__file__).resolve().parents[2]


def _registrations(path: Path, n: int, who: str = "progress") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "company", "session", "status", "time"])
        for i in range(n):
            writer.writerow([f"{who}{i:04d}@example.com", "P", f"Person {i}", "Acme", "Kaltura Launch Webinar",
                             "Registered", "2026-12-01T10:00:00Z"])
    return path


def test_rows_settled_move_with_each_call_within_one_batch(provisioned: tuple[Sandbox, dict], tmp_path: Path) -> None:
    rows = 450  # one batch, three Salesforce collections of 200 for the members: the count moves in between
    data = _registrations(tmp_path / "registrations.csv", rows)
    seen: list[int] = []
    box, _ = provisioned
    summary = run_sync([str(data)], MANIFESTS, box.env(), ledger_path=str(tmp_path / "l.sqlite"),
                       rejects_path=str(tmp_path / "r.csv"), targets=("salesforce",),
                       progress=lambda s: seen.append(s.rows_done))
    assert summary.accounts.line() == f"read {rows} = confirmed {rows} + rejected 0 + unchanged 0 + pending 0"
    assert seen == sorted(seen) and seen[-1] == rows  # never backwards, and every row in the end
    assert len({n for n in seen if 0 < n < rows}) >= 2  # moved within the one batch, call by call


def _on_a_terminal(env: dict[str, str], data: Path, folder: Path, *extra: str) -> str:
    return on_a_terminal(["sync", str(data), *[a for m in MANIFESTS for a in ("--manifest", m)], "--only", "salesforce",
                          "--ledger", str(folder / f"l{len(extra)}.sqlite"),
                          "--rejects", str(folder / f"r{len(extra)}.csv"), *extra],
                         dict(env, COLUMNS="140"), folder, folder / "stdout.txt")


def test_a_terminal_shows_rows_per_second_and_an_eta_and_quiet_shows_none(provisioned: tuple[Sandbox, dict],
                                                                           tmp_path: Path) -> None:
    box, _ = provisioned
    shown = _on_a_terminal(box.env(), _registrations(tmp_path / "tty-registrations.csv", 30, "tty"), tmp_path)
    quiet = _on_a_terminal(box.env(), _registrations(tmp_path / "quiet-registrations.csv", 30, "quiet"), tmp_path, "--quiet")
    assert "rows/s" in shown and "ETA" in shown and "30/30" in shown
    assert "rows/s" not in quiet and "ETA" not in quiet
