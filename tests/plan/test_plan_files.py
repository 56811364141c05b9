"""Plan files and JSON: round trip, corrupt and foreign files, sensitive values, fingerprints."""

from __future__ import annotations

import json
import os

import pytest
from plan_memstore import MemKind, Store, want

from provisioner.plan import (
    Live,
    PlanError,
    PlanFileError,
    StalePlanError,
    apply_plan,
    apply_saved_plan,
    fingerprint_of,
    make_plan,
    plan_to_json,
    read_plan,
    render_plan,
    write_plan,
)

SECRET = "s3cr3t-Token-value"


def kinds():
    return [MemKind("mem.object"), MemKind("mem.field", depends_on=("mem.object",), fixed={"type"})]


def desired():
    return [
        want("mem.object.Ev", "mem.object", label="Event"),
        want("mem.field.Ev.score", "mem.field", depends_on=("mem.object.Ev",), type="Number", length=3),
        want("mem.field.Ev.old", "mem.field", ensure="absent"),
    ]


def with_secret(value=SECRET, label="Hook"):
    return [want("mem.object.hook", "mem.object", sensitive={"token"}, label=label, token=value)]


def test_round_trip_keeps_every_change(tmp_path):
    store = Store({"mem.field.Ev.old": {"type": "Text"}, "mem.field.Ev.score": {"type": "Number", "length": 2}})
    store.info["mem.field.Ev.old"] = {"records": 7}
    plan = make_plan(kinds(), desired(), {"mem": store}, manifests=["manifests/kaltura.yaml"])
    path = tmp_path / "out.plan.json"
    write_plan(plan, path)
    loaded = read_plan(path)
    assert [(c.address, c.actions, c.before, c.after, c.diff, c.info, c.depends_on) for c in loaded.changes] == [
        (c.address, c.actions, c.before, c.after, c.diff, c.info, c.depends_on) for c in plan.changes
    ]
    assert loaded.fingerprint == plan.fingerprint and loaded.manifests == ["manifests/kaltura.yaml"]
    assert render_plan(loaded) == render_plan(plan)
    assert not loaded.redacted
    report = apply_plan(loaded, kinds(), {"mem": store}, allow_destroy=True)
    assert report.ok and store.objects["mem.field.Ev.score"]["length"] == 3 and "mem.field.Ev.old" not in store.objects


def test_write_is_atomic_and_replaces_an_old_file(tmp_path):
    path = tmp_path / "out.plan.json"
    path.write_text("old")
    write_plan(make_plan(kinds(), desired(), {"mem": Store()}), path)
    assert os.listdir(tmp_path) == ["out.plan.json"]
    assert json.loads(path.read_text())["format_version"] == "1.0"


