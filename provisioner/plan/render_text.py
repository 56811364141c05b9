"""Human-readable plans and apply reports, in Terraform's look.

Colour only when the caller asks (the CLI decides by isatty); sensitive values are always
shown as ``(sensitive)``.
"""

from __future__ import annotations

import json
from typing import Any

from .plan import Plan
from .redact import SENSITIVE, redact_attributes, redact_diff
from .report import ApplyReport
from .resource import AttributeChange, Change, Result

NO_CHANGES = "No changes. Your org matches the manifests."

_SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "manual": "!"}
_LEGEND = {"create": "create", "update": "update in place", "replace": "delete, then create", "delete": "delete", "manual": "manual step"}
_GROUP = {"create": "Create", "update": "Update", "replace": "Replace", "delete": "Delete", "manual": "Manual"}
_ORDER = ("create", "update", "replace", "delete", "manual")
_COLOUR = {"create": "32", "update": "33", "delete": "31", "replace": "31", "manual": "35", "ok": "32", "bad": "31"}
_PAST = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced"}
_KIND_VERB = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete",
              "manual": "manual"}
_INDENT = "      "


def render_plan(plan: Plan, color: bool = False, compact: bool = False) -> str:
    """The plan as text: the ``Plan:`` line and a summary per resource kind first, then each change.

    ``compact`` puts a created resource on one line and shows only the changed attributes of a
    replaced one (the full plan lists every attribute of both).
    """
    pending = plan.pending
    if not pending:
        return NO_CHANGES + "\n"
    used = [a for a in _ORDER if any(c.action == a for c in pending)]
    lines = [_bold(_summary_line(plan), color)]
    if plan.targets:
        lines.append(f"Targeted: {', '.join(plan.targets)} (and what they depend on); other addresses not planned.")
    lines += ["", "By resource kind:"] + _kind_lines(pending)
    lines += ["", "Resource actions are indicated with the following symbols:"]
    lines += [f"  {_symbol(a, color)} {_LEGEND[a]}" for a in used]
    lines += ["", "Provisioner will perform the following actions:"]
    previous: list[str] = []
    for change in pending:
        block = _change_lines(change, color, compact)
        if not (compact and len(block) == 1 and len(previous) == 1):  # one-liners stay together
            lines.append("")
        lines += block
        previous = block
    lines += ["", _bold(_summary_line(plan), color)]
    return "\n".join(lines) + "\n"


def _kind_lines(pending: list[Change]) -> list[str]:
    """``  salesforce.field   12 to create, 1 to replace`` per kind, in apply order."""
    counts: dict[str, dict[str, int]] = {}
    for change in pending:
        per_kind = counts.setdefault(change.kind, {})
        per_kind[change.action] = per_kind.get(change.action, 0) + 1
    width = max(len(kind) for kind in counts)
    return [f"  {kind:<{width}}  " + ", ".join(f"{n} {_KIND_VERB[a]}" for a in _ORDER if (n := per_kind.get(a)))
            for kind, per_kind in counts.items()]


def render_change(change: Change, color: bool = False) -> str:
    """One change's block of lines (what ``render_plan`` prints per address)."""
    return "\n".join(_change_lines(change, color, False)) + "\n"


def _summary_line(plan: Plan) -> str:
    """``Plan: 1 to add, 2 to change, 0 to destroy.`` with ``, N manual`` only when any."""
    s = plan.summary
    text = f"Plan: {s.add} to add, {s.change} to change, {s.destroy} to destroy"
    if s.manual:
        text += f", {s.manual} manual"
    return text + "."


def _change_lines(change: Change, color: bool, compact: bool) -> list[str]:
    """Address line, then attributes (create), changed attributes (and, for a replace, the unchanged
    ones too unless ``compact``), reason and instructions. ``compact`` puts a create on one line."""
    action = change.action
    head = f"{_symbol(action, color)} {change.address}"
    notes = _notes(change.info)
    if compact and action == "create":
        shown = sum(1 for v in (change.after or {}).values() if v is not None)
        notes = "; ".join(n for n in (notes, f"{shown} attribute{'' if shown == 1 else 's'}") if n)
    lines = [head + (f" ({notes})" if notes else "")]
    if change.reason:
        lines.append(f"{_INDENT}reason: {change.reason}")
    if action == "create" and not compact:
        after = redact_attributes(change.after, change.sensitive) or {}
        for name, value in after.items():
            if value is None:  # an unset optional attribute says nothing to a reviewer
                continue
            lines += _attribute_lines(name, value, name in change.sensitive, color)
    elif action in ("update", "replace", "manual"):
        for diff in redact_diff(change.diff, change.sensitive):
            lines.append(_diff_line(diff, diff.attribute in change.sensitive, color))
        if action == "replace" and not compact:
            lines += _unchanged_lines(change)
    if change.instructions:
        lines.append(f"{_INDENT}to do by hand:")
        lines += [f"{_INDENT}  {i}. {step}" for i, step in enumerate(change.instructions, 1)]
    return lines


