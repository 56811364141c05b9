"""Apply order: kinds after the kinds they depend on, resources in waves after their dependencies — no
empty waves (each wave is one batched apply call), ties in the given order, cycles named."""

from __future__ import annotations

import pytest

from provisioner.plan.errors import PlanError
from provisioner.plan.ordering import order_addresses, order_kinds


def test_kinds_come_after_their_dependencies_and_otherwise_keep_the_given_order() -> None:
    deps = {"field": ["object"], "status": ["campaign"], "object": [], "campaign": [], "perms": ["field", "other"]}
    assert order_kinds(deps) == ["object", "field", "campaign", "status", "perms"]
    assert order_kinds({"a": ["a"], "b": ["not-managed"]}) == ["a", "b"]  # itself and unmanaged kinds ignored


def test_waves_put_each_resource_after_its_dependencies_without_empty_waves() -> None:
    addresses = ["obj.B", "obj.A", "field.A.x", "field.B.y", "perm"]
    deps = {"field.A.x": ["obj.A"], "field.B.y": ["obj.B", "gone"], "perm": ["field.A.x", "field.B.y", "perm"]}
    assert order_addresses(addresses, deps) == [["obj.B", "obj.A"], ["field.A.x", "field.B.y"], ["perm"]]
    assert order_addresses(["x", "y"], {}) == [["x", "y"]]  # no dependencies: one wave, one call
    assert order_addresses([], {}) == []


def test_a_cycle_is_an_error_naming_it() -> None:
    with pytest.raises(PlanError, match=r"dependency cycle among resources: a -> b -> a"):
        order_addresses(["a", "b"], {"a": ["b"], "b": ["a"]})
    with pytest.raises(PlanError, match=r"dependency cycle among resource kinds: k1 -> k2 -> k1"):
        order_kinds({"k1": ["k2"], "k2": ["k1"]})
