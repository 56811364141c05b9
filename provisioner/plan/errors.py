"""Errors the plan engine raises; each message says what is wrong and what to do."""

from __future__ import annotations

from typing import Sequence


class PlanError(Exception):
    """A plan cannot be made or applied (unknown kind, dependency cycle, missing connection...)."""


class StalePlanError(PlanError):
    """Live state (or the manifests) changed since the plan was made."""

    def __init__(self, addresses: Sequence[str], what: str = "live state") -> None:
        self.addresses = list(addresses)
        listed = "\n".join(f"  {a}" for a in self.addresses)
        super().__init__(
            f"The plan is stale: the {what} changed since it was made, for:\n{listed}\n"
            "Nothing was applied. Run plan again."
        )


class WrongOrgError(PlanError):
    """A saved plan was made against other orgs than the credentials now point at."""

    def __init__(self, differences: Sequence[str]) -> None:
        self.differences = list(differences)
        listed = "\n".join(f"  {d}" for d in self.differences)
        super().__init__(
            f"The plan was made for another org:\n{listed}\n"
            "Nothing was applied. Point the credentials at the org the plan was made for, or plan again."
        )


class DestroyNotAllowedError(PlanError):
    """The plan deletes or replaces resources and apply was not given allow_destroy."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = list(addresses)
        listed = "\n".join(f"  {a}" for a in self.addresses)
        super().__init__(
            f"The plan deletes or replaces {len(self.addresses)} resource(s):\n{listed}\n"
            "Nothing was applied. Re-run apply with --allow-destroy to allow it."
        )


class PlanFileError(PlanError):
    """A plan file cannot be read: missing, corrupt, or not a provisioner plan."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class MissingReferencesError(PlanError):
    """Resources of the plan refer to things that neither exist in the org nor are created by the plan.

    ``plan`` is the plan as far as it was made, so a caller can still show it.
    """

    def __init__(self, missing: Sequence["MissingReference"], plan: object = None) -> None:
        self.missing = list(missing)
        self.plan = plan
        listed = "\n".join(f"  {m}" for m in self.missing)
        super().__init__(
            f"{len(self.missing)} reference(s) cannot be resolved in the org:\n{listed}\n"
            "Nothing was applied. Create what is missing (or declare it in a manifest of this plan), then plan again."
        )


class MissingReference:
    """One unresolved reference: the address that needs it, what is missing, and what to do."""

    def __init__(self, address: str, missing: str, hint: str = "", location: object = None) -> None:
        self.address, self.missing, self.hint, self.location = address, missing, hint, location

    def __str__(self) -> str:
        loc = self.location
        where = f"{getattr(loc, 'file', '?')}:{getattr(loc, 'line', '?')}:{getattr(loc, 'column', '?')}: " \
            if loc is not None and not isinstance(loc, (str, dict)) else ""
        return f"{where}{self.address}: {self.missing}" + (f" (hint: {self.hint})" if self.hint else "")
