"""validate's Sync rules: idempotency and mapped columns exist (in the sample header when one is given), a
sync that creates Leads has fallbacks for Company and LastName, and status sources compare case-insensitively."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import MK_HEAD, SF_HEAD, marked_line, run_validate, write

SETUP = SF_HEAD.format(name="sf") + """  campaignMemberStatuses:
    - campaign: T
      statuses:
        - {label: Registered, default: true}
        - {label: Attended, responded: true}
---
""" + MK_HEAD.format(name="mk") + """  channels:
    - name: Ev
      programType: event
      statuses: [{name: Registered, step: 10}, {name: Attended, step: 20, success: true}]
---
apiVersion: provisioner/v1
kind: Sync
metadata:
  name: s
spec:
"""
SOURCE = "  source: {platform: kaltura}\n"
SF = """  salesforce:
    manifest: sf
    campaign: T
    matching: {createAs: Lead, fallbacks: {Company: x, LastName: y}}
    fieldMappings: {Lead: {Email: email, Title: title}}
"""
STATUSES = "  statusMap:\n    - {source: Registered, salesforce: Registered}\n"
GOOD = SETUP + SOURCE + SF + STATUSES


def test_the_good_sync_is_valid(tmp_path: Path) -> None:
    code, output = run_validate(str(write(tmp_path, "a.yaml", GOOD)))
    assert code == 0, output


CASES = [
    ("idempotency-typo", GOOD + "  idempotency:\n    registration: [session, emial] #<\n",
     "idempotency column 'emial' is neither an event-data column nor a mapped one"),
    ("idempotency-not-in-header",
     GOOD.replace(SOURCE, "  source:\n    platform: kaltura\n    headers: {registration: [Email, Session, Status]}\n")
     + "  idempotency:\n    registration: [session, time] #<\n",
     "idempotency column 'time' is not in the registration header"),
    ("mapped-not-in-header",
     GOOD.replace(SOURCE, "  source:\n    platform: kaltura\n    headers: {registration: [email, session, status]}\n")
     .replace("    fieldMappings: {Lead: {Email: email, Title: title}}\n",
              "    fieldMappings: {Lead: {Email: email, Title: title}} #<\n"),
     "mapped column 'title' is in no header"),
    ("lead-fallbacks", GOOD.replace("    matching: {createAs: Lead, fallbacks: {Company: x, LastName: y}}\n",
                                    "    matching: {createAs: Lead, fallbacks: {LastName: y}} #<\n"),
     "this sync creates Leads but has no fallback for their required Company"),
    ("status-case", GOOD + "    - {source: registered, salesforce: Attended} #<\n",
     "source status 'registered' is mapped twice (case does not matter)"),
]


@pytest.mark.parametrize("case_id,content,message", CASES, ids=[c[0] for c in CASES])
def test_sync_rule_is_located(tmp_path: Path, case_id: str, content: str, message: str) -> None:
    path = write(tmp_path, "a.yaml", content)
    code, output = run_validate(str(path))
    assert code == 1, output
    lines = [line for line in output.splitlines() if message in line]
    assert lines, f"expected {message!r} in:\n{output}"
    assert lines[0].startswith(f"{path}:{marked_line(content)}:"), lines[0]
