"""Damaged real-world exports: each class of damage costs its own row only (rejected with file, line and
reason), the neighbours are written, the accounting line adds up, and the exit code says so. Everything is
asserted by reading the sandbox org, not the tool's ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioner.providers.marketo.client import connect

from synchelp import MANIFESTS

SF_ONLY = ("--only", "salesforce")  # these cases need no Marketo: its 100 calls per 20 s are kept for the others

from damage import (HEADER, SESSION, accounts_add_up, campaign_exists, declared, members, people, program_exists,
                    reg, rejects, run, sync_manifests)


@pytest.fixture(scope="module")
def box(provisioned: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The Kaltura org with one declared session (made once by a sync with policy create, as shipped)."""
    sandbox, _ = provisioned
    tmp = tmp_path_factory.mktemp("declare")
    data = tmp / "setup-registrations.csv"
    data.write_text(f"{HEADER}\n{reg('setup@example.com')}\n", "utf-8")
    code, out, text = run(sandbox, tmp, [data])
    assert code == 0, text
    assert campaign_exists(sandbox, SESSION) and program_exists(sandbox, SESSION)
    return sandbox


def write(tmp: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_stray_quote_costs_its_own_row_only(box: Any, tmp_path: Path) -> None:
    emails = [f"quote{i}@example.com" for i in range(5)]
    lines = [HEADER, *(reg(e) for e in emails)]
    lines[3] = reg(emails[2], first='"JJ Dupont')  # an opening quote that nothing closes
    data = write(tmp_path, "q-registrations.csv", lines)
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    got = members(box, emails)
    assert sorted(got) == sorted(emails[:2] + emails[3:])  # the 4 neighbours, none swallowed
    assert "unbalanced double quote" in rejects(tmp_path)[4]
    assert out["accounts"] == {"read": 5, "confirmed": 4, "rejected": 1, "unchanged": 0, "pending": 0}


def test_a_quoted_field_over_two_lines_is_one_record(box: Any, tmp_path: Path) -> None:
    emails = ["multi0@example.com", "multi1@example.com"]
    lines = [HEADER, f'{emails[0]},Ann,Lee,"Acme\nEurope",Engineer,{SESSION},Registered,', reg(emails[1])]
    data = write(tmp_path, "m-registrations.csv", lines)
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, emails)) == emails
    assert out["accounts"]["read"] == 2 and out["files"][0]["lines"] == 4


def test_a_file_without_header_is_refused_line_by_line_and_exits_1(box: Any, tmp_path: Path) -> None:
    emails = [f"nohead{i}@example.com" for i in range(3)]
    data = write(tmp_path, "nh-registrations.csv", [reg(e) for e in emails])
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 1, text
    assert members(box, emails) == {} and all(people(box, e) == [] for e in emails)
    assert out["files"][0]["header"] is False and "not a header row" in out["files"][0]["refused"]
    assert out["accounts"] == {"read": 3, "confirmed": 0, "rejected": 3, "unchanged": 0, "pending": 0}
    assert set(rejects(tmp_path)) == {1, 2, 3}


def test_a_latin1_byte_is_read_as_cp1252_and_reported(box: Any, tmp_path: Path) -> None:
    emails = [f"latin{i}@example.com" for i in range(3)]
    body = [HEADER.encode(), *(reg(e).encode() for e in emails)]
    body[2] = reg(emails[1], first="Hélène").encode("cp1252")  # Excel on Windows re-saved this one line
    data = tmp_path / "l-registrations.csv"
    data.write_bytes(b"\n".join(body) + b"\n")
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, emails)) == emails
    assert [p["FirstName"] for p in people(box, emails[1])] == ["Hélène"]
    assert out["files"][0]["cp1252_lines"] == [3] and out["files"][0]["encoding"] == "utf-8"


def test_utf16_and_bom_files_are_read(box: Any, tmp_path: Path) -> None:
    a = write(tmp_path, "u16-registrations.csv", [HEADER, reg("utf16@example.com", first="Zoë")], "utf-16")
    b = write(tmp_path, "bom-registrations.csv", [HEADER, reg("bom@example.com")], "utf-8-sig")
    code, out, text = run(box, tmp_path, [a, b], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, ["utf16@example.com", "bom@example.com"])) == ["bom@example.com", "utf16@example.com"]
    assert [p["FirstName"] for p in people(box, "utf16@example.com")] == ["Zoë"]
    assert [f["encoding"] for f in out["files"]] == ["utf-16", "utf-8-sig"]


