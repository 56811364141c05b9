"""Generate the Kaltura export fixture (deterministic): registrations, engagement and polls CSVs.

Run ``python tests/sync/make_fixture.py`` to rewrite tests/sync/fixtures/kaltura-export-*.csv.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent / "fixtures"
SESSIONS = ["Kaltura Webinar 2026-12-01", "Kaltura Webinar 2026-12-08"]
STATUSES = ["Registered", "Confirmed email", "During-event visit", "Attended", "Invited", "SSO login"]
SHARED = "shared.person@example.com"      # a Contact and a Lead share it: the Contact wins
CONVERTED = "converted.lead@example.com"  # only a converted Lead has it: a new Lead is created
APOSTROPHE = "o'brien@example.com"


def people(n: int) -> list[str]:
    return [f"person{i:03d}@example.com" for i in range(n)] + [SHARED, CONVERTED, APOSTROPHE]


def write(folder: Path, name: str, columns: list[str], rows: list[dict[str, object]]) -> None:
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


def main(n: int = 120, seed: int = 6, folder: Path = HERE) -> list[str]:
    """Write the three CSV files (``n`` people plus the three special ones) into ``folder``; return their paths."""
    rng = random.Random(seed)
    folder.mkdir(exist_ok=True)
    regs: list[dict[str, object]] = []
    for i, email in enumerate(people(n)):
        session = SESSIONS[i % 2]
        regs.append({"email": email, "first_name": f"First{i}", "last_name": f"Last{i}" if i % 7 else "",
                     "company": f"Company {i}" if i % 5 else "", "title": "Engineer", "session": session,
                     "status": rng.choice(STATUSES), "time": f"2026-12-01T10:{i % 60:02d}:00Z"})
    regs += [dict(regs[3]), dict(regs[4])]                                   # exact duplicates
    regs.append(dict(regs[5], status="Participated", time="2026-12-01T11:00:00Z"))  # a later status change
    regs.append(dict(regs[6], status="Teleported"))                          # unknown status → rejected
    regs.append(dict(regs[7], email="not-an-email"))                         # bad email → rejected
    write(folder, "kaltura-export-registrations.csv",
          ["email", "first_name", "last_name", "company", "title", "session", "status", "time"], regs)
    eng: list[dict[str, object]] = []
    for i, r in enumerate(regs[: n // 2]):
        eng.append({"email": r["email"], "session": r["session"], "entry_id": f"1_{i:08d}", "entry_name": f"Talk {i}",
                    "plays": rng.randint(1, 5), "live_minutes_viewed": f"{rng.uniform(0, 90):.2f}",
                    "combined_live_engaged_users_play_time_ratio": f"{rng.random():.2f}",
                    "time": f"2026-12-01T12:{i % 60:02d}:00Z"})
    eng.append(dict(eng[0], entry_id="1_toolong_entry"))                     # Text(11) overflow → rejected
    eng.append(dict(eng[1], live_minutes_viewed="12345678901234567.5"))      # Number(16,2) overflow → rejected
    write(folder, "kaltura-export-engagement.csv", ["email", "session", "entry_id", "entry_name", "plays",
                                            "live_minutes_viewed", "combined_live_engaged_users_play_time_ratio",
                                            "time"], eng)
    polls = [{"email": e["email"], "session": e["session"], "entry_id": e["entry_id"], "poll_number": p,
              "type": "crowd vote", "question": f"Question {p}?", "answer": rng.choice(["Yes", "No"])}
             for e in eng[:20] for p in (1, 2)]
    write(folder, "kaltura-export-polls.csv", ["email", "session", "entry_id", "poll_number", "type", "question", "answer"],
          polls)
    return [str(folder / f"kaltura-export-{k}.csv") for k in ("registrations", "engagement", "polls")]


if __name__ == "__main__":
    main()