def test_json_has_terraform_resource_changes_shape():
    store = Store({"mem.field.Ev.old": {"type": "Text"}})
    data = plan_to_json(make_plan(kinds(), desired(), {"mem": store}, manifests=["a.yaml"]))
    assert {"format_version", "tool", "created_at", "manifests", "fingerprint", "resource_changes", "summary"} <= set(data)
    assert data["tool"].startswith("provisioner ")
    assert data["summary"] == {"add": 2, "change": 0, "destroy": 1, "manual": 0}
    first = data["resource_changes"][0]
    assert first["address"] == "mem.object.Ev" and first["type"] == "mem.object" and first["name"] == "Ev"
    assert first["change"] == {"actions": ["create"], "before": None, "after": {"label": "Event"}}
    assert data["resource_changes"][2]["change"]["actions"] == ["delete"]
    json.dumps(data)  # serialisable as it is


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ("", "not valid JSON"),
        ('{"format_version": "1.2", "terraform_version": "1.6.0", "resource_changes": []}', "not a provisioner plan"),
        ('["a list"]', "not a provisioner plan"),
        ('{"format_version": "2.0", "tool": "provisioner 9", "resource_changes": []}', "plan format 2.0 is not supported"),
        ('{"format_version": "1.0", "tool": "provisioner 0.1.0", "resource_changes": []}', "no live-state fingerprint"),
        ('{"format_version": "1.0", "tool": "provisioner 0.1.0", "fingerprint": "x", "address_digests": {},'
         ' "resource_changes": [{"address": "a", "type": "k", "change": {"actions": ["explode"]}}]}',
         "resource_changes[0] (a) has unknown actions"),
        ('{"format_version": "1.0", "tool": "provisioner 0.1.0", "fingerprint": "x", "address_digests": {},'
         ' "resource_changes": [{"address": "a", "type": "k", "change": {"actions": ["update"]},'
         ' "diff": [{"path": null}]}]}',
         "resource_changes[0] (a) diff[0] needs a path"),
    ],
)
def test_corrupt_or_foreign_file_says_what_is_wrong(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PlanFileError) as caught:
        read_plan(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_missing_and_binary_files_say_what_is_wrong(tmp_path):
    with pytest.raises(PlanFileError, match="no such file"):
        read_plan(tmp_path / "nope.json")
    binary = tmp_path / "plan.bin"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(PlanFileError, match="not UTF-8"):
        read_plan(binary)


def test_sensitive_values_never_appear_in_text_json_or_file(tmp_path):
    store = Store({"mem.object.hook": {"label": "Hook", "token": "old-" + SECRET}})
    plan = make_plan(kinds(), with_secret(), {"mem": store})
    assert [d.path for d in plan.changes[0].diff] == ["token"]
    create = make_plan(kinds(), with_secret(), {"mem": Store()})
    path = tmp_path / "p.json"
    for p in (plan, create):
        write_plan(p, path)
        for text in (render_plan(p), json.dumps(plan_to_json(p)), path.read_text(), render_plan(read_plan(path))):
            assert SECRET not in text
            assert "(sensitive)" in text
    assert "      ~ token: (sensitive) → (sensitive)" in render_plan(plan)


def test_a_redacted_plan_file_is_applied_only_with_a_fresh_plan(tmp_path):
    store = Store()
    path = tmp_path / "p.json"
    write_plan(make_plan(kinds(), with_secret(), {"mem": store}), path)
    saved = read_plan(path)
    assert saved.redacted
    with pytest.raises(PlanError, match="sensitive values are masked"):
        apply_plan(saved, kinds(), {"mem": store}, allow_destroy=False)
    fresh = make_plan(kinds(), with_secret(), {"mem": store})
    report = apply_saved_plan(saved, fresh, kinds(), {"mem": store}, allow_destroy=False)
    assert report.ok and store.objects["mem.object.hook"]["token"] == SECRET


def test_a_saved_plan_is_refused_when_the_org_or_the_manifests_changed(tmp_path):
    store = Store({"mem.object.hook": {"label": "Hook", "token": "x"}})
    path = tmp_path / "p.json"
    write_plan(make_plan(kinds(), with_secret(label="New"), {"mem": store}), path)
    saved = read_plan(path)
    edited = make_plan(kinds(), with_secret(label="Edited since"), {"mem": store})
    with pytest.raises(StalePlanError, match="the manifests changed") as caught:
        apply_saved_plan(saved, edited, kinds(), {"mem": store}, allow_destroy=False)
    assert caught.value.addresses == ["mem.object.hook"]
    store.objects["mem.object.hook"]["label"] = "Changed in Setup"
    fresh = make_plan(kinds(), with_secret(label="New"), {"mem": store})
    with pytest.raises(StalePlanError, match="the live state changed"):
        apply_saved_plan(saved, fresh, kinds(), {"mem": store}, allow_destroy=False)
    assert store.applied() == []


def test_fingerprint_is_stable_and_ignores_key_order_and_secrets():
    one = {"a": Live("a", {"x": 1, "y": [1, 2]}, {"records": 3}), "b": Live("b", None)}
    two = {"b": Live("b", None), "a": Live("a", {"y": [1, 2], "x": 1}, {"records": 3})}
    assert fingerprint_of(one) == fingerprint_of(two)
    # A fixed value: the same state gives the same fingerprint on every run and machine.
    assert fingerprint_of(one) == "sha256:" + GOLDEN_FINGERPRINT
    assert fingerprint_of({"a": Live("a", {"x": 2, "y": [1, 2]}, {"records": 3}), "b": Live("b", None)}) != fingerprint_of(one)
    assert fingerprint_of({**one, "a": Live("a", {"x": 1, "y": [1, 2]}, {"records": 4})}) != fingerprint_of(one)
    secret_a = {"s": Live("s", {"token": "one", "v": 1})}
    secret_b = {"s": Live("s", {"token": "two", "v": 1})}
    assert fingerprint_of(secret_a, {"s": frozenset({"token"})}) == fingerprint_of(secret_b, {"s": frozenset({"token"})})


GOLDEN_FINGERPRINT = "95133d8e8ff7323cae9905a671de75ad1d254e6a186d30b36632416db41f7cf8"


def test_moving_a_resource_inside_its_manifest_does_not_make_a_saved_plan_stale(tmp_path):
    from dataclasses import replace

    from provisioner.plan import Location

    store = Store()
    at = Location("kaltura.yaml", 3, 5)
    path = tmp_path / "p.json"
    write_plan(make_plan(kinds(), [replace(d, location=at) for d in with_secret()], {"mem": store}), path)
    moved = [replace(d, location=Location("kaltura.yaml", 9, 5)) for d in with_secret()]
    fresh = make_plan(kinds(), moved, {"mem": store})
    assert apply_saved_plan(read_plan(path), fresh, kinds(), {"mem": store}, allow_destroy=False).ok


def test_a_plan_with_a_kind_nobody_registered_is_refused(tmp_path):
    path = tmp_path / "p.json"
    write_plan(make_plan(kinds(), desired(), {"mem": Store()}), path)
    store = Store()
    with pytest.raises(PlanError, match="unknown resource kind\\(s\\): mem.field"):
        apply_plan(read_plan(path), [MemKind("mem.object")], {"mem": store}, allow_destroy=False)
    assert store.applied() == []