def test_a_200kb_field_and_a_too_long_title_cost_their_rows_only(box: Any, tmp_path: Path) -> None:
    emails = [f"big{i}@example.com" for i in range(4)]
    lines = [HEADER, *(reg(e) for e in emails)]
    lines[2] = reg(emails[1], title="x" * 200_000)
    lines[3] = reg(emails[2], title="y" * 129)  # Title holds 128
    data = write(tmp_path, "b-registrations.csv", lines)
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, emails)) == [emails[0], emails[3]]
    assert people(box, emails[1]) == [] and people(box, emails[2]) == []
    reasons = rejects(tmp_path)
    assert "200,000 characters" in reasons[3] and "ceiling" in reasons[3]
    assert "title" in reasons[4] and "128" in reasons[4]
    assert out["accounts"]["rejected"] == 2 and accounts_add_up(out)


def test_a_semicolon_file_is_read_and_says_so(box: Any, tmp_path: Path) -> None:
    emails = [f"semi{i}@example.com" for i in range(3)]
    data = write(tmp_path, "s-registrations.csv", [HEADER.replace(",", ";"), *(reg(e).replace(",", ";") for e in emails)])
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, emails)) == emails
    assert out["files"][0]["delimiter"] == ";"


def test_a_nul_byte_never_reaches_the_org(box: Any, tmp_path: Path) -> None:
    emails = [f"nul{i}@example.com" for i in range(3)]
    lines = [HEADER, *(reg(e) for e in emails)]
    lines[2] = reg(emails[1], last="Le\x00e")
    jsonl = tmp_path / "n.jsonl"
    jsonl.write_text(json.dumps({"kind": "registration", "email": "nuljson@example.com", "session": SESSION,
                                 "status": "Registered", "last_name": "A\u0000B"}) + "\n", "utf-8")
    code, out, text = run(box, tmp_path, [write(tmp_path, "n-registrations.csv", lines), jsonl], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, emails)) == [emails[0], emails[2]]
    assert people(box, emails[1]) == [] and people(box, "nuljson@example.com") == []
    assert "U+0000" in rejects(tmp_path)[3]


def test_a_wrong_column_count_costs_its_row(box: Any, tmp_path: Path) -> None:
    emails = ["cols0@example.com", "cols1@example.com"]
    data = write(tmp_path, "c-registrations.csv", [HEADER, reg(emails[0]) + ",extra", reg(emails[1])])
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert sorted(members(box, emails)) == [emails[1]]
    assert "9 columns where the header (line 1) has 8" in rejects(tmp_path)[2]


def test_a_session_typo_is_rejected_with_a_hint_and_creates_nothing(box: Any, tmp_path: Path) -> None:
    manifests = sync_manifests(tmp_path / "m", declared)
    emails = ["typo0@example.com", "typo1@example.com", "typo2@example.com"]
    lines = [HEADER, reg(emails[0]), reg(emails[1], session="Damage Webinr"), reg(emails[2], session="Nothing Alike")]
    code, out, text = run(box, tmp_path, [write(tmp_path, "t-registrations.csv", lines)], manifests)
    assert code == 0, text
    assert members(box, emails) == {emails[0]: (SESSION, "Registered")}
    for name in ("Damage Webinr", "Nothing Alike"):
        assert not campaign_exists(box, name) and not program_exists(box, name)
    reasons = rejects(tmp_path)
    assert "did you mean 'Damage Webinar'?" in reasons[3]
    assert "no campaign named 'Nothing Alike'" in reasons[4] and "event new" in reasons[4]
    assert out["accounts"] == {"read": 3, "confirmed": 1, "rejected": 2, "unchanged": 0, "pending": 0}


def test_an_idempotency_typo_is_refused_before_anything_is_written(box: Any, tmp_path: Path) -> None:
    def typo(doc: dict[str, Any]) -> None:
        doc["spec"]["idempotency"]["registration"] = ["session", "emial"]
    manifests = sync_manifests(tmp_path / "m", typo)
    data = write(tmp_path, "i-registrations.csv", [HEADER, reg("idem@example.com")])
    code, out, text = run(box, tmp_path, [data], manifests, *SF_ONLY)
    assert code == 1 and "provisioner validate" in out["error"]
    assert people(box, "idem@example.com") == []
    from click.testing import CliRunner
    from provisioner.cli import cli
    checked = CliRunner().invoke(cli, ["validate", *manifests])
    assert checked.exit_code == 1
    assert "kaltura-sync.yaml:" in checked.output and "idempotency column 'emial'" in checked.output


