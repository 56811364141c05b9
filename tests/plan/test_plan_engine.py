"""make_plan and apply_plan: one read per kind, ordering, stale and destroy refusals, failures."""

from __future__ import annotations

import pytest
from plan_memstore import MemKind, PlainKind, Store, want

from provisioner.plan import (
    DestroyNotAllowedError,
    PlanError,
    StalePlanError,
    apply_plan,
    exit_code_for_plan,
    make_plan,
    render_apply_report,
    render_plan,
)

OBJECT, FIELD, PERMS = "mem.object", "mem.field", "mem.permset"


def kinds():
    """Given deliberately in reverse order: the engine must order them by depends_on."""
    return [MemKind(PERMS, depends_on=(FIELD,)), MemKind(FIELD, depends_on=(OBJECT,)), MemKind(OBJECT)]


def setup_desired():
    return [
        want("mem.permset.p", PERMS, depends_on=("mem.field.Ev.score",), fields=["score"]),
        want("mem.field.Ev.score", FIELD, depends_on=("mem.object.Ev",), type="Number"),
        want("mem.field.Ev.name", FIELD, depends_on=("mem.object.Ev",), type="Text"),
        want("mem.object.Ev", OBJECT, label="Event"),
    ]


def test_each_kind_is_read_once_with_all_its_addresses():
    store = Store()
    make_plan(kinds(), setup_desired(), {"mem": store})
    reads = [(k, addrs) for k, op, addrs in store.calls if op == "read"]
    assert reads == [
        (OBJECT, ["mem.object.Ev"]),
        (FIELD, ["mem.field.Ev.score", "mem.field.Ev.name"]),
        (PERMS, ["mem.permset.p"]),
    ]


def test_apply_orders_kinds_by_dependency_and_batches_per_kind():
    store = Store()
    plan = make_plan(kinds(), setup_desired(), {"mem": store})
    assert [c.address for c in plan.changes] == [
        "mem.object.Ev", "mem.field.Ev.score", "mem.field.Ev.name", "mem.permset.p",
    ]
    report = apply_plan(plan, kinds(), {"mem": store}, allow_destroy=False)
    applies = [(k, addrs) for k, op, addrs in store.calls if op == "apply"]
    assert applies == [
        (OBJECT, ["mem.object.Ev"]),
        (FIELD, ["mem.field.Ev.score", "mem.field.Ev.name"]),
        (PERMS, ["mem.permset.p"]),
    ]
    assert report.ok and report.added == 4
    assert render_apply_report(report).splitlines()[-1] == "Apply complete! Resources: 4 added, 0 changed, 0 destroyed."


def test_addresses_inside_a_kind_follow_their_depends_on():
    desired = [
        want("mem.field.child", FIELD, depends_on=("mem.field.parent",), v=1),
        want("mem.field.parent", FIELD, v=1),
    ]
    store = Store()
    plan = make_plan([PlainKind(FIELD)], desired, {"mem": store})
    apply_plan(plan, [PlainKind(FIELD)], {"mem": store}, allow_destroy=False)
    assert store.applied() == ["mem.field.parent", "mem.field.child"]


def test_after_apply_the_plan_shows_no_changes():
    store = Store()
    plan = make_plan(kinds(), setup_desired(), {"mem": store})
    assert exit_code_for_plan(plan, detailed=True) == 2
    apply_plan(plan, kinds(), {"mem": store}, allow_destroy=False)
    again = make_plan(kinds(), setup_desired(), {"mem": store})
    assert render_plan(again).startswith("No changes.")
    assert exit_code_for_plan(again, detailed=True) == 0
    assert exit_code_for_plan(plan, detailed=False) == 0


def test_stale_plan_is_refused_naming_what_changed_and_nothing_is_applied():
    store = Store({"mem.object.Ev": {"label": "Old"}})
    plan = make_plan(kinds(), setup_desired(), {"mem": store})
    store.objects["mem.object.Ev"]["label"] = "Changed by an admin meanwhile"
    with pytest.raises(StalePlanError) as caught:
        apply_plan(plan, kinds(), {"mem": store}, allow_destroy=False)
    message = str(caught.value)
    assert "mem.object.Ev" in message and "Run plan again" in message
    assert "mem.field.Ev.score" not in message
    assert store.applied() == []


