"""What a plan lists as changed for one resource: each changed attribute once, with a readable path, its old
and new value and whether it is added, removed or updated, in the order the manifest lists the attributes.

Expected changes are written out from the two inputs by hand. The rules (provisioner/plan/diff.py's
docstring): lists of dicts named in ``list_keys`` are matched by their key field when every entry has a
distinct one; any other list is compared in order and reported whole; numbers compare by value.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.plan import keyed_diff


def changes(before: Any, after: Any, keys: dict[str, str] | None = None) -> list[tuple[str, str, Any, Any]]:
    return [(c.path, c.op, c.old, c.new) for c in keyed_diff(before, after, keys)]


def test_attributes_come_in_the_manifests_order_then_the_removed_ones_then_by_path() -> None:
    before = {"zeta": 1, "gone": True, "alpha": {"y": 1, "x": 1}, "also_gone": 0}
    after = {"beta": 2, "zeta": 2, "alpha": {"y": 2, "x": 2}}
    assert changes(before, after) == [("beta", "add", None, 2), ("zeta", "update", 1, 2),
                                      ("alpha.x", "update", 1, 2), ("alpha.y", "update", 1, 2),
                                      ("gone", "remove", True, None), ("also_gone", "remove", 0, None)]


def test_nothing_before_or_after_is_every_attribute_added_or_removed() -> None:
    assert changes(None, {"type": "Text", "length": 10}) == [("type", "add", None, "Text"),
                                                             ("length", "add", None, 10)]
    assert changes({"type": "Text"}, None) == [("type", "remove", "Text", None)]
    assert changes(None, None) == [] and changes({}, {}) == []


def test_numbers_compare_by_value_but_a_number_written_as_text_is_a_change() -> None:
    assert changes({"precision": 18, "scale": 2.0}, {"precision": 18.0, "scale": 2}) == []
    assert changes({"length": "18"}, {"length": 18}) == [("length", "update", "18", 18)]


def test_an_attribute_that_changes_shape_is_one_update_of_the_whole_value() -> None:
    assert changes({"relatedTo": {"object": "lead"}}, {"relatedTo": "lead"}) == [
        ("relatedTo", "update", {"object": "lead"}, "lead")]
    assert changes({"values": "a"}, {"values": ["a"]}) == [("values", "update", "a", ["a"])]


def test_a_plain_list_that_grows_or_shrinks_is_one_update_of_the_whole_list() -> None:
    assert changes({"dedupe": ["a"]}, {"dedupe": ["a", "b"]}) == [("dedupe", "update", ["a"], ["a", "b"])]
    assert changes({"dedupe": ["a", "b"]}, {"dedupe": ["b"]}) == [("dedupe", "update", ["a", "b"], ["b"])]


def test_inside_a_keyed_entry_keys_added_and_removed_keep_their_op() -> None:
    before = {"fields": [{"name": "score", "label": "Score", "values": ["a", "b"]}]}
    after = {"fields": [{"name": "score", "help": "0-100", "values": ["a", "c"]}]}
    assert changes(before, after, {"fields": "name"}) == [
        ("fields[score].help", "add", None, "0-100"), ("fields[score].label", "remove", "Score", None),
        ("fields[score].values", "update", ["a", "b"], ["a", "c"])]


def test_a_keyed_list_with_repeated_or_missing_keys_is_compared_as_a_plain_list() -> None:
    keys = {"fields": "name"}
    twice = [{"name": "a", "type": "Text"}, {"name": "a", "type": "Number"}]
    changed = [{"name": "a", "type": "Text"}, {"name": "a", "type": "Email"}]
    assert changes({"fields": twice}, {"fields": changed}, keys) == [("fields", "update", twice, changed)]
    unnamed = [{"type": "Text"}, {"name": "b", "type": "Text"}]
    renamed = [{"type": "Email"}, {"name": "b", "type": "Text"}]
    assert changes({"fields": unnamed}, {"fields": renamed}, keys) == [("fields", "update", unnamed, renamed)]
    mixed = ["a", {"name": "b"}]
    assert changes({"fields": mixed}, {"fields": ["a", {"name": "c"}]}, keys) == [
        ("fields", "update", mixed, ["a", {"name": "c"}])]


def test_keys_that_are_numbers_read_as_their_text() -> None:
    before = {"steps": [{"step": 10, "name": "Registered"}, {"step": 20, "name": "Attended"}]}
    after = {"steps": [{"step": 20, "name": "Came"}, {"step": 10, "name": "Registered"}]}
    assert changes(before, after, {"steps": "step"}) == [("steps[20].name", "update", "Attended", "Came")]


def test_an_entry_added_to_a_keyed_list_inside_another_reads_as_that_entry() -> None:
    before = {"objects": [{"name": "Poll", "fields": [{"name": "q", "length": 3}]}]}
    after = {"objects": [{"name": "Poll", "fields": [{"name": "q", "length": 3}, {"name": "a", "length": 9}]}]}
    keys = {"objects": "name", "fields": "name"}
    assert changes(before, after, keys) == [("objects[Poll].fields[a]", "add", None, {"name": "a", "length": 9})]
    assert changes(after, before, keys) == [("objects[Poll].fields[a]", "remove", {"name": "a", "length": 9}, None)]


def test_an_attribute_whose_keys_all_change_is_still_listed_key_by_key() -> None:
    """deepdiff would call such a dict one change of the whole (and ``{}`` before two keys a change of ``""``)."""
    assert changes({"relatedTo": {"object": "lead", "field": "email"}},
                   {"relatedTo": {"obj": "lead", "attr": "email"}}) == [
        ("relatedTo.attr", "add", None, "email"), ("relatedTo.field", "remove", "email", None),
        ("relatedTo.obj", "add", None, "lead"), ("relatedTo.object", "remove", "lead", None)]
    assert changes({"statuses": [{"label": "Sent"}, {"label": "Opened"}]},
                   {"statuses": [{"label": "Registered"}, {"label": "Attended"}]}, {"statuses": "label"}) == [
        ("statuses[Attended]", "add", None, {"label": "Attended"}),
        ("statuses[Opened]", "remove", {"label": "Opened"}, None),
        ("statuses[Registered]", "add", None, {"label": "Registered"}),
        ("statuses[Sent]", "remove", {"label": "Sent"}, None)]


# Values as manifests and orgs give them: nested dicts and lists of text, numbers (18 and 18.0), bools, None.
_leaf = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([1.0, 2.5, 18.0]) | st.sampled_from("ab")
_value = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from("xyz"), inner, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "length", "fields"]), _value, max_size=3),
       st.dictionaries(st.sampled_from(["type", "length", "fields"]), _value, max_size=3))
def test_no_change_is_listed_exactly_when_deepdiff_finds_no_difference(before: dict[str, Any],
                                                                       after: dict[str, Any]) -> None:
    # A converged plan skips deepdiff for resources that are plainly equal: that shortcut must never hide a
    # difference deepdiff reports, nor invent one (deepdiff itself, with the plan's numeric rule, is the judge).
    found = DeepDiff(before, after, ignore_numeric_type_changes=True, threshold_to_diff_deeper=0)
    assert (keyed_diff(before, after) == []) == (not found), found
    assert keyed_diff(before, before) == []