def test_past_sessions_get_no_campaign_even_with_policy_create(box: Any, tmp_path: Path) -> None:
    header = HEADER + ",session_start"
    lines = [header, reg("past@example.com", session="Old Webinar 2020") + ",2020-01-01T10:00:00Z",
             reg("future@example.com", session="New Webinar 2099") + ",2099-01-01T10:00:00Z"]
    code, out, text = run(box, tmp_path, [write(tmp_path, "p-registrations.csv", lines)])
    assert code == 0, text
    assert not campaign_exists(box, "Old Webinar 2020") and not program_exists(box, "Old Webinar 2020")
    assert campaign_exists(box, "New Webinar 2099") and program_exists(box, "New Webinar 2099")
    assert "past sessions get none" in rejects(tmp_path)[2]


def test_dry_run_lists_the_sessions_it_would_create_and_creates_none(box: Any, tmp_path: Path) -> None:
    data = write(tmp_path, "d-registrations.csv", [HEADER, reg("dry@example.com", session="Planned Webinar"),
                                                     reg("dry2@example.com", session="Planned Webinar", status="Attended")])
    code, out, text = run(box, tmp_path, [data], MANIFESTS, "--dry-run")
    assert code == 0, text
    assert out["salesforce"]["members_by_status"] == {"Registered": 1, "Attended": 1}  # two new people, two members
    assert out["planned"] == {"Salesforce campaigns": ["Planned Webinar"], "Marketo programs": ["Planned Webinar"]}
    assert not campaign_exists(box, "Planned Webinar") and not program_exists(box, "Planned Webinar")


def test_status_case_does_not_matter_and_a_rerun_is_unchanged(box: Any, tmp_path: Path) -> None:
    emails = ["case0@example.com", "case1@example.com"]
    lines = [HEADER, reg(emails[0], status="ATTENDED"), reg(emails[1], status="confirmed EMAIL")]
    data = write(tmp_path, "k-registrations.csv", lines)
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert members(box, emails) == {emails[0]: (SESSION, "Attended"), emails[1]: (SESSION, "Confirmed email")}
    code, again, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY)
    assert code == 0 and again["accounts"] == {"read": 2, "confirmed": 0, "rejected": 0, "unchanged": 2, "pending": 0}


