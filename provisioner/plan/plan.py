"""The Plan: every change for the desired addresses, plus the live-state fingerprint it was made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .resource import ABSENT, PRESENT, Change, Desired


@dataclass(frozen=True)
class Summary:
    """Counts as Terraform reports them: a replace counts once in add and once in destroy."""

    add: int
    change: int
    destroy: int
    manual: int

    def as_dict(self) -> dict[str, int]:
        """The summary as the plan file writes it."""
        return {"add": self.add, "change": self.change, "destroy": self.destroy, "manual": self.manual}


@dataclass
class Plan:
    """Changes in apply order (no-ops included), and the state they were computed against.

    ``redacted`` is True for a plan read from a file whose sensitive values were masked; such a
    plan cannot be applied as it is (see :func:`provisioner.plan.engine.apply_saved_plan`).
    ``targets`` are the ``--target`` patterns the plan was limited to (see :mod:`.target`).
    """

    changes: list[Change]
    fingerprint: str
    address_digests: dict[str, str]
    desired: list[Desired] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    created_at: str = ""
    tool: str = ""
    redacted: bool = False
    targets: list[str] = field(default_factory=list)  # --target patterns; empty means every address
    #: Which org each provider's connection works as: ``{"salesforce": {"organization_id", "user"},
    #: "marketo": {"instance", "user"}}``. A saved plan is applied only to the same orgs.
    org: Mapping[str, dict[str, str]] = field(default_factory=dict)

    @property
    def summary(self) -> Summary:
        """How many resources are added, changed, destroyed, and left to a human."""
        actions = [c.action for c in self.changes]
        return Summary(
            add=sum(a in ("create", "replace") for a in actions),
            change=actions.count("update"),
            destroy=sum(a in ("delete", "replace") for a in actions),
            manual=actions.count("manual"),
        )

    @property
    def has_changes(self) -> bool:
        """True when anything is to be done, manual steps included."""
        return any(not c.is_no_op for c in self.changes)

    @property
    def pending(self) -> list[Change]:
        """The changes that are not no-ops, in apply order."""
        return [c for c in self.changes if not c.is_no_op]

    def change_for(self, address: str) -> Change | None:
        """The change planned for ``address``, if the plan covers it."""
        return next((c for c in self.changes if c.address == address), None)


def desired_from_changes(changes: list[Change]) -> list[Desired]:
    """Rebuild the desired resources a plan covers (for re-reading a plan loaded from a file)."""
    out = []
    for c in changes:
        absent = c.actions == ["delete"] or (c.is_no_op and c.after is None)
        attributes: dict[str, Any] = dict(c.after or c.before or {}) if not absent else dict(c.before or {})
        out.append(
            Desired(
                address=c.address,
                kind=c.kind,
                attributes=attributes,
                ensure=ABSENT if absent else PRESENT,
                depends_on=tuple(c.depends_on),
                location=c.location,
                sensitive=frozenset(c.sensitive),
            )
        )
    return out


def exit_code_for_plan(plan: Plan, detailed: bool) -> int:
    """0 when nothing changes or not ``detailed``; 2 when detailed and there are changes (manual counts)."""
    return 2 if detailed and plan.has_changes else 0
