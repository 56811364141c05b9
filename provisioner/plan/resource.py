"""The resource vocabulary every provider and the plan engine share.

A provider turns manifests into :class:`Desired` resources, reads :class:`Live` state for
them, and applies :class:`Change` objects, returning one :class:`Result` per address.
Nothing here knows HTTP; a kind receives whatever connection object its provider made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
MANUAL = "manual"
NO_OP = "no-op"

#: The action lists a Change may carry (Terraform's ``change.actions`` values, plus manual).
ACTION_LISTS: tuple[tuple[str, ...], ...] = (
    (CREATE,),
    (UPDATE,),
    (DELETE,),
    (DELETE, CREATE),
    (MANUAL,),
    (NO_OP,),
)

PRESENT = "present"
ABSENT = "absent"


@dataclass(frozen=True)
class Location:
    """Where a resource was declared, for messages such as ``kaltura.yaml:12:5``."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Desired:
    """One resource as the manifests want it, in normalised manifest terms."""

    address: str
    kind: str
    attributes: dict[str, Any]
    ensure: str = PRESENT
    depends_on: tuple[str, ...] = ()
    location: Any = None
    sensitive: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.ensure not in (PRESENT, ABSENT):
            raise ValueError(f"{self.address}: ensure must be 'present' or 'absent', not {self.ensure!r}")


@dataclass
class Live:
    """One resource as the org holds it; ``attributes`` is None when it does not exist."""

    address: str
    attributes: dict[str, Any] | None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        """True when the resource exists in the org."""
        return self.attributes is not None


@dataclass(frozen=True)
class AttributeChange:
    """One changed attribute: a readable path (``fields[entry_id].type``), old and new value.

    ``op`` is ``add`` (old is absent), ``remove`` (new is absent) or ``update``.
    """

    path: str
    old: Any
    new: Any
    op: str = UPDATE

    @property
    def attribute(self) -> str:
        """The top-level attribute name the path starts with (``fields`` for ``fields[x].type``)."""
        end = len(self.path)
        for sep in (".", "["):
            pos = self.path.find(sep)
            if pos != -1:
                end = min(end, pos)
        return self.path[:end]


@dataclass
class Change:
    """What the plan will do to one address, and why."""

    address: str
    kind: str
    actions: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    diff: list[AttributeChange] = field(default_factory=list)
    reason: str | None = None
    instructions: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    sensitive: frozenset[str] = frozenset()
    location: Any = None

    def __post_init__(self) -> None:
        if tuple(self.actions) not in ACTION_LISTS:
            raise ValueError(f"{self.address}: unknown actions {self.actions!r}")

    @property
    def action(self) -> str:
        """One word for the change: create, update, delete, replace, manual or no-op."""
        if self.actions == [DELETE, CREATE]:
            return "replace"
        return self.actions[0]

    @property
    def requires_destroy(self) -> bool:
        """True for deletes and replaces: apply needs ``allow_destroy``."""
        return DELETE in self.actions

    @property
    def is_no_op(self) -> bool:
        """True when nothing is to be done."""
        return self.actions == [NO_OP]

    @property
    def is_manual(self) -> bool:
        """True when a human must act; the engine never applies it."""
        return self.actions == [MANUAL]


@dataclass
class Result:
    """The outcome of applying one change. The engine sets ``action`` to the change's action."""

    address: str
    ok: bool
    action: str
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ResourceKind(Protocol):
    """One kind of resource a provider manages (a field, a status, a custom object, ...).

    Optional members the engine looks for: ``classify(desired, live) -> Change`` (defaults to
    :func:`provisioner.plan.classify.classify_default`) and ``list_keys: dict[str, str]``
    (lists of dicts matched by key in the default diff, e.g. ``{"fields": "name"}``),
    ``prepare(conn, changes) -> None`` (called for every kind with changes before any kind applies;
    raising fails that kind's changes, e.g. a missing API permission named before the first write)
    and ``calls_for(changes) -> int`` (the API calls ``apply`` makes for these changes, for the
    forecast: see :mod:`provisioner.plan.forecast`).
    """

    name: str
    depends_on: tuple[str, ...]

    def read(self, conn: Any, desired: list[Desired]) -> dict[str, Live]:
        """Live state for every desired address, batched to the API maximum."""
        ...

    def apply(self, conn: Any, changes: list[Change]) -> list[Result]:
        """Apply changes (batched); return one Result per address."""
        ...


def provider_of(kind_name: str) -> str:
    """The provider prefix of a kind name: ``salesforce`` for ``salesforce.field``."""
    return kind_name.split(".", 1)[0]
