"""Classification of every action, and keyed diffs whose paths a person can read."""

from __future__ import annotations

from plan_memstore import MemKind, PlainKind, Store, want

from provisioner.plan import keyed_diff, make_plan

FIELD = "mem.field"


def plan_one(kind, desired, store):
    """Plan a single desired resource against ``store``; return its change."""
    plan = make_plan([kind], [desired], {"mem": store})
    (change,) = plan.changes
    return change


def test_missing_resource_is_created_with_all_its_attributes():
    change = plan_one(PlainKind(FIELD), want("mem.field.a", FIELD, type="Text", length=11), Store())
    assert change.actions == ["create"]
    assert change.before is None and change.after == {"type": "Text", "length": 11}
    assert not change.requires_destroy


def test_changed_attribute_is_an_update_listing_only_what_changed():
    store = Store({"mem.field.a": {"type": "Text", "length": 100, "label": "A"}})
    change = plan_one(PlainKind(FIELD), want("mem.field.a", FIELD, type="Text", length=200, label="A"), store)
    assert change.actions == ["update"]
    assert [(d.path, d.old, d.new) for d in change.diff] == [("length", 100, 200)]
    assert change.after == {"type": "Text", "length": 200, "label": "A"}


def test_live_attribute_the_manifest_does_not_name_is_left_alone():
    store = Store({"mem.field.a": {"type": "Text", "description": "set by hand"}})
    change = plan_one(PlainKind(FIELD), want("mem.field.a", FIELD, type="Text"), store)
    assert change.actions == ["no-op"]
    assert change.after["description"] == "set by hand"


def test_equal_numbers_of_different_types_are_no_change():
    store = Store({"mem.field.a": {"precision": 18.0, "scale": 2}})
    change = plan_one(PlainKind(FIELD), want("mem.field.a", FIELD, precision=18, scale=2), store)
    assert change.actions == ["no-op"] and change.diff == []


def test_absent_and_existing_is_a_delete_with_record_count():
    store = Store({"mem.field.a": {"type": "Text"}})
    store.info["mem.field.a"] = {"records": 1234}
    change = plan_one(PlainKind(FIELD), want("mem.field.a", FIELD, ensure="absent"), store)
    assert change.actions == ["delete"] and change.requires_destroy
    assert change.before == {"type": "Text"} and change.after is None
    assert change.info == {"records": 1234}


def test_absent_and_missing_is_no_op():
    change = plan_one(PlainKind(FIELD), want("mem.field.a", FIELD, ensure="absent"), Store())
    assert change.actions == ["no-op"]


def test_kind_rule_turns_a_fixed_attribute_change_into_a_replace():
    store = Store({"mem.field.a": {"type": "Text"}})
    change = plan_one(MemKind(FIELD, fixed={"type"}), want("mem.field.a", FIELD, type="Number"), store)
    assert change.actions == ["delete", "create"] and change.requires_destroy
    assert change.reason == "type is fixed at creation"


def test_kind_rule_turns_a_read_only_change_into_manual_steps():
    store = Store({"mem.channel.c": {"statuses": [{"label": "Attended", "step": 3}]}})
    kind = MemKind("mem.channel", list_keys={"statuses": "label"}, read_only={"statuses"})
    change = plan_one(kind, want("mem.channel.c", "mem.channel", statuses=[{"label": "Attended", "step": 4}]), store)
    assert change.actions == ["manual"] and not change.requires_destroy
    assert change.instructions == ["Open Admin > Tags", "Edit the channel"]
    assert [d.path for d in change.diff] == ["statuses[Attended].step"]


def test_keyed_list_entries_are_matched_by_name_with_readable_paths():
    before = {"fields": [{"name": "entry_id", "type": "string"}, {"name": "old", "type": "integer"}]}
    after = {"fields": [{"name": "added", "type": "link"}, {"name": "entry_id", "type": "integer"}]}
    diff = keyed_diff(before, after, list_keys={"fields": "name"})
    assert [(d.path, d.op, d.old, d.new) for d in diff] == [
        ("fields[added]", "add", None, {"name": "added", "type": "link"}),
        ("fields[entry_id].type", "update", "string", "integer"),
        ("fields[old]", "remove", {"name": "old", "type": "integer"}, None),
    ]


def test_reordering_a_keyed_list_is_not_a_change():
    before = {"statuses": [{"label": "Sent"}, {"label": "Attended"}]}
    after = {"statuses": [{"label": "Attended"}, {"label": "Sent"}]}
    assert keyed_diff(before, after, list_keys={"statuses": "label"}) == []


def test_plain_lists_compare_in_order_and_are_reported_whole():
    diff = keyed_diff({"dedupe": ["a", "b"], "n": {"x": 1}}, {"dedupe": ["b", "a", "c"], "n": {"x": 2}})
    assert [(d.path, d.old, d.new) for d in diff] == [("dedupe", ["a", "b"], ["b", "a", "c"]), ("n.x", 1, 2)]


def test_nested_keyed_lists_give_nested_paths():
    before = {"objects": [{"name": "Event", "fields": [{"name": "score", "length": 3}]}]}
    after = {"objects": [{"name": "Event", "fields": [{"name": "score", "length": 5}]}]}
    diff = keyed_diff(before, after, list_keys={"objects": "name", "fields": "name"})
    assert [d.path for d in diff] == ["objects[Event].fields[score].length"]


def test_a_keyed_list_added_or_removed_whole_shows_as_the_list_in_its_order():
    # the plan prints the old and new values: a keyed list must read as the manifest's list, not a dict by key
    statuses = [{"label": "Sent", "fields": [{"name": "b"}, {"name": "a"}]}, {"label": "Attended", "fields": []}]
    keys = {"statuses": "label", "fields": "name"}
    [added] = keyed_diff({}, {"statuses": statuses}, list_keys=keys)
    assert (added.path, added.op, added.old, added.new) == ("statuses", "add", None, statuses)
    [removed] = keyed_diff({"statuses": statuses, "n": 1}, {"n": 1}, list_keys=keys)
    assert (removed.path, removed.op, removed.old, removed.new) == ("statuses", "remove", statuses, None)
