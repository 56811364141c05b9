"""Bad input: each case gets a one-line error naming the file and line, exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import MK_HEAD, SF_HEAD, marked_line, run_validate, write

SF = SF_HEAD.format(name="t")
MK = MK_HEAD.format(name="t")


def sf_field(field: str, obj: str = "CampaignMember") -> str:
    return SF + f"""  objects:
    - name: {obj}
      fields:
        - {field}
"""


def custom_object(extra: str = "", fields: str = "        - {name: a, type: Text, length: 10}") -> str:
    return SF + f"""  objects:
    - name: Thing
      label: Thing
      pluralLabel: Things
      nameField: {{label: Name, type: Text}}
{extra}      fields:
{fields}
"""


def statuses(*rows: str) -> str:
    return SF + "  campaignMemberStatuses:\n    - campaign: T\n      statuses:\n" + "".join(
        f"        - {r}\n" for r in rows)


def program(channel_type: str = "event", program_channel: str = "Ev") -> str:
    return MK + f"""  channels:
    - name: Ev
      programType: {channel_type}
      statuses: [{{name: Registered, step: 10, success: true}}]
  programs:
    - name: P
      type: Event
      channel: {program_channel} #<
      folder: Marketing Activities
"""


def co_fields(n: int) -> str:
    return "".join(f"        - {{name: f{i}, dataType: string}}\n" for i in range(n))


def custom_objects(n: int, fields: int = 1, dedupe: str = "[f0]") -> str:
    body = MK + "  customObjects:\n"
    for i in range(n):
        marker = " #<" if i == 10 else ""
        body += f"    - apiName: obj{i}{marker}\n      displayName: Obj {i}\n      dedupeFields: {dedupe}\n" \
                f"      fields:\n{co_fields(fields)}"
    return body


def activities(n: int, attributes: int = 0) -> str:
    body = MK + "  customActivities:\n"
    for i in range(n):
        marker = " #<" if i == 10 else ""
        body += (f"    - apiName: act{i}{marker}\n      name: Act {i}\n      triggerName: T{i}\n      filterName: F{i}\n"
                 f"      primaryAttribute: {{apiName: p, dataType: string}}\n      attributes:\n")
        body += "".join(f"        - {{apiName: a{j}, dataType: string}}\n" for j in range(attributes))
        if not attributes:
            body = body.replace("      attributes:\n", "")
    return body


SYNC = """apiVersion: provisioner/v1
kind: Sync
metadata:
  name: s
spec:
  source: {platform: kaltura}
  salesforce: {manifest: sf, campaign: T}
  marketo: {manifest: mk, channel: Ev}
  statusMap:
"""
SF_FOR_SYNC = SF_HEAD.format(name="sf") + """  campaignMemberStatuses:
    - campaign: T
      statuses:
        - {label: Registered, default: true}
        - {label: Attended, responded: true}
---
"""
MK_FOR_SYNC = MK_HEAD.format(name="mk") + """  channels:
    - name: Ev
      programType: event
      statuses: [{name: Registered, step: 10}, {name: Attended, step: 20, success: true}]
