"""The engine's default classification, and helpers kinds use for their own rules.

A kind that needs replace or manual rules calls :func:`classify_default` and turns the
result into a replace or manual change with :func:`as_replace` or :func:`as_manual`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from .diff import keyed_diff
from .resource import ABSENT, CREATE, DELETE, MANUAL, NO_OP, UPDATE, Change, Desired, Live


def classify_default(desired: Desired, live: Live, list_keys: Mapping[str, str] | None = None) -> Change:
    """Create, update, delete or no-op for one address.

    Only attributes the manifest names are compared: a live attribute the manifest does not
    mention is left alone, as deletion is never implied by absence. ``after`` of an update
    is the live resource with the manifest's attributes laid over it.
    """
    base = dict(
        address=desired.address,
        kind=desired.kind,
        info=dict(live.info),
        depends_on=tuple(desired.depends_on),
        sensitive=frozenset(desired.sensitive),
        location=desired.location,
    )
    if desired.ensure == ABSENT:
        if live.attributes is None:
            return Change(actions=[NO_OP], before=None, after=None, **base)
        return Change(actions=[DELETE], before=dict(live.attributes), after=None, **base)
    if live.attributes is None:
        return Change(actions=[CREATE], before=None, after=dict(desired.attributes), **base)

    compared = {k: live.attributes[k] for k in desired.attributes if k in live.attributes}
    diff = keyed_diff(compared, desired.attributes, list_keys)
    after = {**live.attributes, **desired.attributes}
    actions = [UPDATE] if diff else [NO_OP]
    return Change(actions=actions, before=dict(live.attributes), after=after, diff=diff, **base)


def as_replace(change: Change, reason: str) -> Change:
    """The same change as a replacement (delete, then create), with the reason shown in the plan."""
    return replace(change, actions=[DELETE, CREATE], reason=reason)


def as_manual(change: Change, reason: str, instructions: Sequence[str]) -> Change:
    """The same change as a manual step: never applied, shown with numbered instructions."""
    return replace(change, actions=[MANUAL], reason=reason, instructions=list(instructions))


def changed_attributes(change: Change) -> set[str]:
    """Top-level attribute names an update touches, e.g. ``{"length", "fields"}``."""
    return {c.attribute for c in change.diff}


def classify_with(kind: Any, desired: Desired, live: Live) -> Change:
    """Classify with the kind's own ``classify`` when it has one, else the default."""
    custom = getattr(kind, "classify", None)
    if custom is not None:
        return custom(desired, live)
    return classify_default(desired, live, getattr(kind, "list_keys", None))
