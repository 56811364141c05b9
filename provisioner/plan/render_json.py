"""The JSON form of a plan (``plan --format json`` and plan files): Terraform's resource_changes shape.

Sensitive attribute values are written as ``(sensitive)``, in before, after and diff alike.
"""

from __future__ import annotations

from typing import Any

from .plan import Plan
from .redact import redact_attributes, redact_diff
from .resource import Change

FORMAT_VERSION = "1.0"


def change_to_json(change: Change) -> dict[str, Any]:
    """One entry of ``resource_changes``."""
    name = change.address[len(change.kind) + 1:] if change.address.startswith(change.kind + ".") else change.address
    return {
        "address": change.address,
        "type": change.kind,
        "name": name,
        "change": {
            "actions": list(change.actions),
            "before": redact_attributes(change.before, change.sensitive),
            "after": redact_attributes(change.after, change.sensitive),
        },
        "diff": [
            {"path": d.path, "op": d.op, "old": d.old, "new": d.new}
            for d in redact_diff(change.diff, change.sensitive)
        ],
        "reason": change.reason,
        "instructions": list(change.instructions),
        "info": dict(change.info),
        "depends_on": list(change.depends_on),
        "sensitive": sorted(change.sensitive),
        "location": _location(change.location),
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The whole plan as a JSON-serialisable dict (what ``plan --out`` writes)."""
    return {
        "format_version": FORMAT_VERSION,
        "tool": plan.tool,
        "created_at": plan.created_at,
        "manifests": list(plan.manifests),
        "targets": list(plan.targets),
        "org": {p: dict(ids) for p, ids in plan.org.items()},
        "fingerprint": plan.fingerprint,
        "address_digests": dict(plan.address_digests),
        "resource_changes": [change_to_json(c) for c in plan.changes],
        "summary": plan.summary.as_dict(),
    }


def _location(location: Any) -> str | None:
    """``file:line:column`` text for a location, or None."""
    if location is None:
        return None
    if isinstance(location, str):
        return location
    return f"{getattr(location, 'file', '?')}:{getattr(location, 'line', '?')}:{getattr(location, 'column', '?')}"
