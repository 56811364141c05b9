"""Write and read plan files (``plan --out FILE``, ``apply FILE``, ``show FILE``).

Writing is atomic: a temporary file in the same folder, then a rename, so a crash never
leaves half a plan. Reading checks the shape and says what is wrong with a corrupt or
foreign file (:class:`PlanFileError`), never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import PlanFileError
from .plan import Plan, desired_from_changes
from .redact import SENSITIVE
from .render_json import FORMAT_VERSION, plan_to_json
from .resource import ACTION_LISTS, AttributeChange, Change


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write ``plan`` as JSON to ``path`` atomically; sensitive values are masked."""
    target = Path(path)
    text = json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan file written by :func:`write_plan`; raise PlanFileError saying what is wrong."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFileError(name, "no such file") from None
    except IsADirectoryError:
        raise PlanFileError(name, "is a folder, not a plan file") from None
    except UnicodeDecodeError:
        raise PlanFileError(name, "not a plan file (not UTF-8 text)") from None
    except OSError as exc:
        raise PlanFileError(name, f"cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(name, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return plan_from_json(data, name)


def plan_from_json(data: Any, name: str = "<plan>") -> Plan:
    """Build a Plan from the dict :func:`plan_to_json` made; ``name`` is used in error messages."""
    if not isinstance(data, dict) or "resource_changes" not in data or "format_version" not in data:
        raise PlanFileError(name, "not a provisioner plan (no format_version/resource_changes)")
    tool = data.get("tool")
    if not isinstance(tool, str) or not tool.startswith("provisioner"):
        raise PlanFileError(name, f"not a provisioner plan (written by {tool or 'an unknown tool'!s})")
    version = str(data["format_version"])
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise PlanFileError(name, f"plan format {version} is not supported (this provisioner reads {FORMAT_VERSION})")
    fingerprint = data.get("fingerprint")
    digests = data.get("address_digests")
    if not isinstance(fingerprint, str) or not isinstance(digests, dict):
        raise PlanFileError(name, "the plan has no live-state fingerprint")
    entries = data["resource_changes"]
    if not isinstance(entries, list):
        raise PlanFileError(name, "resource_changes must be a list")
    changes = [_change_from_json(entry, i, name) for i, entry in enumerate(entries)]
    manifests = data.get("manifests") or []
    redacted = any(_has_masked(c) for c in changes)
    targets = data.get("targets") or []
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise PlanFileError(name, "targets must be a list of address patterns")
    org = data.get("org") or {}
    if not isinstance(org, dict) or not all(isinstance(v, dict) for v in org.values()):
        raise PlanFileError(name, "org must map each provider to its organization's ids")
    return Plan(
        changes=changes,
        fingerprint=fingerprint,
        address_digests={str(k): str(v) for k, v in digests.items()},
        desired=desired_from_changes(changes),
        manifests=[str(m) for m in manifests] if isinstance(manifests, list) else [],
        created_at=str(data.get("created_at", "")),
        tool=tool,
        redacted=redacted,
        targets=list(targets),
        org={str(p): {str(k): str(v) for k, v in ids.items()} for p, ids in org.items()},
    )


def _change_from_json(entry: Any, index: int, name: str) -> Change:
    """One resource_changes entry back into a Change, checking the fields the engine relies on."""
    where = f"resource_changes[{index}]"
    if not isinstance(entry, dict):
        raise PlanFileError(name, f"{where} is not an object")
    address, kind, change = entry.get("address"), entry.get("type"), entry.get("change")
    if not isinstance(address, str) or not isinstance(kind, str) or not isinstance(change, dict):
        raise PlanFileError(name, f"{where} needs address, type and change")
    actions = change.get("actions")
    if not isinstance(actions, list) or tuple(actions) not in ACTION_LISTS:
        raise PlanFileError(name, f"{where} ({address}) has unknown actions {actions!r}")
    before, after = change.get("before"), change.get("after")
    if not (before is None or isinstance(before, dict)) or not (after is None or isinstance(after, dict)):
        raise PlanFileError(name, f"{where} ({address}): before and after must be objects or null")
    diff = [
        _diff_from_json(d, f"{where} ({address}) diff[{i}]", name)
        for i, d in enumerate(_list(entry, "diff", where, name))
    ]
    reason = entry.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise PlanFileError(name, f"{where} ({address}): reason must be text")
    if not isinstance(entry.get("info") or {}, dict):
        raise PlanFileError(name, f"{where} ({address}): info must be an object")
    try:
        return Change(
            address=address,
            kind=kind,
            actions=list(actions),
            before=before,
            after=after,
            diff=diff,
            reason=reason,
            instructions=[str(s) for s in _list(entry, "instructions", where, name)],
            info=dict(entry.get("info") or {}),
            depends_on=tuple(str(a) for a in _list(entry, "depends_on", where, name)),
            sensitive=frozenset(str(s) for s in _list(entry, "sensitive", where, name)),
            location=entry.get("location"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFileError(name, f"{where} ({address}) is malformed: {exc}") from None


def _list(entry: dict[str, Any], key: str, where: str, name: str) -> list[Any]:
    """An optional list field of an entry; anything else than a list or null is an error."""
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PlanFileError(name, f"{where}: {key} must be a list")
    return value


def _diff_from_json(data: Any, where: str, name: str) -> AttributeChange:
    """One diff entry: ``{"path": text, "op": add|remove|update, "old": .., "new": ..}``."""
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise PlanFileError(name, f"{where} needs a path")
    op = data.get("op", "update")
    if op not in ("add", "remove", "update"):
        raise PlanFileError(name, f"{where} has unknown op {op!r}")
    return AttributeChange(data["path"], data.get("old"), data.get("new"), op)


def _has_masked(change: Change) -> bool:
    """True when the file carries a masked sensitive value for this change."""
    return any(
        attrs is not None and any(attrs.get(k) == SENSITIVE for k in change.sensitive)
        for attrs in (change.before, change.after)
    )
