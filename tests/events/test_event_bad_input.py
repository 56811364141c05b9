"""Bad sessions and bad templates: every problem is reported with its row or template line, no call reaches
an org unless --partial, and then only the good rows go through."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.sandbox.runtime import Sandbox

from .conftest import calls, campaigns, programs, run, write_sessions

GOOD = {"name": "Partial Good Session", "start": "2099-05-01", "end": "2099-05-01", "type": "live"}


@pytest.fixture(autouse=True)
def repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])


def test_a_missing_column_names_the_file_and_the_column(box: Sandbox, tmp_path: Path) -> None:
    sessions = write_sessions(tmp_path / "s.csv", [{"name": "A", "end": "2099-01-01"}], ["name", "end"])
    before = calls(box)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 1
    assert f"{sessions}:1: column 'start' is missing (the header has: name, end); add it to the first line" in out
    assert "Traceback" not in out and calls(box) == before


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_created(box: Sandbox, tmp_path: Path) -> None:
    rows = [GOOD,
            {"name": "Tomorrow-ish", "start": "next tuesday", "end": "", "type": "live"},
            {"name": "Partial Good Session", "start": "2099-05-02", "end": "", "type": "live"},
            {"name": "S" * 81, "start": "2099-05-03", "end": "", "type": "live"},
            {"name": "Backwards", "start": "2099-05-03", "end": "2099-05-01", "type": "live"},
            {"name": "Hybrid", "start": "2099-05-03", "end": "", "type": "hybrid"}]
    sessions = write_sessions(tmp_path / "s.csv", rows)
    before = calls(box)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 1, out
    assert f"{sessions}:3: start 'next tuesday' is not a date" in out
    assert f"{sessions}:4: session 'Partial Good Session' is listed twice (the first is at {sessions}:2" in out
    assert f"{sessions}:5: spec.campaignMemberStatuses[0].campaign: 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS...' is 81 " \
        "characters, longer than the 80 allowed" in out, out
    assert f"{sessions}:6: end 2099-05-01 is before start 2099-05-03" in out
    assert f"{sessions}:7: type 'hybrid' is not live or on-demand" in out
    assert "5 of 6 session(s) are bad; nothing was created" in out
    assert calls(box) == before  # not a single API call


def test_names_too_long_for_marketo_but_not_for_a_marketo_only_template(box: Sandbox, tmp_path: Path) -> None:
    template = tmp_path / "program-only"
    template.mkdir()
    source = (Path("templates") / "kaltura-event" / "marketo.yaml.j2").read_text("utf-8")
    (template / "marketo.yaml.j2").write_text(source, "utf-8")
    rows = [{"name": "M" * 120, "start": "2099-06-01", "end": "", "type": "live"},
            {"name": "N" * 256, "start": "2099-06-01", "end": "", "type": "live"}]
    sessions = write_sessions(tmp_path / "s.csv", rows)
    code, out = run(box, "event", "new", str(template), "--sessions", str(sessions), "--plan-only")
    assert code == 1
    assert f"{sessions}:2:" not in out  # 120 characters is fine for a Marketo program
    assert f"{sessions}:3: spec.programs[0].name: " in out and "is 256 characters, longer than the 255 allowed" in out


def test_an_undefined_variable_names_the_template_line(box: Sandbox, tmp_path: Path) -> None:
    template = tmp_path / "speaker"
    template.mkdir()
    (template / "salesforce.yaml.j2").write_text(
        (Path("templates") / "kaltura-event" / "salesforce.yaml.j2").read_text("utf-8").replace(
            'description: {{ (description', 'description: {{ (speaker ~ description'), "utf-8")
    line = next(i for i, text in enumerate((template / "salesforce.yaml.j2").read_text().splitlines(), 1)
                if "speaker" in text)
    sessions = write_sessions(tmp_path / "s.csv", [dict(GOOD, name="With speaker")])
    before = calls(box)
    code, out = run(box, "event", "new", str(template), "--sessions", str(sessions), "--auto-approve")
    assert code == 1
    assert f"{sessions}:2: template variable is not defined: 'speaker' is undefined" in out
    assert f"salesforce.yaml.j2:{line}:1]" in out
    assert "pass it with --var NAME=VALUE" in out
    assert calls(box) == before


def test_a_template_cannot_reach_python_internals(box: Sandbox, tmp_path: Path) -> None:
    template = tmp_path / "evil"
    template.mkdir()
    (template / "salesforce.yaml.j2").write_text(
        "{{ name.__class__.__mro__[1].__subclasses__() }}\napiVersion: provisioner/v1\n", "utf-8")
    sessions = write_sessions(tmp_path / "s.csv", [dict(GOOD, name="Evil")])
    code, out = run(box, "event", "new", str(template), "--sessions", str(sessions), "--auto-approve")
    assert code == 1
    assert f"{sessions}:2: template tried an unsafe operation" in out
    assert "subclasses" not in out.split("unsafe operation")[0] and "Traceback" not in out


def test_partial_creates_the_good_rows_and_reports_the_bad(box: Sandbox, tmp_path: Path) -> None:
    rows = [GOOD, {"name": "Broken date", "start": "2099-13-45", "end": "", "type": "live"}]
    sessions = write_sessions(tmp_path / "s.csv", rows)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve",
                    "--partial")
    assert code == 1, out  # the run reports the row it left out
    assert f"{sessions}:3: start '2099-13-45' is not a date" in out
    assert "Bad rows (left out; the rest go on):" in out
    assert "Apply complete! Resources: 18 added" in out
    assert list(campaigns(box, ["Partial Good Session", "Broken date"])) == ["Partial Good Session"]
    assert "Partial Good Session" in {p["name"] for p in programs(box)}


def test_out_dir_writes_reviewable_manifests_and_applies_nothing(box: Sandbox, tmp_path: Path) -> None:
    sessions = write_sessions(tmp_path / "s.csv", [dict(GOOD, name="Reviewed First", parent="Kaltura Event Template")],
                              ["name", "start", "end", "type", "parent"])
    before = calls(box)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--out-dir",
                    str(tmp_path / "events"))
    assert code == 0, out
    files = list((tmp_path / "events").glob("*.yaml"))
    assert len(files) == 1 and calls(box) == before
    text = files[0].read_text("utf-8")
    assert 'campaign: "Reviewed First"' in text and 'parent: "Kaltura Event Template"' in text
    assert 'cloneFrom: "Kaltura Event Template"' in text
    code, out = run(None, "validate", "manifests", str(tmp_path / "events"))
    assert code == 0, out
    code, out = run(box, "plan", "--detailed-exitcode", "manifests/kaltura-salesforce.yaml",
                    "manifests/kaltura-salesforce-polls.yaml.j2", "manifests/kaltura-marketo.yaml",
                    str(tmp_path / "events"))
    assert code == 2, out
    assert 'salesforce.campaign."Reviewed First"' in out and 'parent = "Kaltura Event Template"' in out.replace(
        ': ', ' = ') or "Kaltura Event Template" in out
    assert campaigns(box, ["Reviewed First"]) == {}


def test_one_event_from_variables(box: Sandbox, tmp_path: Path) -> None:
    code, out = run(box, "event", "new", "livestorm-session", "--var", "name=Livestorm Product Tour",
                    "--var", "start=2099-07-01T16:00:00Z", "--var", "type=live", "--auto-approve")
    assert code == 0, out
    found = campaigns(box, ["Livestorm Product Tour", "Livestorm Session Template"])
    assert [s["Label"] for s in found["Livestorm Product Tour"]["statuses"]] == \
        [s["Label"] for s in found["Livestorm Session Template"]["statuses"]]
    code, out = run(box, "event", "new", "livestorm-session", "--var", "name=Livestorm Product Tour",
                    "--var", "start=2099-07-01T16:00:00Z", "--plan-only", "--detailed-exitcode")
    assert code == 0 and "No changes." in out
    code, out = run(box, "event", "new", "livestorm-session", "--var", "name=Livestorm Past Webinar",
                    "--var", "start=2020-01-01", "--auto-approve")
    assert code == 0 and "No sessions to create." in out and '"Livestorm Past Webinar" started 2020-01-01' in out
    code, out = run(box, "event", "new", "livestorm-session", "--var", "name=Only a name")
    assert code == 1 and "give --var start=… for one event, or --sessions FILE.csv for many" in out


def test_a_session_folder_outside_marketing_activities_is_a_bad_row(box: Sandbox, tmp_path: Path) -> None:
    # Marketo keeps programs under Marketing Activities: a folder column pointing elsewhere would pass plan and
    # fail at apply, so it is the row's error before any call.
    row = {**GOOD, "folder": "Design Studio/Events"}
    sessions = write_sessions(tmp_path / "s.csv", [row], [*GOOD, "folder"])
    before = calls(box)
    code, out = run(box, "event", "new", "kaltura-event", "--sessions", str(sessions), "--auto-approve")
    assert code == 1, out
    assert (f"{sessions}:2: program 'Partial Good Session' is in folder 'Design Studio/Events', outside Marketing "
            "Activities") in out
    assert "start the path with 'Marketing Activities/', for example 'Marketing Activities/Events'" in out
    assert "1 of 1 session(s) are bad; nothing was created" in out
    assert calls(box) == before
