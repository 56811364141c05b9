"""``--target ADDRESS``: plan (and apply) only some addresses, and what they depend on.

Like Terraform's ``-target``: a targeted resource brings along every resource it depends on
(transitively), so applying it cannot fail for want of its object or field. Patterns are
shell-style globs over addresses (``salesforce.field.CampaignMember.*``); a kind's name
(``salesforce.field``) selects every address of that kind.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Sequence

from .errors import PlanError
from .resource import Desired


class TargetError(PlanError):
    """A --target pattern that matches no address of the manifests."""


def matches(address: str, kind: str, pattern: str) -> bool:
    """True when ``pattern`` names this address, globs over it, or names its kind."""
    return pattern == kind or fnmatchcase(address, pattern)


def select_targets(desired: Sequence[Desired], patterns: Sequence[str]) -> list[Desired]:
    """The desired resources ``patterns`` match plus everything they depend on, in their original order."""
    unmatched = [p for p in patterns if not any(matches(d.address, d.kind, p) for d in desired)]
    if unmatched:
        raise TargetError(f"--target {', '.join(unmatched)} matches no address in the manifests")
    by_address = {d.address: d for d in desired}
    keep: set[str] = set()
    stack = [d.address for d in desired if any(matches(d.address, d.kind, p) for p in patterns)]
    while stack:
        address = stack.pop()
        if address in keep:
            continue
        keep.add(address)
        stack.extend(dep for dep in by_address[address].depends_on if dep in by_address)
    return [d for d in desired if d.address in keep]