---
"""

# (id, file name, content with a #< marker on the expected line (or line=None: file-level), message part)
CASES = [
    ("yaml-syntax", "a.yaml", "apiVersion: provisioner/v1\nkind: Salesforce: x #<\n", "YAML syntax error"),
    ("yaml-unclosed", "a.yaml", "apiVersion: provisioner/v1\nkind: [Salesforce\n",
     "flow sequence that starts at line 2"),
    ("tab-indent", "a.yaml", "apiVersion: provisioner/v1\nmetadata:\n\tname: x #<\n", "tab"),
    ("duplicate-key", "a.yaml", SF + "  objects: []\n  objects: [] #<\n", "duplicate key 'objects'"),
    ("unknown-key", "a.yaml", sf_field("{name: a, type: Text, lenght: 10} #<"), "unknown key 'lenght'"),
    ("wrong-type", "a.yaml", sf_field("{name: a, type: Text, length: ten} #<"), "must be an integer"),
    ("python-tag", "a.yaml", SF + "  objects: !!python/object/apply:os.system ['echo pwned'] #<\n",
     "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("custom-tag", "a.yaml", SF + "  objects: !include other.yaml #<\n", "tag '!include' is not allowed"),
    ("alias-bomb", "a.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e] #<\n",
     "alias bomb"),
    ("jinja-dunder", "a.yaml.j2", SF + "  objects: []\n# {{ ''.__class__.__mro__ }} #<\n", "unsafe"),
    ("jinja-undefined", "a.yaml.j2", SF + "  apiVersion: '{{ version }}' #<\n", "'version' is undefined"),
    ("jinja-syntax", "a.yaml.j2", SF + "{% for x in %} #<\n", "template syntax error"),
    ("no-api-version", "a.yaml", "kind: Salesforce #<\nmetadata: {name: a}\nspec: {}\n", "missing required key 'apiVersion'"),
    ("wrong-api-version", "a.yaml", "apiVersion: provisioner/v2 #<\nkind: Salesforce\nmetadata: {name: a}\nspec: {}\n",
     "'provisioner/v2' is not allowed"),
    ("unknown-kind", "a.yaml", "apiVersion: provisioner/v1\nkind: Hubspot #<\nmetadata: {name: a}\nspec: {}\n",
     "'Hubspot' is not allowed"),
    ("not-a-mapping", "a.yaml", "- apiVersion: provisioner/v1 #<\n", "must be a mapping"),
    ("field-suffix", "a.yaml", sf_field("{name: external_id__c, type: Text, length: 10} #<"),
     "write the name without the suffix: 'external_id'"),
    ("object-suffix", "a.yaml", SF + "  objects:\n    - name: Kaltura_User_Polls_c #<\n      label: P\n"
     "      pluralLabel: P\n      nameField: {label: N, type: Text}\n", "write the name without the suffix: 'Kaltura_User_Polls'"),
    ("name-digit", "a.yaml", sf_field("{name: 1st, type: Text, length: 10} #<"), "must start with a letter"),
    ("name-double-underscore", "a.yaml", sf_field("{name: poll__answer, type: Text, length: 10} #<"), "double underscore"),
    ("name-trailing-underscore", "a.yaml", sf_field("{name: ab_, type: Text, length: 10} #<"), "ends with an underscore"),
    ("name-too-long", "a.yaml", sf_field("{name: " + "a" * 41 + ", type: Text, length: 10} #<"), "the limit is 40"),
    ("name-bad-chars", "a.yaml", sf_field("{name: 'entry-id', type: Text, length: 10} #<"), "characters Salesforce does not allow"),
    ("text-too-long", "a.yaml", sf_field("{name: a, type: Text, length: 300} #<"), "between 1 and 255, got 300"),
    ("text-zero", "a.yaml", sf_field("{name: a, type: Text, length: 0} #<"), "length: 0 is less than the minimum of 1"),
    ("text-no-length", "a.yaml", sf_field("{name: a, type: Text} #<"), "needs a length"),
    ("number-precision", "a.yaml", sf_field("{name: a, type: Number, length: 17, decimalPlaces: 2} #<"),
     "= 19 digits; Salesforce allows at most 18"),
    ("email-length", "a.yaml", sf_field("{name: a, type: Email, length: 80} #<"), "Email fields have no length"),
    ("lookup-missing-target", "a.yaml", sf_field("{name: a, type: Lookup, referenceTo: Widget} #<"),
     "Lookup target 'Widget' is not a standard object"),
    ("lookup-no-target", "a.yaml", sf_field("{name: a, type: Lookup} #<"), "needs referenceTo"),
    ("unique-checkbox", "a.yaml", sf_field("{name: a, type: Checkbox, unique: true} #<"), "unique is only possible"),
    ("custom-object-no-label", "a.yaml", SF + "  objects:\n    - name: Widget #<\n      fields: []\n",
     "custom object 'Widget' needs 'label'"),
    ("autonumber-format", "a.yaml", custom_object().replace("{label: Name, type: Text}",
     "{label: Name, type: AutoNumber, displayFormat: X} #<"), "displayFormat with {0...}"),
    ("duplicate-field", "a.yaml", custom_object(fields="        - {name: a, type: Text, length: 10}\n"
     "        - {name: A, type: Text, length: 10} #<"), "field 'A' is declared twice"),
    ("two-defaults", "a.yaml", statuses("{label: A, default: true, responded: true}", "{label: B, default: true} #<"),
     "more than one default status"),
    ("no-default", "a.yaml", statuses("{label: A, responded: true}").replace("statuses:\n", "statuses: #<\n", 1),
     "has no default status"),
    ("no-responded", "a.yaml", statuses("{label: A, default: true}").replace("statuses:\n", "statuses: #<\n", 1),
     "has no responded status"),
    ("duplicate-status", "a.yaml", statuses("{label: A, default: true, responded: true}", "{label: a} #<"),
     "status 'a' is listed twice"),
    ("endpoint-rest", "a.yaml", MK + "  endpoint: https://123-ABC-456.mktorest.com/rest #<\n",
     "ends in '/rest' (hint: use the domain only: 'https://123-ABC-456.mktorest.com' (Admin > Web Services"),
    ("endpoint-http", "a.yaml", MK + "  endpoint: http://123-ABC-456.mktorest.com/ #<\n",
     "the Marketo endpoint must start with https:// (hint: copy it from Admin > Web Services)"),
    ("endpoint-identity", "a.yaml", MK + "  endpoint: https://123-ABC-456.mktorest.com/identity/ #<\n",
     "ends in '/identity'"),
    ("channel-negative-step", "a.yaml", MK + "  channels:\n    - name: C\n      programType: event\n"
     "      statuses:\n        - {name: A, step: -10} #<\n", "less than the minimum of 0"),
    ("channel-fractional-step", "a.yaml", MK + "  channels:\n    - name: C\n      programType: event\n"
     "      statuses:\n        - {name: A, step: 1.5} #<\n", "must be an integer"),
    ("program-channel-undeclared", "a.yaml", program(program_channel="Nope"), "which no Marketo manifest declares"),
    ("program-channel-type", "a.yaml", program(channel_type="webinar"), "is for webinar programs"),
    ("custom-object-51-fields", "a.yaml", custom_objects(1, fields=51).replace("fields:\n", "fields: #<\n"),
     "has 51 fields; Marketo allows 50"),
    ("dedupe-none", "a.yaml", custom_objects(1, dedupe="[]").replace("dedupeFields", "dedupeFields #<".replace(" #<", ""))
     .replace("dedupeFields: []", "dedupeFields: [] #<"), "0 dedupe fields"),
    ("dedupe-four", "a.yaml", custom_objects(1, fields=4, dedupe="[f0, f1, f2, f3] #<"), "4 dedupe fields"),
    ("dedupe-unknown", "a.yaml", custom_objects(1, dedupe="[nope] #<"), "dedupe field 'nope' is not a field"),
    ("custom-object-types-11", "a.yaml", custom_objects(11), "11 custom object types declared"),
    ("activity-types-11", "a.yaml", activities(11), "11 custom activity types declared"),
    ("activity-21-attributes", "a.yaml", activities(1, attributes=21).replace("attributes:\n", "attributes: #<\n"),
     "21 secondary attributes; Marketo allows 20"),
    ("sync-sf-status", "a.yaml", SF_FOR_SYNC + MK_FOR_SYNC + SYNC + "    - {source: x, salesforce: Confirmed} #<\n",
     "salesforce status 'Confirmed' (for source status 'x') does not exist on the campaign"),
    ("sync-mk-status", "a.yaml", SF_FOR_SYNC + MK_FOR_SYNC + SYNC + "    - {source: x, marketo: Confirmed} #<\n",
     "marketo status 'Confirmed' (for source status 'x') does not exist on the channel"),
    ("sync-unknown-manifest", "a.yaml", SYNC.replace("manifest: sf", "manifest: nope") .replace(
        "  salesforce: {", "  salesforce: { #<\n    ".replace(" #<\n    ", "")).replace("{manifest: nope", "{manifest: nope")
     + "    - {source: x}\n", "no Salesforce manifest named 'nope'"),
    ("duplicate-manifest-name", "a.yaml", SF + "  objects: []\n---\n" + SF.replace("name: t", "name: t #<") + "  objects: []\n",
     "manifest name 't' is used twice"),
]


@pytest.mark.parametrize("case_id,filename,content,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_located(tmp_path: Path, case_id: str, filename: str, content: str, message: str) -> None:
    path = write(tmp_path, filename, content)
    code, output = run_validate(str(path))
    assert code == 1, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if message in line]
    assert lines, f"expected {message!r} in:\n{output}"
    if "#<" in content:
        expected = f"{path}:{marked_line(content)}:"
    else:
        expected = f"{path}:"
    assert lines[0].startswith(expected), f"expected location {expected} in {lines[0]!r}"


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_sync_unknown_manifest_points_at_reference(tmp_path: Path) -> None:
    text = SYNC.replace("manifest: sf", "manifest: nope") + "    - {source: x}\n"
    path = write(tmp_path, "s.yaml", text)
    code, output = run_validate(str(path))
    assert code == 1
    assert f"{path}:7:" in output and "no Salesforce manifest named 'nope'" in output


def test_fifty_megabyte_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    code, output = run_validate(str(path))
    assert code == 1
    assert f"{path}: file is 50.0 MB; manifests are limited to 5 MB" in output


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "# only a comment\n")
    code, output = run_validate(str(path))
    assert code == 1
    assert f"{path}:1:1: file is empty: it has no manifest documents" in output


def test_folder_without_manifests(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    code, output = run_validate(str(tmp_path))
    assert code == 1
    assert f"{tmp_path}: folder has no manifests" in output


def test_missing_path(tmp_path: Path) -> None:
    code, output = run_validate(str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "no such file or folder" in output


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SF.encode() + "  # caf\xe9\n".encode("latin-1"))
    code, output = run_validate(str(path))
    assert code == 1
    assert f"{path}:6:1: file is not UTF-8 text" in output


def test_every_finding_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = SF + """  objects:
    - name: CampaignMember
      fields:
        - {name: a__c, type: Text, length: 10}
        - {name: b, type: Text, length: 999}
        - {name: c, type: Email, length: 5}
"""
    path = write(tmp_path, "many.yaml", text)
    code, output = run_validate(str(path))
    assert code == 1
    assert [line.split(":")[1] for line in output.splitlines() if line.startswith(str(path))] == ["9", "10", "11"]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", sf_field("{name: a, type: Text, lenght: 10}"))
    _, output = run_validate(str(path))
    assert "did you mean 'length'?" in output