def test_a_resource_created_meanwhile_makes_the_plan_stale():
    store = Store()
    plan = make_plan(kinds(), setup_desired(), {"mem": store})
    store.objects["mem.field.Ev.name"] = {"type": "Text"}
    with pytest.raises(StalePlanError) as caught:
        apply_plan(plan, kinds(), {"mem": store}, allow_destroy=False)
    assert caught.value.addresses == ["mem.field.Ev.name"]


def test_destroy_is_refused_without_allow_destroy_listing_every_address():
    store = Store({"mem.object.Ev": {"label": "Event"}, "mem.field.Ev.score": {"type": "Text"}, "mem.field.x": {"v": 1}})
    desired = [
        want("mem.object.Ev", OBJECT, ensure="absent"),
        want("mem.field.Ev.score", FIELD, depends_on=("mem.object.Ev",), ensure="absent"),
        want("mem.field.x", FIELD, v=2),
    ]
    plan = make_plan(kinds(), desired, {"mem": store})
    with pytest.raises(DestroyNotAllowedError) as caught:
        apply_plan(plan, kinds(), {"mem": store}, allow_destroy=False)
    message = str(caught.value)
    assert "mem.object.Ev" in message and "mem.field.Ev.score" in message and "--allow-destroy" in message
    assert store.applied() == []  # not even the independent update ran


def test_deletes_run_dependents_first_when_allowed():
    store = Store({"mem.object.Ev": {"label": "Event"}, "mem.field.Ev.score": {"type": "Text"}})
    desired = [
        want("mem.object.Ev", OBJECT, ensure="absent"),
        want("mem.field.Ev.score", FIELD, depends_on=("mem.object.Ev",), ensure="absent"),
    ]
    plan = make_plan(kinds(), desired, {"mem": store})
    report = apply_plan(plan, kinds(), {"mem": store}, allow_destroy=True)
    assert store.applied() == ["mem.field.Ev.score", "mem.object.Ev"]
    assert store.objects == {} and report.destroyed == 2


def test_failed_delete_keeps_what_it_depends_on():
    store = Store({"mem.object.Ev": {"label": "Event"}, "mem.field.Ev.score": {"type": "Text"}})
    store.fail["mem.field.Ev.score"] = "field is referenced by a flow"
    desired = [
        want("mem.object.Ev", OBJECT, ensure="absent"),
        want("mem.field.Ev.score", FIELD, depends_on=("mem.object.Ev",), ensure="absent"),
    ]
    plan = make_plan(kinds(), desired, {"mem": store})
    report = apply_plan(plan, kinds(), {"mem": store}, allow_destroy=True)
    assert "mem.object.Ev" in store.objects
    messages = {r.address: r.message for r in report.results}
    assert messages["mem.object.Ev"] == "skipped: mem.field.Ev.score depends on it and could not be deleted"


def test_independent_failures_continue_and_dependents_are_skipped():
    store = Store()
    store.fail["mem.object.Ev"] = "DUPLICATE_DEVELOPER_NAME"
    desired = setup_desired() + [want("mem.field.Other.x", FIELD, type="Text")]
    plan = make_plan(kinds(), desired, {"mem": store})
    seen = []
    report = apply_plan(plan, kinds(), {"mem": store}, allow_destroy=False, on_result=seen.append)
    assert seen == report.results
    by_address = {r.address: r for r in report.results}
    assert by_address["mem.field.Other.x"].ok and "mem.field.Other.x" in store.objects
    assert by_address["mem.field.Ev.score"].message == "skipped: depends on mem.object.Ev which failed"
    assert by_address["mem.permset.p"].message == "skipped: depends on mem.field.Ev.score which failed"
    assert not report.ok
    text = render_apply_report(report)
    assert "✗ mem.object.Ev: DUPLICATE_DEVELOPER_NAME" in text
    assert "✓ mem.field.Other.x created" in text
    assert text.splitlines()[-1] == (
        "Apply finished with errors: 1 failed, 3 skipped. Resources: 1 added, 0 changed, 0 destroyed."
    )


def test_an_exception_in_one_kind_fails_its_addresses_and_others_still_apply():
    store = Store()
    exploding = MemKind(OBJECT, explode=True)
    kinds_ = [exploding, MemKind("mem.status")]
    desired = [want("mem.object.Ev", OBJECT, label="E"), want("mem.status.s", "mem.status", label="S")]
    plan = make_plan(kinds_, desired, {"mem": store})
    report = apply_plan(plan, kinds_, {"mem": store}, allow_destroy=False)
    by_address = {r.address: r for r in report.results}
    assert by_address["mem.object.Ev"].message == "mem.object apply failed: connection reset by peer"
    assert by_address["mem.status.s"].ok


