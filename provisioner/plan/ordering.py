"""Apply order: kinds topologically by their ``depends_on``, then addresses inside a kind.

Inside a kind, changes are grouped into waves: a wave holds changes whose dependencies are
all in earlier waves, so each wave is one batched ``kind.apply`` call and a failure in one
wave can skip its dependents in the next. Without inner dependencies a kind is one wave.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from .errors import PlanError


def order_kinds(kind_deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Kind names so that every kind comes after the kinds it depends on.

    Ties keep the given order; dependencies on kinds not given are ignored (not managed here).
    """
    names = list(kind_deps)
    deps = {n: [d for d in kind_deps[n] if d in kind_deps and d != n] for n in names}
    return _topological(names, deps, "resource kinds")


def order_addresses(addresses: Sequence[str], deps: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Waves of addresses: each address comes in a later wave than those it depends on.

    Only dependencies among ``addresses`` count. Order inside a wave follows ``addresses``.
    """
    known = set(addresses)
    inner = {a: [d for d in deps.get(a, ()) if d in known and d != a] for a in addresses}
    flat = _topological(list(addresses), inner, "resources")
    level: dict[str, int] = {}
    for address in flat:
        level[address] = 1 + max((level[d] for d in inner[address]), default=-1)
    waves: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for address in addresses:
        waves[level[address]].append(address)
    return waves


def _topological(names: list[str], deps: Mapping[str, list[str]], what: str) -> list[str]:
    """Depth-first topological sort that keeps the given order where it can; cycles raise."""
    done: set[str] = set()
    visiting: list[str] = []
    out: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise PlanError(f"dependency cycle among {what}: " + " -> ".join(cycle))
        visiting.append(name)
        for dep in deps[name]:
            visit(dep)
        visiting.pop()
        done.add(name)
        out.append(name)

    for name in names:
        visit(name)
    return out
