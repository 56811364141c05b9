"""Attribute diffs with readable paths, built on deepdiff.

Lists of dicts named in ``list_keys`` are matched by a key field (so reordering them is not
a change and paths read ``fields[entry_id].type``). Any other list is compared in order and
reported as a whole (``dedupeFields: ["a"] → ["a", "b"]``), because order can matter (the
order of campaign member statuses does).
"""

from __future__ import annotations

from typing import Any, Mapping

from .resource import UPDATE, AttributeChange

ADD = "add"
REMOVE = "remove"

_ADDED = {"dictionary_item_added", "iterable_item_added", "attribute_added", "set_item_added"}
_REMOVED = {"dictionary_item_removed", "iterable_item_removed", "attribute_removed", "set_item_removed"}


class _Keyed(dict):
    """A list of dicts re-keyed by one of their fields; marks ``[key]`` steps in paths."""


class _Missing:
    """Stands for 'not there' while walking both sides of a path."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def keyed_diff(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    list_keys: Mapping[str, str] | None = None,
) -> list[AttributeChange]:
    """Changed attributes between ``before`` and ``after``, as readable paths.

    ``list_keys`` maps a list's attribute name (at any depth) to the field its entries are
    matched by, e.g. ``{"fields": "name", "statuses": "label"}``. Numbers compare by value
    (``18 == 18.0``). The result is ordered by top-level attribute (as ``after`` lists them),
    then by path.
    """
    if _same(dict(before or {}), dict(after or {})):  # most resources of a plan: no need for deepdiff at all
        return []
    from deepdiff import DeepDiff  # imported here: a converged plan never pays for it (about 0.1 s of CPU)

    keys = dict(list_keys or {})
    left = _rekey(dict(before or {}), keys)
    right = _rekey(dict(after or {}), keys)
    # threshold_to_diff_deeper=0: deepdiff would otherwise report a dict sharing few keys with its old self
    # (``{}`` before two attributes, say) as one change of the whole, with the empty path ``""``.
    tree = DeepDiff(left, right, view="tree", ignore_numeric_type_changes=True, threshold_to_diff_deeper=0).tree

    found: dict[str, AttributeChange] = {}
    for report_type, levels in tree.items():
        for level in levels:
            steps = level.path(output_format="list")
            path, depth = _readable_path(steps, left, right)
            old = _unkey(_lookup(left, steps[:depth]))
            new = _unkey(_lookup(right, steps[:depth]))
            if depth == len(steps) and report_type in _ADDED:
                op = ADD
            elif depth == len(steps) and report_type in _REMOVED:
                op = REMOVE
            else:
                op = ADD if old is _MISSING else REMOVE if new is _MISSING else UPDATE
            found[path] = AttributeChange(
                path=path,
                old=None if old is _MISSING else old,
                new=None if new is _MISSING else new,
                op=op,
            )

    order = {name: i for i, name in enumerate(list(right) + [k for k in left if k not in right])}
    return sorted(found.values(), key=lambda c: (order.get(c.attribute, len(order)), c.path))


def _same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are equal as :func:`keyed_diff` compares: numbers by value (``18 == 18.0``), a bool
    only to a bool, anything else only to its own type. False means "ask deepdiff", never "they differ"."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def _rekey(value: Any, list_keys: Mapping[str, str]) -> Any:
    """Copy ``value`` with every keyed list replaced by a :class:`_Keyed` dict."""
    if isinstance(value, dict):
        return {name: _rekey_child(name, child, list_keys) for name, child in value.items()}
    if isinstance(value, list):
        return [_rekey(item, list_keys) for item in value]
    return value


def _rekey_child(name: str, value: Any, list_keys: Mapping[str, str]) -> Any:
    """Re-key ``value`` when it is a list named in ``list_keys`` whose entries all carry a unique key."""
    key = list_keys.get(name)
    if key and isinstance(value, list) and all(isinstance(e, dict) and key in e for e in value):
        entry_keys = [str(e[key]) for e in value]
        if len(set(entry_keys)) == len(entry_keys):
            return _Keyed((k, _rekey(e, list_keys)) for k, e in zip(entry_keys, value))
    return _rekey(value, list_keys)


def _unkey(value: Any) -> Any:
    """Undo :func:`_rekey`, giving back plain dicts and lists in their original order."""
    if value is _MISSING:
        return value
    if isinstance(value, _Keyed):
        return [_unkey(v) for v in value.values()]
    if isinstance(value, dict):
        return {k: _unkey(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unkey(v) for v in value]
    return value


def _readable_path(steps: list[Any], left: Any, right: Any) -> tuple[str, int]:
    """Render deepdiff path steps as ``a.b[key].c``; stop at the first plain list.

    Returns the text and how many steps it covers (fewer than ``len(steps)`` when the
    change lies inside a plain list, which is then reported whole).
    """
    text = ""
    for depth, step in enumerate(steps):
        container = left if left is not _MISSING else right
        if isinstance(container, list) and not isinstance(container, _Keyed):
            return text, depth
        if isinstance(container, _Keyed):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
        left, right = _child(left, step), _child(right, step)
    return text, len(steps)


def _child(container: Any, step: Any) -> Any:
    """``container[step]``, or the missing marker."""
    try:
        return container[step]
    except (KeyError, IndexError, TypeError):
        return _MISSING


def _lookup(root: Any, steps: list[Any]) -> Any:
    """Follow ``steps`` from ``root``; the missing marker when any step is absent."""
    for step in steps:
        root = _child(root, step)
        if root is _MISSING:
            break
    return root