def test_manual_changes_are_reported_and_never_applied():
    store = Store({"mem.channel.c": {"statuses": [{"label": "Attended", "step": 3}]}})
    kind = MemKind("mem.channel", list_keys={"statuses": "label"}, read_only={"statuses"})
    desired = [want("mem.channel.c", "mem.channel", statuses=[{"label": "Attended", "step": 4}])]
    plan = make_plan([kind], desired, {"mem": store})
    assert exit_code_for_plan(plan, detailed=True) == 2
    report = apply_plan(plan, [kind], {"mem": store}, allow_destroy=False)
    assert store.applied() == [] and report.ok and report.has_manual
    text = render_apply_report(report)
    assert "! mem.channel.c: needs a manual step: statuses are read-only in the API" in text
    assert "    1. Open Admin > Tags" in text
    assert text.splitlines()[-1] == (
        "Apply complete! Resources: 0 added, 0 changed, 0 destroyed. 1 manual step left to do."
    )


def test_plan_errors_name_the_problem():
    store = Store()
    with pytest.raises(PlanError, match="unknown resource kind mem.nope"):
        make_plan(kinds(), [want("mem.nope.x", "mem.nope")], {"mem": store})
    with pytest.raises(PlanError, match="declared twice"):
        make_plan(kinds(), [want("mem.object.a", OBJECT), want("mem.object.a", OBJECT)], {"mem": store})
    with pytest.raises(PlanError, match="no connection for provider 'mem'"):
        make_plan(kinds(), [want("mem.object.a", OBJECT)], {})
    with pytest.raises(PlanError, match="dependency cycle among resource kinds"):
        make_plan([MemKind("mem.a", depends_on=("mem.b",)), MemKind("mem.b", depends_on=("mem.a",))], [], {})
    with pytest.raises(PlanError, match="kind mem.permset is applied after mem.object"):
        make_plan(kinds(), [want("mem.object.a", OBJECT, depends_on=("mem.permset.p",)),
                            want("mem.permset.p", PERMS)], {"mem": store})


class Guarded(MemKind):
    """A kind that checks something (e.g. an API permission) before the run's first write."""

    def __init__(self, name: str, refuse: str = "", calls: int | None = None) -> None:
        super().__init__(name)
        self.refuse = refuse
        if calls is not None:
            self.calls_for = lambda changes: calls * len(changes)

    def prepare(self, conn: Store, changes: list) -> None:
        conn.calls.append((self.name, "prepare", [c.address for c in changes]))
        if self.refuse:
            raise PermissionError(self.refuse)


def test_every_kind_prepares_before_the_first_write_and_a_refusal_stops_the_apply_before_any_write():
    store = Store()
    kinds_ = [Guarded(OBJECT), Guarded("mem.status", refuse="missing Read-Write Person")]
    desired = [want("mem.object.Ev", OBJECT, label="E"), want("mem.status.s", "mem.status", label="S")]
    plan = make_plan(kinds_, desired, {"mem": store})
    with pytest.raises(PermissionError, match="missing Read-Write Person"):
        apply_plan(plan, kinds_, {"mem": store}, allow_destroy=False)
    ops = [(kind, op) for kind, op, _ in store.calls if op != "read"]
    assert ops == [(OBJECT, "prepare"), ("mem.status", "prepare")]  # no kind applied: nothing half-done
    assert "mem.object.Ev" not in store.objects and "mem.status.s" not in store.objects


def test_apply_calls_count_each_kind_its_own_way_or_one_call_per_change():
    from provisioner.plan import apply_calls

    store = Store({"mem.object.Same": {"label": "S"}})
    kinds_ = [Guarded(OBJECT, calls=3), MemKind("mem.status")]
    desired = [want("mem.object.Ev", OBJECT, label="E"), want("mem.object.Same", OBJECT, label="S"),
               want("mem.status.a", "mem.status", label="A"), want("mem.status.b", "mem.status", label="B")]
    plan = make_plan(kinds_, desired, {"mem": store})
    assert apply_calls(plan, kinds_) == {"mem": 3 * 1 + 2}  # the no-op costs nothing