def _unchanged_lines(change: Change) -> list[str]:
    """``  name: value`` for each attribute a replace recreates as it is (no symbol: not a change)."""
    changed = {d.attribute for d in change.diff}
    after = redact_attributes(change.after, change.sensitive) or {}
    return [f"{_INDENT}  {name}: {_value(value, name in change.sensitive)}"
            for name, value in after.items() if name not in changed and value is not None]


def _attribute_lines(name: str, value: Any, sensitive: bool, color: bool) -> list[str]:
    """``+ name: value``; a list of objects gets one line per entry."""
    plus = _paint("+", "create", color)
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        return [f"{_INDENT}{plus} {name}:"] + [f"{_INDENT}    - {_value(v, False)}" for v in value]
    return [f"{_INDENT}{plus} {name}: {_value(value, sensitive)}"]


def _diff_line(diff: AttributeChange, sensitive: bool, color: bool) -> str:
    """``~ path: old → new``, ``+ path: new`` or ``- path: old``."""
    if diff.op == "add":
        return f"{_INDENT}{_paint('+', 'create', color)} {diff.path}: {_value(diff.new, sensitive)}"
    if diff.op == "remove":
        return f"{_INDENT}{_paint('-', 'delete', color)} {diff.path}: {_value(diff.old, sensitive)}"
    old, new = _value(diff.old, sensitive), _value(diff.new, sensitive)
    return f"{_INDENT}{_paint('~', 'update', color)} {diff.path}: {old} → {new}"


def _value(value: Any, sensitive: bool) -> str:
    """A value as compact JSON (strings quoted, so spaces show); sensitive ones as ``(sensitive)``."""
    if sensitive:
        return SENSITIVE
    return _JSON.encode(value)


#: One encoder for every value (json.dumps with options builds a new one per call: a plan of 1,000 sessions
#: renders some 40,000 values).
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


def _notes(info: dict[str, Any]) -> str:
    """Live facts worth knowing before applying, e.g. ``object holds 1,234 records``."""
    notes = []
    for key, value in info.items():
        if key == "records" and isinstance(value, int):
            notes.append(f"object holds {value:,} record{'' if value == 1 else 's'}")
        elif key == "values" and isinstance(value, int):
            notes.append(f"{value:,} record{' holds' if value == 1 else 's hold'} a value")
        else:
            notes.append(f"{key}: {value}")
    return "; ".join(notes)


def render_result(result: Result, color: bool = False) -> str:
    """One apply result: ``✓ address created`` or ``✗ address: message``."""
    if result.ok:
        verb = _PAST.get(result.action, result.action)
        return f"{_paint('✓', 'ok', color)} {result.address} {verb}" + (f" ({result.message})" if result.message else "")
    return f"{_paint('✗', 'bad', color)} {result.address}: {result.message or 'failed'}"


def render_apply_report(report: ApplyReport, color: bool = False, include_results: bool = True) -> str:
    """Per-resource results, manual steps left to do, and the closing ``Apply ...`` line.

    Pass ``include_results=False`` when the results were already printed as they came.
    """
    lines = [render_result(r, color) for r in report.results] if include_results else []
    for change in report.manual:
        lines.append(f"{_paint('!', 'manual', color)} {change.address}: needs a manual step"
                     + (f": {change.reason}" if change.reason else ""))
        lines += [f"    {i}. {step}" for i, step in enumerate(change.instructions, 1)]
    counts = f"Resources: {report.added} added, {report.changed} changed, {report.destroyed} destroyed."
    if report.ok:
        closing = f"Apply complete! {counts}"
    else:
        skipped = len(report.skipped)
        failed = len(report.failed) - skipped
        closing = f"Apply finished with errors: {failed} failed, {skipped} skipped. {counts}"
    if report.manual:
        closing += f" {len(report.manual)} manual step{'' if len(report.manual) == 1 else 's'} left to do."
    if lines:
        lines.append("")
    lines.append(_bold(closing, color))
    return "\n".join(lines) + "\n"


def _symbol(action: str, color: bool) -> str:
    """The action's symbol right-aligned to three columns (``  +``, ``-/+``), coloured if asked."""
    symbol = _SYMBOL[action]
    return " " * (3 - len(symbol)) + _paint(symbol, action, color)


def _paint(text: str, action: str, color: bool) -> str:
    """Wrap ``text`` in the action's ANSI colour when colour is on."""
    return f"\x1b[{_COLOUR[action]}m{text}\x1b[0m" if color else text


def _bold(text: str, color: bool) -> str:
    """Bold when colour is on."""
    return f"\x1b[1m{text}\x1b[0m" if color else text
