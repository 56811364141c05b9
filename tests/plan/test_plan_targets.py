"""--target: only the matching addresses and, as in Terraform, everything they depend on."""

from __future__ import annotations

import pytest
from plan_memstore import MemKind, Store, want

from provisioner.plan import TargetError, make_plan, select_targets

DESIRED = [
    want("mem.object.Poll", "mem.object", label="Poll"),
    want("mem.field.Poll.answer", "mem.field", depends_on=("mem.object.Poll",), type="Text"),
    want("mem.field.Poll.score", "mem.field", depends_on=("mem.object.Poll",), type="Number"),
    want("mem.field.Lead.score", "mem.field", type="Number"),
    want("mem.set.Integration", "mem.set", depends_on=("mem.field.Poll.answer", "mem.field.Lead.score"), v=1),
]


def addresses(patterns: list[str]) -> list[str]:
    return [d.address for d in select_targets(DESIRED, patterns)]


def test_an_address_brings_what_it_depends_on():
    assert addresses(["mem.field.Poll.answer"]) == ["mem.object.Poll", "mem.field.Poll.answer"]


def test_dependencies_are_followed_transitively():
    assert addresses(["mem.set.Integration"]) == ["mem.object.Poll", "mem.field.Poll.answer",
                                                  "mem.field.Lead.score", "mem.set.Integration"]


def test_globs_and_kinds_select_several():
    assert addresses(["mem.field.*.score"]) == ["mem.object.Poll", "mem.field.Poll.score", "mem.field.Lead.score"]
    assert addresses(["mem.object"]) == ["mem.object.Poll"]
    assert addresses(["mem.object.Poll", "mem.field.Lead.*"]) == ["mem.object.Poll", "mem.field.Lead.score"]


def test_a_pattern_matching_nothing_is_an_error_naming_it():
    with pytest.raises(TargetError, match=r"--target mem\.nothing\.\* matches no address"):
        select_targets(DESIRED, ["mem.field.Lead.score", "mem.nothing.*"])


def test_a_targeted_plan_covers_only_those_addresses():
    kinds = [MemKind("mem.object"), MemKind("mem.field", depends_on=("mem.object",)),
             MemKind("mem.set", depends_on=("mem.field",))]
    plan = make_plan(kinds, select_targets(DESIRED, ["mem.field.Poll.score"]), {"mem": Store()})
    assert [c.address for c in plan.changes] == ["mem.object.Poll", "mem.field.Poll.score"]
