"""Text rendering: exact lines for a small plan, no colour unless asked, apply report lines."""

from __future__ import annotations

from plan_memstore import MemKind, Store, want

from provisioner.plan import Result, make_plan, render_plan, render_result
from provisioner.plan.report import ApplyReport
from provisioner.plan.render_text import render_apply_report

GOLDEN = """\
Plan: 2 to add, 1 to change, 2 to destroy, 1 manual.

By resource kind:
  mem.object   1 to delete
  mem.field    1 to create, 1 to update, 1 to replace
  mem.channel  1 manual

Resource actions are indicated with the following symbols:
    + create
    ~ update in place
  -/+ delete, then create
    - delete
    ! manual step

Provisioner will perform the following actions:

  - mem.object.Old (object holds 1,234 records)

  + mem.field.CampaignMember.external_id
      + type: "Text"
      + length: 11

  ~ mem.field.Lead.score
      ~ length: 100 → 200
      + label: "Score"

-/+ mem.field.Lead.kind
      reason: type is fixed at creation
      ~ type: "Text" → "Number"

  ! mem.channel.Webinar
      reason: statuses are read-only in the API
      ~ statuses[Attended].step: 3 → 4
      to do by hand:
        1. Open Admin > Tags
        2. Edit the channel

Plan: 2 to add, 1 to change, 2 to destroy, 1 manual.
"""


def small_plan():
    store = Store({
        "mem.field.Lead.score": {"type": "Text", "length": 100},
        "mem.field.Lead.kind": {"type": "Text"},
        "mem.field.Lead.same": {"type": "Text"},
        "mem.object.Old": {"label": "Old"},
        "mem.channel.Webinar": {"statuses": [{"label": "Attended", "step": 3}, {"label": "Sent", "step": 1}]},
    })
    store.info["mem.object.Old"] = {"records": 1234}
    kinds = [
        MemKind("mem.object"),
        MemKind("mem.field", depends_on=("mem.object",), fixed={"type"}),
        MemKind("mem.channel", list_keys={"statuses": "label"}, read_only={"statuses"}),
    ]
    desired = [
        want("mem.field.CampaignMember.external_id", "mem.field", type="Text", length=11),
        want("mem.field.Lead.score", "mem.field", type="Text", length=200, label="Score"),
        want("mem.field.Lead.kind", "mem.field", type="Number"),
        want("mem.field.Lead.same", "mem.field", type="Text"),
        want("mem.object.Old", "mem.object", ensure="absent"),
        want("mem.channel.Webinar", "mem.channel",
             statuses=[{"label": "Sent", "step": 1}, {"label": "Attended", "step": 4}]),
    ]
    return make_plan(kinds, desired, {"mem": store})


def test_small_plan_renders_exactly():
    assert render_plan(small_plan()) == GOLDEN


def test_summary_has_no_manual_part_when_there_is_none():
    plan = make_plan([MemKind("mem.field")], [want("mem.field.a", "mem.field", v=1)], {"mem": Store()})
    assert "Plan: 1 to add, 0 to change, 0 to destroy.\n" in render_plan(plan)


def test_no_changes_message():
    store = Store({"mem.field.a": {"v": 1}})
    plan = make_plan([MemKind("mem.field")], [want("mem.field.a", "mem.field", v=1)], {"mem": store})
    assert render_plan(plan) == "No changes. Your org matches the manifests.\n"


def test_colour_only_when_asked():
    plan = small_plan()
    assert "\x1b[" not in render_plan(plan)
    coloured = render_plan(plan, color=True)
    assert "\x1b[32m+\x1b[0m mem.field.CampaignMember.external_id" in coloured
    assert "\x1b[" not in render_apply_report(ApplyReport([Result("a", True, "create")]))


def test_list_of_objects_is_shown_one_entry_per_line_on_create():
    plan = make_plan([MemKind("mem.object")],
                     [want("mem.object.E", "mem.object", fields=[{"name": "a"}, {"name": "b"}])], {"mem": Store()})
    assert '      + fields:\n          - {"name": "a"}\n          - {"name": "b"}\n' in render_plan(plan)


def test_result_lines():
    assert render_result(Result("mem.field.a", True, "create")) == "✓ mem.field.a created"
    assert render_result(Result("mem.field.a", True, "replace")) == "✓ mem.field.a replaced"
    assert render_result(Result("mem.field.a", False, "update", "INVALID_FIELD")) == "✗ mem.field.a: INVALID_FIELD"


def _replace_plan():
    store = Store({"mem.field.Lead.kind": {"type": "Text", "label": "Kind", "length": 20}})
    kinds = [MemKind("mem.field", fixed={"type"})]
    desired = [want("mem.field.Lead.kind", "mem.field", type="Number", label="Kind", length=20),
               want("mem.field.Lead.new", "mem.field", type="Text", label="New", length=5)]
    return make_plan(kinds, desired, {"mem": store})


def test_a_replace_shows_what_is_recreated_as_it_is_unless_compact():
    full = render_plan(_replace_plan())
    assert '-/+ mem.field.Lead.kind\n      reason: type is fixed at creation\n      ~ type: "Text" → "Number"\n' \
           '        label: "Kind"\n        length: 20\n' in full
    compact = render_plan(_replace_plan(), compact=True)
    assert '      ~ type: "Text" → "Number"\n' in compact and 'label: "Kind"' not in compact


def test_compact_puts_a_create_on_one_line_with_its_attribute_count():
    compact = render_plan(_replace_plan(), compact=True)
    assert "  + mem.field.Lead.new (3 attributes)\n" in compact and 'label: "New"' not in compact
    assert compact.startswith("Plan: 2 to add, 0 to change, 1 to destroy.\n\nBy resource kind:\n"
                              "  mem.field  1 to create, 1 to replace\n")