def test_the_text_summary_ends_with_the_accounting_line(box: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from provisioner.cli import cli
    from synchelp import MANIFESTS
    data = write(tmp_path, "x-registrations.csv", [HEADER, reg("text0@example.com"), reg("bad-email")])
    result = CliRunner().invoke(cli, ["sync", str(data), *sum((["--manifest", m] for m in MANIFESTS), []),
                                      "--ledger", str(tmp_path / "l.sqlite"), "--rejects", str(tmp_path / "r.csv")],
                                env=box.env())
    assert result.exit_code == 0, result.output
    assert "read 2 = confirmed 1 + rejected 1 + unchanged 0 + pending 0" in result.output
    assert "comma-delimited, header on line 1" in result.output


@pytest.mark.parametrize("policy", ["create", "declared"])
def test_a_session_that_differs_in_case_or_spaces_never_ends_in_a_traceback(box: Any, tmp_path: Path,
                                                                          policy: str) -> None:
    manifests = sync_manifests(tmp_path / "m", declared if policy == "declared" else None)
    emails = [f"case.{policy}{i}@example.com" for i in range(3)]
    lines = [HEADER, reg(emails[0], session=SESSION.lower()), reg(emails[1], session=f" {SESSION} "),
             reg(emails[2])]
    code, out, text = run(box, tmp_path, [write(tmp_path, "cs-registrations.csv", lines)], manifests,
                          *(SF_ONLY if policy == "declared" else ()))  # create: Marketo too (its 709)
    assert code == 0, text
    assert accounts_add_up(out) and out["accounts"]["pending"] == 0
    assert members(box, emails) == {e: (SESSION, "Registered") for e in emails}  # one session, as the orgs see it
    from provisioner.providers.salesforce.connection import SalesforceConnection
    conn = SalesforceConnection.from_env(box.env())
    assert len(conn.data.query(f"SELECT Id FROM Campaign WHERE Name = '{SESSION}'")) == 1  # no case twin made


def test_odd_session_names_under_policy_create_never_end_in_a_traceback(box: Any, tmp_path: Path) -> None:
    emails = ["odd0@example.com", "odd1@example.com", "odd2@example.com"]
    long_name = "Webinar " + "x" * 92  # Campaign.Name holds 80 characters
    lines = [HEADER, reg(emails[0], session="O'Reilly Webinar"), reg(emails[1], session=long_name), reg(emails[2])]
    code, out, text = run(box, tmp_path, [write(tmp_path, "o-registrations.csv", lines)], MANIFESTS, *SF_ONLY)
    assert code == 0, text
    assert members(box, emails) == {emails[0]: ("O'Reilly Webinar", "Registered"), emails[2]: (SESSION, "Registered")}
    assert not campaign_exists(box, long_name)
    assert long_name in rejects(tmp_path)[3] and "STRING_TOO_LONG" in rejects(tmp_path)[3]
    assert accounts_add_up(out) and out["accounts"]["rejected"] == 1


def test_unknown_campaign_on_every_record_kind_is_a_reject_not_a_traceback(box: Any, tmp_path: Path) -> None:
    manifests = sync_manifests(tmp_path / "m", declared)
    kinds = {
        "registration": {"status": "Registered"},
        "replay": {"status": "watched"},
        "engagement": {"entry_id": "1_unknown01", "plays": "2"},
        "poll": {"entry_id": "1_unknown01", "poll_number": "1", "type": "vote", "question": "Q?", "answer": "A"},
    }
    data = tmp_path / "unknown.jsonl"
    data.write_text("".join(json.dumps({"kind": k, "email": "unknown.campaign@example.com", "session": "No Such Webinar",
                                        **v}) + "\n" for k, v in kinds.items()), "utf-8")
    code, out, text = run(box, tmp_path, [data], manifests)
    assert code == 0, text
    assert out["accounts"] == {"read": 4, "confirmed": 0, "rejected": 4, "unchanged": 0, "pending": 0}
    assert all("no campaign named 'No Such Webinar'" in r or "no Marketo program" in r or "replayStatusField" in r
               for r in rejects(tmp_path).values()), rejects(tmp_path)
    assert not campaign_exists(box, "No Such Webinar") and not program_exists(box, "No Such Webinar")
    assert people(box, "unknown.campaign@example.com") == []  # nothing written for it anywhere
    leads = connect(box.env()).get("/rest/v1/leads.json", {"filterType": "email",
                                                           "filterValues": "unknown.campaign@example.com"})
    assert leads == []


def test_a_header_without_a_required_column_refuses_its_file_and_says_which(box: Any, tmp_path: Path) -> None:
    emails = ["hdr0@example.com", "hdr1@example.com"]
    bad = write(tmp_path, "h-registrations.csv", [HEADER.replace("email", "e_mail"), *(reg(e) for e in emails)])
    good = write(tmp_path, "g-registrations.csv", [HEADER, reg("hdr.ok@example.com")])
    code, out, text = run(box, tmp_path, [bad, good], MANIFESTS, *SF_ONLY)
    assert code == 1, text  # a file refused whole is not a success ...
    assert members(box, emails + ["hdr.ok@example.com"]) == {"hdr.ok@example.com": (SESSION, "Registered")}
    assert "no 'email' column" in out["files"][0]["refused"] and out["files"][1]["refused"] is None
    assert out["accounts"] == {"read": 3, "confirmed": 1, "rejected": 2, "unchanged": 0, "pending": 0}


def test_a_file_that_names_no_kind_is_refused_and_the_files_before_it_are_written(box: Any, tmp_path: Path) -> None:
    good = write(tmp_path, "k1-registrations.csv", [HEADER, reg("kind.ok@example.com")])
    kindless = write(tmp_path, "export.csv", [HEADER, reg("kind.less@example.com")])
    code, out, text = run(box, tmp_path, [good, kindless], MANIFESTS, *SF_ONLY)
    assert code == 1, text
    assert members(box, ["kind.ok@example.com", "kind.less@example.com"]) == {
        "kind.ok@example.com": (SESSION, "Registered")}
    assert "no 'kind' column" in out["files"][1]["refused"] and "no 'kind' column" in rejects(tmp_path)[2]
    assert out["accounts"] == {"read": 2, "confirmed": 1, "rejected": 1, "unchanged": 0, "pending": 0}


def test_the_field_ceiling_is_configurable(box: Any, tmp_path: Path) -> None:
    data = write(tmp_path, "cap-registrations.csv", [HEADER, reg("cap0@example.com", title="CTO"),
                                                     reg("cap1@example.com", title="Chief Technology Officer")])
    code, out, text = run(box, tmp_path, [data], MANIFESTS, *SF_ONLY, "--max-field-chars", "22")
    assert code == 0, text
    assert sorted(members(box, ["cap0@example.com", "cap1@example.com"])) == ["cap0@example.com"]
    assert "title is 24 characters, above the ceiling of 22" in rejects(tmp_path)[3]
