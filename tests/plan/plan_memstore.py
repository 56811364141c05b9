"""A tiny in-memory provider for unit tests of the generic plan engine (not an org emulation).

The "connection" is a :class:`Store` (a dict of address → attributes); :class:`MemKind`
reads and writes it like a provider kind would, and records every call it gets.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from provisioner.plan import (
    Change,
    Desired,
    Live,
    Result,
    as_manual,
    as_replace,
    changed_attributes,
    classify_default,
)


class Store:
    """What the fake org holds, which addresses it refuses to change, and the calls it saw."""

    def __init__(self, objects: dict[str, dict[str, Any]] | None = None) -> None:
        self.objects: dict[str, dict[str, Any]] = copy.deepcopy(objects or {})
        self.info: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, str] = {}
        self.calls: list[tuple[str, str, list[str]]] = []

    def applied(self) -> list[str]:
        """Addresses passed to apply, in call order."""
        return [a for _, op, addrs in self.calls if op == "apply" for a in addrs]


class PlainKind:
    """One resource kind over a Store, classified by the engine's default rules (no ``classify``)."""

    def __init__(
        self,
        name: str,
        depends_on: Iterable[str] = (),
        list_keys: dict[str, str] | None = None,
        fixed: Iterable[str] = (),
        read_only: Iterable[str] = (),
        explode: bool = False,
    ) -> None:
        self.name = name
        self.depends_on = tuple(depends_on)
        self.list_keys = list_keys or {}
        self.fixed = set(fixed)
        self.read_only = set(read_only)
        self.explode = explode

    def read(self, conn: Store, desired: list[Desired]) -> dict[str, Live]:
        """Live state for the desired addresses; a missing key means 'does not exist'."""
        conn.calls.append((self.name, "read", [d.address for d in desired]))
        return {
            d.address: Live(d.address, copy.deepcopy(conn.objects[d.address]), dict(conn.info.get(d.address, {})))
            for d in desired
            if d.address in conn.objects
        }

    def apply(self, conn: Store, changes: list[Change]) -> list[Result]:
        """Write the changes into the store; addresses in ``conn.fail`` fail with their message."""
        conn.calls.append((self.name, "apply", [c.address for c in changes]))
        if self.explode:
            raise RuntimeError("connection reset by peer")
        results = []
        for c in changes:
            if c.address in conn.fail:
                results.append(Result(c.address, False, c.action, conn.fail[c.address]))
                continue
            if c.actions == ["delete"]:
                del conn.objects[c.address]
            else:
                conn.objects[c.address] = copy.deepcopy(c.after)
            results.append(Result(c.address, True, c.action))
        return results


class MemKind(PlainKind):
    """A kind with its own rules: ``fixed`` attributes force a replace, ``read_only`` a manual step."""

    def classify(self, desired: Desired, live: Live) -> Change:
        """The default rules, plus replace for fixed attributes and manual for read-only ones."""
        change = classify_default(desired, live, self.list_keys)
        touched = changed_attributes(change) if change.action == "update" else set()
        if touched & self.read_only:
            return as_manual(change, "statuses are read-only in the API", ["Open Admin > Tags", "Edit the channel"])
        if touched & self.fixed:
            return as_replace(change, "type is fixed at creation")
        return change


def want(address: str, kind: str, ensure: str = "present", depends_on: tuple[str, ...] = (),
         sensitive: Iterable[str] = (), **attributes: Any) -> Desired:
    """A Desired with less typing."""
    return Desired(address, kind, attributes, ensure=ensure, depends_on=depends_on, sensitive=frozenset(sensitive))
